"""newsflow: event-driven streaming ingestion pipeline for news."""

__version__ = "0.1.0"
