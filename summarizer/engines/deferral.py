"""Requests kept to be sent later (the Batch API path, ``runners/batch_api.py``).

A run that defers sets ``deferring`` for the tasks it starts: a per-run value (a ``ContextVar``; asyncio
copies it into every task), not a flag on a client that other runs share. The model client asks it
before each request: it returns the answer to use (a downloaded batch answer), None to send the
request now, or raises ``Deferred`` to keep it. The item then ends as an ``Outcome`` whose state is
``deferred`` (the request body), not as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from ..result import Ledger

Deferral = Callable[[dict[str, Any], Ledger | None], Awaitable[Any]]

#: The deferral of the run this task belongs to, if any.
deferring: ContextVar[Deferral | None] = ContextVar("summarizer_deferring", default=None)


class Deferred(Exception):  # not a failure: the request is to be sent later
    """Raised by a deferral that keeps a request to send later: ``body`` is the request exactly as it would
    have gone to the chat completions endpoint."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("deferred")
        self.body = body
