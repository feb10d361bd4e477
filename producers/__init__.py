"""Producers: corpus replay and feeds, publishing raw articles to ``<ns>.raw``."""
