from processors.retry import Backoff


def test_backoff_grows_and_is_capped_with_jitter():
    backoff = Backoff(base=0.1, cap=2.0)
    for attempt, ceiling in [(0, 0.1), (1, 0.2), (3, 0.8), (10, 2.0), (100, 2.0)]:
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
