"""Every topic, index and consumer group name, derived once from the namespace.

The stages (which agent reads which topic, what it may emit) are declared in
:mod:`processors.worker.topology`, checked against the topics and partitions here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    """Names of the Kafka topics and Elasticsearch indices of one namespace."""

    namespace: str

    @property
    def raw_topic(self) -> str:
        """Raw articles from producers."""
        return f"{self.namespace}.raw"

    @property
    def enriched_topic(self) -> str:
        """Enriched articles, before the Elasticsearch sink."""
        return f"{self.namespace}.enriched"

    @property
    def alerts_topic(self) -> str:
        """Fired alerts."""
        return f"{self.namespace}.alerts"

    @property
    def deadletter_topic(self) -> str:
        """Messages that can never be processed, with reasons."""
        return f"{self.namespace}.deadletter"

    @property
    def articles_index(self) -> str:
        """Article documents."""
        return f"{self.namespace}-articles"

    @property
    def alerts_index(self) -> str:
        """Alerts, for Kibana."""
        return f"{self.namespace}-alerts"

    @property
    def subscriptions_index(self) -> str:
        """Keyword alert subscriptions."""
        return f"{self.namespace}-subscriptions"

    @property
    def deadletter_index(self) -> str:
        """Dead letters, searchable."""
        return f"{self.namespace}-deadletter"

    @property
    def stories_index(self) -> str:
        """Story summaries."""
        return f"{self.namespace}-stories"

    @property
    def app_id(self) -> str:
        """Faust app id, which is also the consumer group."""
        return f"newsflow-{self.namespace}"

    # Internal topics between the stages. The two decision stages read ONE partition, so
    # that every copy of an article and every article of a story meet in one ordered stream.
    @property
    def dedup_topic(self) -> str:
        """Cleaned articles with their MinHash signatures, to the dedup decision (1 partition)."""
        return f"{self.namespace}.dedup"

    @property
    def work_topic(self) -> str:
        """First-seen articles, to NER."""
        return f"{self.namespace}.work"

    @property
    def duplicates_topic(self) -> str:
        """Duplicates, to take their enrichment from the first-seen copy."""
        return f"{self.namespace}.duplicates"

    @property
    def stories_topic(self) -> str:
        """Enriched articles, to the story decision (1 partition)."""
        return f"{self.namespace}.stories"

    @property
    def indexed_topic(self) -> str:
        """Articles the sink has just indexed (not the copies), to alert matching."""
        return f"{self.namespace}.indexed"

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics the project creates for a namespace."""
        return tuple(self.topic_partitions(1))

    def topic_partitions(self, partitions: int) -> dict[str, int]:
        """Every topic of the namespace with its partition count."""
        spread = (
            self.raw_topic,
            self.work_topic,
            self.duplicates_topic,
            self.enriched_topic,
            self.indexed_topic,
        )
        single = (self.dedup_topic, self.stories_topic)
        public = (self.alerts_topic, self.deadletter_topic)
        return {
            **{t: partitions for t in spread},
            **{t: 1 for t in single},
            **{t: partitions for t in public},
        }
