"""newsflow: event-driven streaming ingestion pipeline for news."""

__version__ = "0.2.0"
