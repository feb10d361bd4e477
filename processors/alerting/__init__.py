"""Keyword alerts: queries, matching, throttling and channels."""
