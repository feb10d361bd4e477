from newsflow.core.retry import Backoff


def test_backoff_grows_and_is_capped_with_jitter():
    backoff = Backoff(base=0.1, cap=2.0)
    for attempt, ceiling in [(0, 0.1), (1, 0.2), (3, 0.8), (10, 2.0), (100, 2.0)]:
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_a_failing_batch_is_retried_until_it_succeeds():
    import asyncio

    from newsflow.core.retry import until_done

    calls: list[list[int]] = []

    async def flaky(batch: list[int]) -> None:
        calls.append(batch)
        if len(calls) < 3:
            raise RuntimeError("service answered nonsense")

    asyncio.run(until_done(flaky, [1, 2], "sink", Backoff(base=0.001, cap=0.002)))
    assert calls == [[1, 2]] * 3


def test_cancellation_is_not_retried():
    import asyncio

    import pytest

    from newsflow.core.retry import until_done

    async def cancelled(batch: int) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(until_done(cancelled, 1, "sink", Backoff(base=0.001)))


FAST = Backoff(base=0.001, cap=0.002)


def test_retry_if_retries_what_is_transient_and_raises_the_rest():
    import asyncio

    import pytest

    from newsflow.core.retry import retry_if, retrying

    errors = [ConnectionError("down"), ConnectionError("down"), ValueError("a bug")]
    counted: list[int] = []

    async def call() -> None:
        raise errors.pop(0)

    on_error = retry_if(lambda e: isinstance(e, ConnectionError), "send", lambda: counted.append(1))
    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(retrying(call, FAST, on_error))
    assert counted == [1, 1] and not errors, "two transient failures retried, then the bug raised"


def test_poll_says_whether_the_check_came_true_in_time():
    import asyncio

    from newsflow.core.retry import poll

    answers = [False, False, True]

    async def check() -> bool:
        return answers.pop(0)

    assert asyncio.run(poll(check, FAST, seconds=5.0)) and not answers

    async def never() -> bool:
        return False

    assert asyncio.run(poll(never, FAST, seconds=0.05)) is False
