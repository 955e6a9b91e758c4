"""What a batch is made of, below both ``core`` and the batch runner: its inputs and its outcomes.

``Summarizer.abatch`` yields ``Outcome``s and the sinks write them; neither needs the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .archives import Item
from .errors import SummarizerError
from .result import Ledger, Result
from .sources import Article

BatchInput = str | Article | Item


@dataclass(slots=True)
class Outcome:
    """What became of one item: a ``result``, or an ``error``, or (the Batch API path) the request ``deferred`` to
    a batch; never two of them."""

    id: str
    source: str
    index: int
    result: Result[Any] | None = None
    error: SummarizerError | None = None
    spent: Ledger = field(default_factory=Ledger)  # what the item cost, whether it succeeded or not
    deferred: dict[str, Any] | None = None  # the request body kept for a batch (``engines.deferral``)

    @property
    def ok(self) -> bool:
        return self.error is None and self.deferred is None

    def record(self) -> dict[str, Any]:
        """The output line: ``{id, source, summary, meta}``."""
        assert self.result is not None
        return {"id": self.id, "source": self.source, **self.result.to_dict()}

    def error_record(self) -> dict[str, Any]:
        """The errors-file line: ``{id, source, error, message, attempts}``."""
        error = self.error
        assert error is not None
        return {
            "id": self.id,
            "source": self.source,
            "error": error_kind(error),
            "message": str(error),
            "attempts": getattr(error, "attempts", 0),
        }


def error_kind(error: BaseException) -> str:
    """The errors-file label: the class says it; anything else is a bug."""
    return error.batch_label if isinstance(error, SummarizerError) else "internal"
