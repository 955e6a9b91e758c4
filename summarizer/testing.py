"""A fake OpenAI-compatible server on 127.0.0.1, for tests and benchmarks.

Real sockets and the real openai client: nothing is mocked. Replies are scripted
(``server.push(...)``) and fall back to ``responder`` (by default a grounded ``news``
answer built from the article in the request). Every request is recorded.

    with FakeLLMServer() as server:
        server.push(Fault(429, headers={"Retry-After": "1"}), Answer({...}))
        Summarizer(base_url=server.url, api_key="test").summarize(text)
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .prompts import block_pattern
from .text import sentences


@dataclass
class Answer:
    """A 200 answer. ``payload`` is the structured output (dict), or raw text (e.g. truncated JSON)."""

    payload: dict[str, Any] | str
    finish_reason: str = "stop"


@dataclass
class Fault:
    """An HTTP error status, e.g. ``Fault(429, headers={"Retry-After": "1"})``."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "scripted fault"


@dataclass
class Stall:
    """Answer only after ``seconds`` (longer than the client's timeout makes a timeout)."""

    seconds: float
    then: Answer | None = None


@dataclass
class Cut:
    """Promise a body, send half of it, close the connection."""


Reply = Answer | Fault | Stall | Cut
_ARTICLE = block_pattern("ARTICLE")


def article_of(request: dict[str, Any]) -> str:
    """The article text inside the prompt of a recorded request."""
    for message in request.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            found = _ARTICLE.search(content)
            if found:
                return found.group(2)
    return ""


def grounded_news(article: str) -> dict[str, Any]:
    """A valid, grounded ``news`` answer for ``article``: what a good model would return."""
    lines = list(dict.fromkeys(sentences(article))) or [article.strip()]
    # A good model writes no two-word "sentences" and no item twice (``quality`` refuses them): points come
    # from the sentences of 3+ words, a short first sentence takes the next one into the headline, and an
    # article of fewer than three sentences gives points that are the starts of its first one (verbatim).
    points = [s for s in lines if len(s.split()) >= 3]
    points += [s for s in lines if s not in points]
    first = lines[0].split()
    for size in range(len(first) - 1, 2, -1):
        if len(points) >= 3:
            break
        points.append(" ".join(first[:size]))
    while len(points) < 3:
        points = points + points[:1]
    while len(lines) < 3:
        lines = lines + lines[-1:]
    head = lines[0].split()
    summary = " ".join(dict.fromkeys(lines[:2]))
    if len(head) < 3:
        head = " ".join(lines[:2]).split()
        summary = " ".join(dict.fromkeys(lines[1:4]))
    capitalised = re.findall(r"\b[A-Z][a-z]{2,}\b", article)
    return {
        "headline": " ".join(head[:10]),
        "summary": summary,
        "key_points": [{"point": s if len(s.split()) >= 3 else f"{s} {lines[0]}", "evidence": s} for s in points[:3]],
        "entities": [{"name": capitalised[0], "type": "other", "role": None}] if capitalised else [],
        "quotes": [],
        "dateline": {"location": None, "date": None},
        "timeline": [],
        "figures": [],
        "topics": ["news"],
        "language": "en",
    }


def full_news(article: str) -> dict[str, Any]:
    """A full-size ``news`` answer for ``article`` (every list filled as far as the article allows, grounded):
    the offline engine's record, within the schema's limits. What the benchmarks answer with, so that
    parsing and validating cost what they cost on a real model's full answers."""
    from .extractive import summarize
    from .schemas import clip_to_limits, resolve

    return dict(clip_to_limits(summarize(article), resolve("news").json_schema))


def full_responder(request: dict[str, Any]) -> Reply:
    """``default_responder``, but a news request gets ``full_news``."""
    schema = requested_schema(request).get("properties", {})
    if "key_points" in schema and "missing_entities" not in schema and not _PARTS.search(_prompt(request)):
        return Answer(full_news(article_of(request)))
    return default_responder(request)


def answer_name(request: dict[str, Any]) -> str:
    """The name of the answer model a request asks for (instructor names the tool or JSON schema after it)."""
    tools = request.get("tools") or []
    if tools:
        return str(tools[0].get("function", {}).get("name", ""))
    return str(((request.get("response_format") or {}).get("json_schema") or {}).get("name", ""))


