"""One request on its way through instructor: what it cost (a ``Ledger``), and its exchanges, for the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exchanges import Exchange, request_record
from ..result import Ledger

TRACE_KEY = "_summarizer_trace"  # the request keyword that carries a ``Trace`` through instructor to ``create``


@dataclass
class Trace:
    """One ``request`` (an answer, re-asks included) on its way through instructor: the call's ledger,
    and the exchanges it made, for the log. instructor's ``parse:error`` hook marks the last one invalid."""

    ledger: Ledger
    call_id: str
    engine: str
    model: str
    mode: str
    endpoint: str
    exchanges: list[Exchange] = field(default_factory=list)

    def sent(self, kwargs: dict[str, Any]) -> Exchange:
        exchange = Exchange(
            self.call_id,
            self.engine,
            self.model,
            self.mode,
            self.endpoint,
            attempt=len(self.exchanges) + 1,
            request=request_record(kwargs),
        )
        self.exchanges.append(exchange)
        return exchange

    @property
    def answers(self) -> int:
        """Answers received so far (an exchange that failed in transport had none)."""
        return sum(1 for exchange in self.exchanges if exchange.status != "error")

    def invalid(self, error: Exception, **_: Any) -> None:
        if self.exchanges:
            self.exchanges[-1].status = "invalid"
            self.exchanges[-1].errors = validation_errors(error)

    def hooks(self) -> Any:
        from instructor.core.hooks import Hooks

        hooks = Hooks()
        hooks.on("parse:error", self.invalid)
        return hooks


def count_answer(trace: Trace | None, completion: Any, exchange: Exchange | None, began: float) -> None:
    if trace is not None:
        trace.ledger.completions += 1
        trace.ledger.add_usage(getattr(completion, "usage", None))
    if exchange is not None:
        exchange.answered(completion, began)


def validation_errors(exc: BaseException | None) -> list[dict[str, Any]]:
    """``exc``'s validation errors as ``{loc, msg}`` (one entry with its text if it has none)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return [{"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg", "")} for e in errors()]
        except Exception:
            pass
    return [{"loc": "", "msg": str(exc)[:500]}]
