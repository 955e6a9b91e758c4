"""Slow clients for ``summarizer serve``: uvicorn's h11 protocol with a header timeout, a body timeout and a cap
on open connections.

uvicorn closes a keep-alive connection that sends nothing after an answer (``timeout_keep_alive``), but a
connection that never finishes its request headers is held forever, one byte at a time or none at all, and
``limit_concurrency`` is only checked once the headers are in: 1,100 idle sockets used every file descriptor
of a service with the usual limit of 1,024. Here:

- the headers must be complete ``header_timeout`` seconds after the connection opens (or after the previous
  answer of a keep-alive connection, plus the keep-alive time); else the connection is closed;
- a body that stalls, no byte for ``body_timeout`` seconds while the request reads it, closes the connection
  (the route sees the client gone); a body our own flow control paused is not the client's fault and waits;
- past ``max_connections`` open connections, a new one is answered 503 at once and closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

_BUSY_BODY = (
    b'{"type":"urn:summarizer:problem:busy","title":"busy","status":503,'
    b'"detail":"too many open connections; retry shortly"}'
)
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nconnection: close\r\n"
    b"retry-after: 1\r\ncontent-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


class GuardedH11Protocol(H11Protocol):
    """``H11Protocol`` with the header and body timeouts and the connection cap (see the module)."""

    header_timeout = 10.0
    body_timeout = 30.0
    max_connections = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(BUSY)
            transport.close()
            return
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._arm(self.body_timeout)  # an idle timeout: each piece of the body buys the next one time
        elif state is not h11.IDLE:
            self._disarm()  # headers and body are in (or the connection is ending)
        # IDLE: the headers are still coming; their deadline stands, whatever trickles in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:  # the next request's headers, after the keep-alive wait
            self._arm(self.timeout_keep_alive + self.header_timeout)
        elif self.conn.their_state is h11.SEND_BODY:
            self._arm(self.body_timeout)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY and self.flow.read_paused:  # we stopped reading, not the client: wait more
            self._arm(self.body_timeout)
            return
        if state not in (h11.IDLE, h11.SEND_BODY):
            return
        self.logger.info(
            "closing a connection from %s: its request %s too slowly",
            f"{self.client[0]}:{self.client[1]}" if self.client else "?",
            "headers came" if state is h11.IDLE else "body came",
        )
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()


def guarded_protocol(*, header_timeout: float, body_timeout: float, max_connections: int) -> type[H11Protocol]:
    """The protocol class to give uvicorn as ``http=``, with these limits."""
    return type(
        "SummarizerH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout, "max_connections": max_connections},
    )


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """``uvicorn.run`` keyword arguments for the service's slow-client limits (``Settings``)."""
    return {
        "http": guarded_protocol(
            header_timeout=settings.header_timeout_s,
            body_timeout=settings.body_timeout_s,
            max_connections=settings.max_connections,
        ),
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections + 1,  # ours answers first (before the headers)
        "h11_max_incomplete_event_size": 16 * 1024,
    }  # request line and headers: at most 16 KB
