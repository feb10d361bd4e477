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