def requested_schema(request: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema the request asks the answer to follow (tools or response_format), if any."""
    tools = request.get("tools") or []
    if tools:
        return dict(tools[0].get("function", {}).get("parameters") or {})
    response_format = request.get("response_format") or {}
    return dict((response_format.get("json_schema") or {}).get("schema") or {})


_PARTS = block_pattern("PARTS")
_SUMMARY = block_pattern("SUMMARY")
_KEEP = block_pattern("KEEP")
_CANDIDATES = block_pattern("CANDIDATES")


def _prompt(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content") or "") for m in request.get("messages", []) if m.get("role") == "user")


def merged_news(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """What a good model does with partial ``news`` records: the first part's lead, the rest merged, deduplicated."""
    first = parts[0]
    merged = {**first, "key_points": [], "entities": [], "quotes": [], "timeline": [], "figures": [], "topics": []}
    seen: set[str] = set()
    for part in parts:
        for name, key, limit in (
            ("key_points", "evidence", 7),
            ("entities", "name", 30),
            ("quotes", "text", 10),
            ("timeline", "what", 10),
            ("figures", "value", 10),
        ):
            for item in part.get(name) or []:
                marker = f"{name}:{str(item.get(key, '')).casefold()}"
                if marker not in seen and len(merged[name]) < limit:
                    seen.add(marker)
                    merged[name].append(item)
        for topic in part.get("topics") or []:
            if topic not in merged["topics"] and len(merged["topics"]) < 8:
                merged["topics"].append(topic)
    return merged


def denser(request: dict[str, Any]) -> dict[str, Any]:
    """A Chain of Density round as a good model answers it: 1-2 article entities the summary lacks, worked in
    at the same length (as many unimportant words dropped from the end as are added)."""
    prompt = _prompt(request)
    found = _SUMMARY.search(prompt)
    summary = found.group(2).strip() if found else ""
    kept = _KEEP.search(prompt)
    protected = {w.casefold() for name in (json.loads(kept.group(2)) if kept else []) for w in re.findall(r"\w+", name)}
    article = article_of(request)
    folded = summary.casefold()
    missing = [w for w in dict.fromkeys(re.findall(r"\b[A-Z][a-z]{3,}\b", article)) if w.casefold() not in folded][:2]
    addition = f"with {' and '.join(missing)}"
    body = (summary[:-1] if summary.endswith(".") else summary).split(" ")
    drop = len(addition.split())
    for index in range(len(body) - 1, 0, -1):
        if (
            drop
            and not ({w.casefold() for w in re.findall(r"\w+", body[index])} & protected)
            and not body[index][:1].isupper()
            and not body[index].endswith(".")
        ):
            del body[index]
            drop -= 1
    return {"missing_entities": missing or ["the"], "summary": f"{' '.join(body)}, {addition}."}


def hybrid_writing(request: dict[str, Any]) -> dict[str, Any]:
    """The hybrid engine's writing as a good model answers it: a headline and summary from the numbered
    sentences, and the first ones as points, each restating its sentence."""
    found = _CANDIDATES.search(_prompt(request))
    numbered = re.findall(r"^\[(\d+)\] (.*)$", found.group(2) if found else "", re.MULTILINE)
    schema = requested_schema(request).get("properties", {})
    wanted = int(schema.get("points", {}).get("maxItems", 3))
    texts = [text for _, text in numbered] or ["Nothing was found in the article."]

    def within(text: str, limit: int) -> str:  # a good model keeps to the schema's lengths
        return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "."

    written: dict[str, Any] = {
        "headline": " ".join(texts[0].split()[:12]).rstrip(",;:") or "News of the day",
        "points": [{"sentence": int(n), "point": within(text, 150)} for n, text in numbered[:wanted]],
    }
    if "summary" in schema:
        written["summary"] = within(" ".join(texts[1:3] or texts[:1]), 390)
    return written


def default_responder(request: dict[str, Any]) -> Reply:
    """A grounded answer for what is asked: a ``brief`` (bullets), a merge of parts, a density round, the
    hybrid engine's writing, or ``news``."""
    prompt = _prompt(request)
    schema = requested_schema(request).get("properties", {})
    if "missing_entities" in schema:
        return Answer(denser(request))
    if "points" in schema and _CANDIDATES.search(prompt):
        return Answer(hybrid_writing(request))
    parts = _PARTS.search(prompt)
    if parts:
        return Answer(merged_news(json.loads(parts.group(2))))
    news = grounded_news(article_of(request))
    if "bullets" in requested_schema(request).get("properties", {}):
        return Answer({"headline": news["headline"], "bullets": [p["point"] for p in news["key_points"]][:3]})
    return Answer(news)


def ungrounded_first(
    marker: str, then: Callable[[dict[str, Any]], Reply] = default_responder
) -> Callable[[dict[str, Any]], Reply]:
    """A responder that gives articles containing ``marker`` an ungrounded quote on the first ask, and answers
    the re-ask (and every other request) with ``then``: what a sloppy model does, for re-ask paths."""

    def respond(request: dict[str, Any]) -> Reply:
        reasked = any(
            m.get("role") == "tool" or "Validation Error" in str(m.get("content")) for m in request.get("messages", [])
        )
        article = article_of(request)
        if marker in article and not reasked:
            answer = grounded_news(article)
            answer["quotes"] = [{"speaker": "Nobody", "text": "words that were never written in the article"}]
            return Answer(answer)
        return then(request)

    return respond


def fault_storm(
    seed: int, *, stall: float, retry_after: float, rate_limited: float = 0.06
) -> Callable[[dict[str, Any]], Reply]:
    """A responder that fails 30 % of requests, reproducibly: ``rate_limited`` of them 429 with ``retry_after``,
    then up to 13 % 5xx, up to 18 % stalls of ``stall`` seconds, 6 % truncated JSON, 6 % schema-invalid answers."""
    import random

    rng = random.Random(seed)

    def stormy(request: dict[str, Any]) -> Reply:
        roll = rng.random()
        if roll < rate_limited:
            return Fault(429, headers={"Retry-After": f"{retry_after:g}"})
        if roll < rate_limited + 0.06:
            return Fault(rng.choice([500, 502, 503]))
        if roll < 0.18:
            return Stall(stall)
        if roll < 0.24:
            return Answer('{"headline": "Tram", "summary": "The city')  # truncated JSON
        if roll < 0.30:
            return Answer({"headline": 42, "key_points": "none"})  # schema-invalid
        return default_responder(request)

    return stormy


class TokenBucket:
    """A real rate limit, as providers enforce one: ``per_minute`` requests refill evenly into a bucket of
    ``burst``; a request that finds it empty gets 429 with the ``Retry-After`` (seconds, fractional) until
    the next token."""

    def __init__(self, per_minute: float, burst: float = 1.0) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float | None:
        """None if the request may pass, else seconds until it could."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return None
            return (1.0 - self.tokens) / self.rate


@dataclass
class BatchBehaviour:
    """How the fake's Batch API behaves: a batch ends after ``polls`` retrievals, with status ``ends``
    (``expired`` or ``cancelled``: only the first half of its requests answered; ``failed``: none);
    ``failed`` custom ids get an error line instead of an answer; output lines come back shuffled
    (``seed``), as the real one does not keep input order."""

    polls: int = 2
    failed: set[str] = field(default_factory=set)
    ends: str = "completed"
    seed: int = 7


class FakeBatchAPI:
    """``/v1/files`` and ``/v1/batches`` over the fake's responder: what the OpenAI Batch API does, offline."""

    def __init__(self, owner: FakeLLMServer) -> None:
        self.owner = owner
        self.behaviour = BatchBehaviour()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.uploads: list[bytes] = []  # every uploaded file, for tests to check the request lines
        self.lines = 0  # request lines answered in batches
        self._lock = threading.Lock()

    def upload(self, content_type: str, raw: bytes) -> dict[str, Any]:
        import email.parser
        import email.policy

        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        data, purpose = b"", ""
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            payload = payload if isinstance(payload, bytes) else b""
            if name == "file":
                data = payload
            elif name == "purpose":
                purpose = payload.decode()
        with self._lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = data
            self.uploads.append(data)
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": "input.jsonl",
            "purpose": purpose,
            "status": "processed",
        }

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("input_file_id") not in self.files:
            return 400, {"error": {"message": "no such input file"}}
        with self._lock:
            batch_id = f"batch_{len(self.batches) + 1}"
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body.get("endpoint"),
                "errors": None,
                "input_file_id": body["input_file_id"],
                "completion_window": body.get("completion_window"),
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": int(time.time()),
                "metadata": body.get("metadata") or {},
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "_polls": 0,
            }
        return 200, self.public(batch_id)

    def public(self, batch_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[batch_id].items() if not k.startswith("_")}

    def retrieve(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, {"error": {"message": "no such batch"}}
        if batch["status"] not in ("completed", "expired", "cancelled", "failed"):
            batch["_polls"] += 1
            if batch["_polls"] >= self.behaviour.polls:
                self._run(batch)
            else:
                batch["status"] = "in_progress"
        return 200, self.public(batch_id)

    def cancel(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        if batch_id not in self.batches:
            return 404, {"error": {"message": "no such batch"}}
        self.batches[batch_id]["status"] = "cancelled"
        return 200, self.public(batch_id)

    def listing(self) -> dict[str, Any]:
        return {"object": "list", "data": [self.public(b) for b in reversed(self.batches)], "has_more": False}

    def _run(self, batch: dict[str, Any]) -> None:
        import random

        lines = [json.loads(line) for line in self.files[batch["input_file_id"]].splitlines() if line.strip()]
        ends = self.behaviour.ends
        if ends != "completed":
            lines = lines[: len(lines) // 2] if ends in ("expired", "cancelled") else []
        out, errors = [], []
        for number, line in enumerate(lines):
            if line["custom_id"] in self.behaviour.failed:
                errors.append(
                    {
                        "id": f"r{number}",
                        "custom_id": line["custom_id"],
                        "response": None,
                        "error": {"code": "server_error", "message": "scripted batch failure"},
                    }
                )
                continue
            reply = self.owner.responder(line["body"])
            response: dict[str, Any]
            if isinstance(reply, Fault):
                response = {"status_code": reply.status, "body": {"error": {"message": reply.message}}}
            else:
                answer = reply if isinstance(reply, Answer) else default_responder(line["body"])
                assert isinstance(answer, Answer)
                response = {"status_code": 200, "request_id": f"req{number}", "body": _completion(line["body"], answer)}
            out.append({"id": f"r{number}", "custom_id": line["custom_id"], "response": response, "error": None})
        random.Random(self.behaviour.seed).shuffle(out)
        with self._lock:
            self.lines += len(lines)
            for kind, rows in (("output_file_id", out), ("error_file_id", errors)):
                if rows:
                    file_id = f"file-{len(self.files) + 1}"
                    self.files[file_id] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                    batch[kind] = file_id
        batch["status"] = ends
        batch["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(errors)}


class FakeLLMServer:
    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Reply] = default_responder,
        *,
        latency: float = 0.0,
        record: bool = True,
        rate_limit: float | None = None,
    ) -> None:
        self.batch_api = FakeBatchAPI(self)
        self.responder = responder
        self.latency = latency
        self.record = record
        self.bucket = TokenBucket(rate_limit) if rate_limit else None
        self.limited = 0  # 429s answered by the bucket
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.times: list[float] = []
        self.count = 0
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- scripting ------------------------------------------------------------------------
    def push(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        """Forget the script, the recorded requests and the Batch API's files and batches."""
        with self._lock:
            self.batch_api = FakeBatchAPI(self)
            self._script.clear()
            self.requests.clear()
            self.headers.clear()
            self.times.clear()
            self.count = 0

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.count += 1
            if self.record:
                self.requests.append(body)
                self.headers.append(headers)
                self.times.append(time.monotonic())
            scripted = self._script.popleft() if self._script else None
        if scripted is None and self.bucket is not None:
            wait = self.bucket.take()
            if wait is not None:
                with self._lock:
                    self.limited += 1
                return Fault(429, headers={"Retry-After": f"{wait:.3f}"}, message="rate limit reached")
        return scripted if scripted is not None else self.responder(body)

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FakeLLMServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default listen backlog (5) drops connections under concurrent load
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    owner: FakeLLMServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        batches = self.owner.batch_api
        if path.endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        elif path.endswith("/batches"):
            self._json(200, batches.listing())
        elif "/batches/" in path:
            self._json(*batches.retrieve(path.rsplit("/", 1)[1]))
        elif "/files/" in path and path.endswith("/content"):
            data = batches.files.get(path.split("/files/", 1)[1].split("/", 1)[0])
            if data is None:
                self._json(404, {"error": {"message": "no such file"}})
                return
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._json(404, {"error": {"message": "not found"}})

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():  # how the client sends a file upload
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def do_POST(self) -> None:
        raw = self._body()
        path = self.path.split("?", 1)[0].rstrip("/")
        batches = self.owner.batch_api
        if path.endswith("/files"):
            self._json(200, batches.upload(self.headers.get("content-type", ""), raw))
            return
        if path.endswith("/cancel"):
            self._json(*batches.cancel(path.rsplit("/", 2)[1]))
            return
        if path.endswith("/batches"):
            self._json(*batches.create(json.loads(raw or b"{}")))
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "invalid JSON body"}})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        reply = self.owner._next(body, {k.lower(): v for k, v in self.headers.items()})
        if self.owner.latency:
            time.sleep(self.owner.latency)
        if isinstance(reply, Stall):
            time.sleep(reply.seconds)
            reply = reply.then or default_responder(body)
        if isinstance(reply, Fault):
            self._json(
                reply.status,
                {"error": {"message": reply.message, "type": "fault", "code": reply.status}},
                reply.headers,
            )
        elif isinstance(reply, Cut):
            data = json.dumps(_completion(body, Answer({"cut": True}))).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif isinstance(reply, Answer):
            self._json(200, _completion(body, reply))

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


