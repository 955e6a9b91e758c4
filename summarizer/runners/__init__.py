"""The runners: input files to output files, resumable, nothing lost. ``runner_for`` picks one, for the CLI and
the service's jobs alike:

- ``local`` (``runners.local``): in this process, over one event loop;
- ``ray`` (``runners.ray``): on a Ray cluster (``runner = "ray"``);
- ``batch-api`` (``runners.batch_api``): through the OpenAI Batch API (``--via batch-api``).

Each shares ``run.Run``'s start and finish, and takes ``(summarizer, sources, **arguments)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from ..batching import BatchStats
    from ..config import Settings


@dataclass(frozen=True)
class Runner:
    """A runner's two faces: ``run`` for a command line (blocks; Ctrl-C stops it where it is), ``arun`` for an
    event loop (the service's jobs; cancelling the task stops it)."""

    name: str
    run: Callable[..., BatchStats]
    arun: Callable[..., Awaitable[BatchStats]]
    #: Fetches URL inputs (within a ``url_policy``, through a ``resolver``); the others refuse them.
    fetches_urls: bool = False


def runner_for(settings: Settings, via: str | None = None) -> Runner:
    """The runner for these settings: ``via = "batch-api"`` sends through the Batch API, else the ``runner``
    setting says local or Ray."""
    if via == "batch-api":
        if settings.runner == "ray":
            raise InputError(
                "--via batch-api runs in this process (the provider does the work): leave out --runner ray"
            )
        from . import batch_api

        return Runner("batch-api", batch_api.run_files, batch_api.run_files_async)
    if settings.runner == "ray":
        from . import ray

        return Runner("ray", ray.run_files, ray.run_files_async)
    from . import local

    return Runner("local", local.run_files_blocking, local.run_files, fetches_urls=True)
