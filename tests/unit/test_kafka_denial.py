"""An authorization error from Kafka names who was denied what, in one line."""

from __future__ import annotations

from kafka import errors

from newsflow.core.service_errors import denied_resources, kafka_denial

# The shape of kafka-python's admin error: the request's repr, then the response's.
CREATE = (
    "Request 'CreateTopicsRequest(version=7, topics=[CreatableTopic(name='b.raw', "
    "num_partitions=4, replication_factor=1, assignments=[], configs=[]), "
    "CreatableTopic(name='b.work', num_partitions=4, replication_factor=1, assignments=[], "
    "configs=[])], timeout_ms=30000, validate_only=False)' failed with response "
    "'CreateTopicsResponse(version=7, throttle_time_ms=0, topics=[CreatableTopicResult("
    "version=7, name='b.work', topic_id=None, error_code=29, error_message='Authorization "
    "failed.', topic_config_error_code=0, num_partitions=-1, replication_factor=-1, "
    "configs=[]), CreatableTopicResult(version=7, name='b.raw', topic_id=None, error_code=0, "
    "error_message=None, topic_config_error_code=0, num_partitions=4, replication_factor=1, "
    "configs=[])])'."
)


def test_an_admin_request_names_only_the_denied_results() -> None:
    exc = errors.TopicAuthorizationFailedError(CREATE)
    assert denied_resources(exc) == ["b.work"]
    line = kafka_denial(exc, "k:9094", "tenant")
    assert line.startswith("Kafka at k:9094 does not allow user 'tenant' on topic b.work ")
    assert "CreateTopicsRequest" not in line and "\n" not in line


def test_a_group_and_a_producer_topic() -> None:
    group = errors.GroupAuthorizationFailedError("FindCoordinatorResponse error for GROUP/g-b:")
    assert "on consumer group g-b (" in kafka_denial(group, "k:1", None)
    assert "this client" in kafka_denial(group, "k:1", None)
    topic = errors.TopicAuthorizationFailedError("b.raw")
    assert denied_resources(topic) == ["b.raw"]


def test_several_topics_are_counted_not_listed() -> None:
    many = CREATE.replace("error_code=0", "error_code=29")
    line = kafka_denial(errors.TopicAuthorizationFailedError(many), "k:1", "u")
    assert "on topic b.raw (and 1 more)" in line
