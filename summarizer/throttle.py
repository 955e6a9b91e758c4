"""Request pacing: requests- and tokens-per-minute limits, and slowing down when the endpoint says 429.

One ``Throttle`` belongs to an LLM client and is consulted before every HTTP request,
retries and re-asks included, so the limits hold for what the server actually sees.
It is a schedule rather than a bucket: each request reserves the next free start time
(``60/rpm`` seconds after the previous one, and ``tokens*60/tpm`` seconds of the token
budget), so no 60-second window ever holds more than the configured budget — a bucket
that starts full would allow twice that in the first minute. The reservation is taken
under a thread lock and then slept on, so the sync path (threads) and the async path
(any event loop) share one schedule.

A 429 means the endpoint's limit was reached. Once 429s are a fifth or more of its recent
answers, the pace goes to what it allowed: the rate of answers it gave (anything but 429)
over the last ten seconds —
never faster than the current pace, once per episode (the 429s that answer requests
already in flight belong to the same one), and never below half of the best rate the
endpoint allowed in the last minute. That floor is what keeps 429s that do not come from
our own rate (another client on the same key, a provider's overload) from halving the
pace again and again until the batch crawls. The refused request waits out the server's
``Retry-After`` (the transport retry does); every other caller waits too only when most
recent answers were 429s (a limit hit hard, a quota used up): stray 429s at a few percent
would otherwise keep everyone paused. The pace then recovers by 5 % a second towards the
configured rate (or no pacing at all): with a real limit it settles just under it; with
stray 429s it returns to full speed within seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

_WINDOW = 10.0  # seconds of history used to measure the rate the endpoint allowed
_PEAK_WINDOW = 60.0  # the floor is half the best allowed rate over this long
_RECOVERY = 1.05  # pace multiplier per second while slowed down
_DEFAULT_PAUSE = 1.0  # pause after a 429 that names no Retry-After
_MAX_INTERVAL = 60.0  # never slower than one request a minute
_PAUSE_SHARE = 0.5  # everyone waits out a Retry-After when at least this share of recent answers were 429
_CUT_SHARE = 0.2  # the pace is cut when at least this share were (below it, 429s are stray, not our rate)


def estimate_tokens(request: dict[str, Any], completion_budget: int | None) -> int:
    """A conservative token estimate for a chat request (``tokens.estimate`` of its text), plus the answer budget.

    Used only for ``tpm`` pacing; exact counts come back in ``usage`` after the fact.
    """
    from .tokens import estimate

    parts = [message.get("content") for message in request.get("messages") or () if isinstance(message, dict)]
    parts += [repr(request[extra]) for extra in ("tools", "response_format") if request.get(extra)]
    text = "".join(part for part in parts if isinstance(part, str))
    return estimate(text) + 4 * len(request.get("messages") or ()) + (completion_budget or 1000)


class Throttle:
    """Paces request starts for ``rpm`` requests and ``tpm`` tokens per minute (either may be None).

    ``clock`` (seconds, monotonic) is a parameter so that tests can drive time by hand."""

    def __init__(
        self, rpm: float | None = None, tpm: float | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self._lock = threading.Lock()
        self._base = 60.0 / rpm if rpm else 0.0
        self._interval = self._base
        self._next_start = 0.0
        self._next_token = 0.0
        self._paused_until = 0.0
        self._starts: deque[float] = deque()  # request starts in the last _WINDOW seconds
        self._answers: deque[float] = deque()  # answers other than 429 in the last _WINDOW seconds
        self._refusals: deque[float] = deque()  # 429 answers in the last _WINDOW seconds
        self._peaks: deque[tuple[float, float]] = deque()  # (time, allowed rate) measured at each cut
        self._last_cut = -1e9
        self._last_recovery = 0.0
        self.rate_limited = 0  # 429 answers seen
        self.waited = 0.0  # seconds callers spent waiting here

    @property
    def active(self) -> bool:
        """Whether pacing can delay anything (limits configured, or slowed down by a 429)."""
        return bool(self.rpm or self.tpm or self._interval or self._paused_until)

    @property
    def interval(self) -> float:
        """Current minimum spacing between request starts, in seconds."""
        return self._interval

    def reserve(self, tokens: int = 0) -> float:
        """Book the next start time; returns how long the caller must wait for it."""
        with self._lock:
            now = self.clock()
            start = max(now, self._next_start, self._paused_until)
            if self.tpm:
                start = max(start, self._next_token)
                self._next_token = start + tokens * 60.0 / self.tpm
            self._next_start = start + self._interval
            _keep(self._starts, now, start)
            delay = start - now
            self.waited += delay
            return delay

    def wait(self, tokens: int = 0) -> None:
        delay = self.reserve(tokens)
        if delay > 0:
            time.sleep(delay)

    async def await_turn(self, tokens: int = 0) -> None:
        delay = self.reserve(tokens)
        if delay > 0:
            await asyncio.sleep(delay)

    def on_rate_limited(self, retry_after: float | None) -> None:
        """The endpoint answered 429: when 429s are a real share of its answers, go at the rate it allowed."""
        with self._lock:
            now = self.clock()
            self.rate_limited += 1
            pause = retry_after if retry_after is not None else _DEFAULT_PAUSE
            _keep(self._refusals, now, now)
            _trim(self._answers, now)
            refused, answered = len(self._refusals), len(self._answers)
            share = refused / (refused + answered)
            if share >= _PAUSE_SHARE:
                self._paused_until = max(self._paused_until, now + pause)
            if share < _CUT_SHARE or now - self._last_cut < max(1.0, pause):
                return  # stray 429s, or the same episode: requests sent before the first 429 answering now
            self._last_cut = self._last_recovery = now
            allowed = _rate(self._answers, now)
            sent = _rate(self._starts, now)
            while self._peaks and self._peaks[0][0] < now - _PEAK_WINDOW:
                self._peaks.popleft()
            if allowed:
                self._peaks.append((now, allowed))
            peak = max((rate for _, rate in self._peaks), default=0.0)
            current = 1.0 / self._interval if self._interval else sent
            pace = min(current, allowed) if allowed and current else (current or allowed)
            pace = max(pace, peak / 2, 1.0 / _MAX_INTERVAL)
            self._interval = max(self._interval, 1.0 / pace)

    def on_success(self) -> None:
        """The endpoint answered (anything but 429): count it, and recover the pace if slowed down."""
        with self._lock:
            now = self.clock()
            _keep(self._answers, now, now)
            if self._interval > self._base:
                elapsed = now - self._last_recovery
                self._last_recovery = now
                self._interval = max(self._base, self._interval / _RECOVERY**elapsed)
                if self._interval < 0.001 and not self._base:
                    self._interval = 0.0


def _keep(times: deque[float], now: float, moment: float) -> None:
    times.append(moment)
    _trim(times, now)


def _trim(times: deque[float], now: float) -> None:
    while times and times[0] < now - _WINDOW:
        times.popleft()


def _rate(times: deque[float], now: float) -> float:
    """Events per second over the window (or since the first event, if that is shorter but over a second)."""
    recent = [t for t in times if now - _WINDOW <= t <= now]
    if not recent:
        return 0.0
    return len(recent) / max(1.0, now - recent[0])
