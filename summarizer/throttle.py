"""Request pacing: requests- and tokens-per-minute limits, and slowing down when the endpoint says 429.

One ``Throttle`` belongs to an LLM client and is consulted before every HTTP request,
retries and re-asks included, so the limits hold for what the server actually sees.
It is a schedule rather than a bucket: each request reserves the next free start time
(``60/rpm`` seconds after the previous one, and ``tokens*60/tpm`` seconds of the token
budget), so no 60-second window ever holds more than the configured budget — a bucket
that starts full would allow twice that in the first minute. The reservation is taken
under a thread lock and then slept on, so the sync path (threads) and the async path
(any event loop) share one schedule.

On a 429 every caller pauses until the server's ``Retry-After`` has passed, and the
pace halves (from the configured rate, or from the rate observed over the last ten
seconds when none is configured) — once per episode: the 429s that answer requests
already in flight do not halve it again. Each success then speeds it up by 5 % until
the configured rate is reached again; multiplicative decrease, gradual increase.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import Any

_WINDOW = 10.0  # seconds of history used to measure the achieved request rate
_RECOVERY = 0.95  # interval multiplier per success while slowed down
_DEFAULT_PAUSE = 1.0  # pause after a 429 that names no Retry-After
_MAX_INTERVAL = 60.0  # never slower than one request a minute


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
    """Paces request starts for ``rpm`` requests and ``tpm`` tokens per minute (either may be None)."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self._lock = threading.Lock()
        self._base = 60.0 / rpm if rpm else 0.0
        self._interval = self._base
        self._next_start = 0.0
        self._next_token = 0.0
        self._paused_until = 0.0
        self._recent: deque[float] = deque()
        self._last_cut = -1e9
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
            now = time.monotonic()
            start = max(now, self._next_start, self._paused_until)
            if self.tpm:
                start = max(start, self._next_token)
                self._next_token = start + tokens * 60.0 / self.tpm
            self._next_start = start + self._interval
            recent = self._recent
            recent.append(start)
            while recent and recent[0] < now - _WINDOW:
                recent.popleft()
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
        """The endpoint answered 429: pause everyone, then go at half the pace."""
        with self._lock:
            now = time.monotonic()
            self.rate_limited += 1
            pause = retry_after if retry_after is not None else _DEFAULT_PAUSE
            self._paused_until = max(self._paused_until, now + pause)
            if now - self._last_cut < max(1.0, pause):
                return  # same episode: requests sent before the first 429 are answering now
            self._last_cut = now
            recent = [t for t in self._recent if now - _WINDOW <= t <= now]
            observed = len(recent) / max(1.0, now - recent[0]) if recent else 0.0  # requests per second
            current = 1.0 / self._interval if self._interval else observed
            pace = (min(current, observed) if observed else current) or 1.0
            self._interval = min(_MAX_INTERVAL, max(self._interval, 2.0 / pace))

    def on_success(self) -> None:
        if self._interval > self._base:
            with self._lock:
                self._interval = max(self._base, self._interval * _RECOVERY)
                if self._interval < 0.001 and not self._base:
                    self._interval = 0.0