def _completion(request: dict[str, Any], answer: Answer) -> dict[str, Any]:
    text = answer.payload if isinstance(answer.payload, str) else json.dumps(answer.payload)
    message: dict[str, Any] = {"role": "assistant", "content": None}
    tools = request.get("tools")
    if tools:
        message["tool_calls"] = [
            {"id": "call_0", "type": "function", "function": {"name": tools[0]["function"]["name"], "arguments": text}}
        ]
    elif request.get("response_format"):
        message["content"] = text
    else:  # MD_JSON: the schema is in the prompt and a fenced block is expected
        message["content"] = f"Here is the result:\n```json\n{text}\n```"
    prompt_chars = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
    usage = {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(text) // 4}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason, "logprobs": None}],
        "usage": usage,
    }


def mock_transport(
    responder: Callable[[dict[str, Any]], Reply] = default_responder, requests: list[dict[str, Any]] | None = None
) -> Any:
    """An in-process ``httpx2.MockTransport`` that answers like ``FakeLLMServer`` (``Answer`` and ``Fault``
    replies), with no socket: ``Summarizer(transport=mock_transport(), base_url="http://fake/v1", api_key="k")``.
    Each request body is appended to ``requests``. Timeouts and cut connections need the socket fake."""
    import httpx2

    def handle(request: Any) -> Any:
        body = json.loads(request.content)
        if requests is not None:
            requests.append(body)
        reply = responder(body)
        if isinstance(reply, Fault):
            return httpx2.Response(
                reply.status,
                headers=reply.headers,
                json={"error": {"message": reply.message, "type": "fault", "code": reply.status}},
            )
        if isinstance(reply, Answer):
            return httpx2.Response(200, json=_completion(body, reply))
        raise TypeError(f"{type(reply).__name__} needs a real socket: use FakeLLMServer")

    return httpx2.MockTransport(handle)


