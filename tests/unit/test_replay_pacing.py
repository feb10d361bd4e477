from producers.replay import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_spaces_records_evenly():
    fake = FakeClock()
    pacer = Pacer(rate=4, speedup=None, clock=fake.clock, sleep=fake.sleep)
    for _ in range(5):
        pacer.wait(None)
    assert fake.now == 101.0


def test_speedup_keeps_event_time_gaps():
    fake = FakeClock()
    pacer = Pacer(rate=None, speedup=60, clock=fake.clock, sleep=fake.sleep)
    for published in (0.0, 60.0, 60.0, 3600.0):
        pacer.wait(published)
    assert fake.now == 160.0  # an hour of news in a minute
    assert fake.slept == [1.0, 59.0]


def test_no_pacing_never_sleeps():
    fake = FakeClock()
    pacer = Pacer(rate=None, speedup=None, clock=fake.clock, sleep=fake.sleep)
    for _ in range(10):
        pacer.wait(1.0)
    assert fake.slept == []
