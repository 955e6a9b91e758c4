"""The pacing schedule and its reaction to 429s, on a clock the test drives (no wall-clock waits)."""

from __future__ import annotations

import pytest

from summarizer.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def steady(throttle: Throttle, clock: Clock, per_second: float, seconds: float, refuse_every: int = 0) -> None:
    """Requests start and are answered at ``per_second``; every ``refuse_every``-th answer is a 429."""
    for n in range(1, int(per_second * seconds) + 1):
        clock.now += 1 / per_second
        throttle.reserve()
        if refuse_every and n % refuse_every == 0:
            throttle.on_rate_limited(1.0)
        else:
            throttle.on_success()


def test_requests_are_spaced_evenly_for_rpm():
    clock = Clock()
    throttle = Throttle(rpm=120, clock=clock)
    assert [throttle.reserve() for _ in range(3)] == [0.0, 0.5, 1.0]


def test_stray_429s_neither_pause_everyone_nor_slow_the_pace():
    # 5 % of answers are 429 (another client on the key, a provider's hiccup): not our rate.
    clock = Clock()
    throttle = Throttle(clock=clock)
    steady(throttle, clock, per_second=40, seconds=30, refuse_every=20)
    assert throttle.rate_limited == 60
    assert throttle.interval == 0.0 and throttle.reserve() == 0.0


def test_a_limit_hit_hard_pauses_everyone_and_paces_to_what_the_endpoint_allowed():
    clock = Clock()
    throttle = Throttle(clock=clock)
    steady(throttle, clock, per_second=20, seconds=5)  # 100 answers at 20/s
    for _ in range(150):  # then a wall of 429s
        clock.now += 0.01
        throttle.on_rate_limited(0.5)
    assert throttle.reserve() == pytest.approx(0.5, abs=0.02)  # everyone waits out Retry-After
    assert 1 / throttle.interval == pytest.approx(100 / 5.0, rel=0.2)  # the rate it allowed, not a fraction of it


def test_repeated_episodes_never_push_the_pace_below_half_the_best_allowed_rate():
    clock = Clock()
    throttle = Throttle(clock=clock)
    steady(throttle, clock, per_second=20, seconds=10)
    for _ in range(30):  # an endpoint that keeps refusing a third of the requests, whatever the pace
        steady(throttle, clock, per_second=max(0.5, 1 / max(throttle.interval, 1e-3)), seconds=2, refuse_every=3)
    assert 1 / throttle.interval >= 20 / 2 * 0.95


def test_the_pace_recovers_by_time_after_a_cut():
    clock = Clock()
    throttle = Throttle(clock=clock)
    steady(throttle, clock, per_second=10, seconds=5)
    for _ in range(60):
        clock.now += 0.01
        throttle.on_rate_limited(0.1)
    slowed = throttle.interval
    assert slowed > 0
    clock.now += 10
    throttle.on_success()
    assert throttle.interval == pytest.approx(slowed / 1.05**10.6, rel=0.05)
    clock.now += 200
    throttle.on_success()
    assert throttle.interval == 0.0  # back to no pacing at all


def test_a_configured_rpm_is_never_exceeded_after_recovery():
    clock = Clock()
    throttle = Throttle(rpm=600, clock=clock)
    for _ in range(40):
        clock.now += 0.01
        throttle.on_rate_limited(None)
    clock.now += 1000
    throttle.on_success()
    assert throttle.interval == pytest.approx(0.1)
