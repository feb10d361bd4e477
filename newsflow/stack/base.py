"""What the stack needs to know of a service; Kafka and Elasticsearch fill it in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from newsflow.core.settings import Settings
from newsflow.stack.layout import Layout
from newsflow.stack.process import Launch


class LocalService(ABC):
    """A server process of the local stack, configured by the settings."""

    name: str  # on the command line and in file names (kafka-2: one node of a cluster)
    title: str  # in messages
    start_timeout: ClassVar[float]  # seconds from start to healthy on a slow machine

    def __init__(self, settings: Settings, layout: Layout) -> None:
        self.settings, self.layout = settings, layout

    @property
    @abstractmethod
    def version(self) -> str:
        """The version the settings ask for."""

    @property
    @abstractmethod
    def ports(self) -> dict[str, int]:
        """The ports it listens on, by role."""

    @property
    def logs(self) -> tuple[Path, ...]:
        """Where to look when it does not start (the first is its main log)."""
        return (self.layout.log_file(self.name),)

    @abstractmethod
    def fetch(self, progress: bool = True) -> list[Path]:
        """Download and verify its pinned artifacts; return their cached paths."""

    @abstractmethod
    def healthy(self) -> bool:
        """It answers on its port and can serve requests."""

    def settled(self) -> bool:
        """Healthy and done starting (a cluster: every replica allocated); waited for too."""
        return True

    @abstractmethod
    def prepare(self, java_home: Path) -> Launch:
        """Make it ready to run (unpack, configure, format) and say how to start it."""
