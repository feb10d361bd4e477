"""Offline quality evaluations of newsflow's NLP stages, with their labelled data.

``python -m evaluation.quality``: entities, topics and language (see ``docs/QUALITY.md``).
"""