class Cassette:
    """Recorded real answers, replayed: a JSONL file of ``{"key", "article_id", "schema", "model", "answer",
    "finish_reason", "usage", "verdict"}`` rows, where ``key`` is ``Cassette.key(article, answer model name)``.

    ``cassette.responder`` answers a request with the raw answer recorded for its article and schema
    (as the model wrote it: often schema-valid, often ungrounded), so the validators can be run on real
    model output deterministically, with no model. Recorded by ``tests/fixtures/record_answers.py``."""

    def __init__(self, path: str | Path) -> None:
        self.rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
        self.by_key = {row["key"]: row for row in self.rows}

    @staticmethod
    def key(article: str, answer: str) -> str:
        """The request's identity: its article and the answer model's name (not the prompt's wording, so a
        prompt edit does not orphan the recording)."""
        return hashlib.sha256(f"{answer}\0{article.strip()}".encode()).hexdigest()

    def responder(self, request: dict[str, Any]) -> Reply:
        row = self.by_key.get(self.key(article_of(request), answer_name(request)))
        if row is None:
            return Fault(404, message="no recorded answer for this article and schema: re-record the cassette")
        return Answer(row["answer"], finish_reason=row.get("finish_reason") or "stop")


def serve_in_subprocess(latency: float = 0.0, rate_limit: float | None = None, full: bool = False) -> tuple[str, Any]:
    """Start a FakeLLMServer in another process (so its CPU is not ours); returns (url, process).

    Used by the benchmarks, which measure the client's CPU time. ``full``: answer news requests with
    ``full_news`` (full-size answers). ``process.terminate()`` stops it.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_forever, args=(child, latency, rate_limit, full), daemon=True)
    process.start()
    url = parent.recv()
    return str(url), process


def _serve_forever(pipe: Any, latency: float, rate_limit: float | None = None, full: bool = False) -> None:
    server = FakeLLMServer(
        full_responder if full else default_responder, latency=latency, record=False, rate_limit=rate_limit
    ).start()
    pipe.send(server.url)
    threading.Event().wait()


def main() -> None:
    """``python -m summarizer.testing [--full] [--latency S]``: the fake OpenAI-compatible server in the foreground,
    for trying the LLM path with no model: it prints ``OPENAI_BASE_URL=...``; any key is taken. Ctrl-C stops it."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m summarizer.testing", description=main.__doc__)
    parser.add_argument("--full", action="store_true", help="full-size news answers (every list filled)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    options = parser.parse_args()
    server = FakeLLMServer(
        full_responder if options.full else default_responder, latency=options.latency, record=False
    ).start()
    print(f"OPENAI_BASE_URL={server.url}", flush=True)
    print("a fake OpenAI-compatible server (any OPENAI_API_KEY works); Ctrl-C stops it", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
