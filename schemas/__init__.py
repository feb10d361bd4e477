"""The wire and index contract of newsflow, as frozen pydantic models."""

from schemas.alert import Alert
from schemas.article import TOPIC_SLUGS, Article, Enrichment, Entity
from schemas.clean import CleanArticle
from schemas.deadletter import DeadLetter
from schemas.raw import RawArticle

__all__ = [
    "TOPIC_SLUGS",
    "Alert",
    "Article",
    "CleanArticle",
    "DeadLetter",
    "Enrichment",
    "Entity",
    "RawArticle",
]
