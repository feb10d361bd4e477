"""Every topic, index, consumer group and stage name, derived once from the namespace."""

from __future__ import annotations

from dataclasses import dataclass

# Stage ids: the same string names the agent, the log field ``stage`` and metric labels.
STAGES = ("decode", "clean", "dedup", "nlp", "topics", "stories", "sink", "alerts")


@dataclass(frozen=True)
class Names:
    """Names of the Kafka topics and Elasticsearch indices of one namespace."""

    namespace: str

    @property
    def raw_topic(self) -> str:
        return f"{self.namespace}.raw"

    @property
    def enriched_topic(self) -> str:
        return f"{self.namespace}.enriched"

    @property
    def alerts_topic(self) -> str:
        return f"{self.namespace}.alerts"

    @property
    def deadletter_topic(self) -> str:
        return f"{self.namespace}.deadletter"

    @property
    def articles_index(self) -> str:
        return f"{self.namespace}-articles"

    @property
    def alerts_index(self) -> str:
        return f"{self.namespace}-alerts"

    @property
    def subscriptions_index(self) -> str:
        return f"{self.namespace}-subscriptions"

    @property
    def deadletter_index(self) -> str:
        return f"{self.namespace}-deadletter"

    @property
    def stories_index(self) -> str:
        return f"{self.namespace}-stories"

    @property
    def app_id(self) -> str:
        return f"newsflow-{self.namespace}"

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics the project creates for a namespace."""
        return (self.raw_topic, self.enriched_topic, self.alerts_topic, self.deadletter_topic)

    @property
    def index_template(self) -> str:
        return f"{self.namespace}-articles-template"
