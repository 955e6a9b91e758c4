"""The in-process seam: the same pipeline through ``httpx2.MockTransport``, no socket.

The socket fake (``FakeLLMServer``) stays for what only a network can do (timeouts, cut
connections); everything else can run in-process like this, sync and async alike.
"""

from __future__ import annotations

import asyncio

from summarizer import Summarizer
from summarizer.testing import Answer, Fault, default_responder, mock_transport

from .conftest import API_KEY

TEXT = "The council met on Tuesday. It voted for a new tram line. Work starts in May, the mayor said."


def make(responder=default_responder):
    requests: list[dict] = []
    summarizer = Summarizer(
        base_url="http://fake.invalid/v1",
        api_key=API_KEY,
        use_cache=False,
        transport=mock_transport(responder, requests),
        retry_backoff=0,
    )
    return summarizer, requests


def test_a_summary_in_process_sync_and_async():
    summarizer, requests = make()
    result = summarizer.summarize(TEXT)
    assert result.summary.headline and result.meta.requests == 1 and len(requests) == 1
    again = asyncio.run(summarizer.asummarize(TEXT + " Again."))
    assert again.meta.requests == 1 and len(requests) == 2


def test_re_asks_and_transport_retries_in_process():
    replies = iter([Fault(503), Answer({"headline": 42}), None])

    def scripted(request):
        reply = next(replies)
        return reply if reply is not None else default_responder(request)

    summarizer, requests = make(scripted)
    result = summarizer.summarize(TEXT)
    assert len(requests) == 3 and result.meta.requests == 3 and result.meta.attempts == 2
