"""Batch output: a JSONL or CSV file, or a folder of JSONL or Parquet parts; failed items as JSONL.

Sinks take output records (``{id, source, summary, meta}``, ``Outcome.record()``), so the
local runner, the Ray runner and the Batch API path write exactly the same lines.

A crash (even ``kill -9``) can leave at most one partial last line. Opening an existing
output for resume cuts that line off and collects the ids already written, so the
runner skips them. CSV cells never contain a newline (they are folded to spaces), so
both formats are line-oriented and repaired the same way. A folder output (``-o out/``,
or any Parquet output) gets a new part per run (``part-<time>-<random>.jsonl``; Parquet
parts of ``PARQUET_ROWS`` rows, written under a temporary name and renamed, so a
crash never leaves a half part); resume reads the ids of every part.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import sys
import time
import types
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from ..archives import IdSet
from ..errors import InputError
from ..files import output_error
from ..outcome import Outcome
from ..schemas import SchemaSpec

FORMATS = ("jsonl", "csv", "parquet", "markdown", "text")
PARQUET_ROWS = 1000  # rows per Parquet part (also written every PARQUET_SECONDS)
PARQUET_SECONDS = 60.0
_META_COLUMNS = ("engine", "model", "cached", "attempts", "prompt_tokens", "completion_tokens")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def repair(path: Path) -> int:
    """Cut a partial last line (no newline at the end); returns how many bytes were cut."""
    with open(path, "rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        block = 65536
        position = size
        while position > 0:
            start = max(0, position - block)
            fh.seek(start)
            chunk = fh.read(position - start)
            if position == size and chunk.endswith(b"\n"):
                return 0
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                fh.truncate(keep)
                return size - keep
            position = start
        fh.truncate(0)
        return size


class _LineSink:
    """Shared by the formats: open for append (after repair), write a line, flush."""

    def __init__(self, path: str | Path | None, resume: bool) -> None:
        self.path = None if path in (None, "-") else Path(path)
        self.done_ids = IdSet()
        self.repaired = 0
        self.existing = False
        self._fh: IO[str]
        if self.path is None:
            self._fh = sys.stdout
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if resume and self.path.is_file() and self.path.stat().st_size:
                self.existing = True
                self.repaired = repair(self.path)
                with open(self.path, encoding="utf-8", newline="") as fh:
                    self._load(fh)
                self._fh = open(self.path, "a", encoding="utf-8", newline="")  # noqa: SIM115
            else:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
                self._start()
        except OSError as exc:
            raise output_error(self.path, exc) from None

    def _load(self, fh: IO[str]) -> None:
        raise NotImplementedError

    def _start(self) -> None:
        pass

    def _line(self, line: str) -> None:
        try:
            self._fh.write(line)
            self._fh.flush()
        except OSError as exc:  # a full disk: stop with one clear line; the lines before stay whole
            if self.path is None and isinstance(exc, BrokenPipeError):
                raise  # `summarizer batch ... | head`: the reader left, a normal end the CLI keeps quiet
            raise output_error(self.path or Path("standard output"), exc) from None

    def close(self) -> None:
        if self.path is not None and not self._fh.closed:
            with contextlib.suppress(OSError):  # the write that failed has been reported already
                self._fh.close()


def load_ids(fh: IO[str], path: Path | None, ids: IdSet) -> None:
    """Add the ids of a JSONL output's lines to ``ids``."""
    for number, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            ids.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            raise InputError(
                f"{path} line {number} is not a summarizer output line; give a new --output or remove the file"
            ) from None


class JsonlSink(_LineSink):
    def _load(self, fh: IO[str]) -> None:
        load_ids(fh, self.path, self.done_ids)

    def write(self, outcome: Outcome) -> None:
        self.write_record(outcome.record())

    def write_record(self, record: dict[str, Any]) -> None:
        self._line(_dump(record) + "\n")


class CsvSink(_LineSink):
    """One row per item: id, source, the schema's fields (nested objects as ``a.b``, lists joined by `` | ``),
    then the main meta fields."""

    def __init__(self, path: str | Path | None, resume: bool, schema: SchemaSpec) -> None:
        self.fields = list(_columns(schema.model))
        self.columns = ["id", "source", *self.fields, *_META_COLUMNS]
        super().__init__(path, resume)

    def _start(self) -> None:
        self._row(self.columns)

    def _load(self, fh: IO[str]) -> None:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header != self.columns:
            raise InputError(f"{self.path} has other columns than this schema's; give a new --output")
        for row in rows:
            if row:
                self.done_ids.add(row[0])

    def _row(self, values: list[Any]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        self._line(buffer.getvalue())

    def write(self, outcome: Outcome) -> None:
        self.write_record(outcome.record())

    def write_record(self, record: dict[str, Any]) -> None:
        data, meta = record["summary"], record["meta"]
        values: list[Any] = [record["id"], record["source"]]
        for name in self.fields:
            value: Any = data
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            values.append(_cell(value))
        usage = meta.get("usage") or {}
        values += [
            meta.get("engine"),
            meta.get("model") or "",
            meta.get("cached"),
            meta.get("attempts"),
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
        ]
        self._row([_flat(v) for v in values])


# The line that ends each article's section of a Markdown or text output: its id as JSON (">" escaped, so an
# id cannot end the Markdown comment). Resume reads the ids from these lines; a crash's partial section after
# the last one is cut.
_TRAILERS = {
    "markdown": (re.compile(r'^<!-- summarizer id: (".*") -->$'), "<!-- summarizer id: {} -->"),
    "text": (re.compile(r'^\(id: (".*")\)$'), "(id: {})"),
}


def _trailer_id(line: str, fmt: str) -> str | None:
    match = _TRAILERS[fmt][0].match(line.rstrip("\r\n"))
    if match is None:
        return None
    try:
        found = json.loads(match.group(1))
    except ValueError:
        return None
    return found if isinstance(found, str) else None


def cut_partial_section(path: Path, fmt: str) -> int:
    """Cut what follows the last complete section of a Markdown or text output (a crash's partial one);
    returns the bytes cut. InputError for a file with content but no section of ours (it is not an output
    of this command: never cut someone's notes)."""
    end = None
    with open(path, "rb") as fh:
        offset = 0
        for raw in fh:
            offset += len(raw)
            if raw.endswith(b"\n") and _trailer_id(raw.decode("utf-8", "replace"), fmt) is not None:
                end = offset
        size = offset
    if end is None:
        if size and path.read_bytes().strip():
            raise InputError(
                f"{path} is not a summarizer {fmt} output (no article section in it); give a new "
                "--output, or --no-resume to overwrite it"
            )
        end = 0
    if end < size:
        with open(path, "rb+") as fh:
            fh.truncate(end)
    return size - end


class DocumentSink(_LineSink):
    """Markdown or text: one section per article (``render.section``: headline, summary, fields, source),
    each ended by a line holding its id, which is how resume knows what is done."""

    def __init__(self, path: str | Path | None, resume: bool, fmt: str) -> None:
        self.fmt = fmt
        target = None if path in (None, "-") else Path(path)
        if resume and target is not None and target.is_file():
            try:
                cut_partial_section(target, fmt)
            except OSError as exc:
                raise output_error(target, exc) from None
        super().__init__(path, resume)

    def _load(self, fh: IO[str]) -> None:
        for line in fh:
            found = _trailer_id(line, self.fmt)
            if found is not None:
                self.done_ids.add(found)

    def write(self, outcome: Outcome) -> None:
        self.write_record(outcome.record())

    def write_record(self, record: dict[str, Any]) -> None:
        from ..render import for_terminal, section

        body = "\n".join(section(record["summary"], self.fmt, source=str(record["source"]))).rstrip()
        trailer = _TRAILERS[self.fmt][1].format(json.dumps(str(record["id"])).replace(">", "\\u003e"))
        text = f"{body}\n\n{trailer}\n\n"
        if self.path is None and sys.stdout.isatty():  # control characters from an article move no cursor
            text = for_terminal(text)
        self._line(text)


def _columns(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        nested = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if nested is None and typing.get_origin(annotation) in (typing.Union, types.UnionType):
            for arg in typing.get_args(annotation):  # Optional[Model]
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    nested = arg
        if nested is not None:
            yield from _columns(nested, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return " | ".join(str(_cell(v)) for v in value)
    if isinstance(value, dict):
        return " \u2014 ".join(str(_cell(v)) for v in value.values() if v not in (None, "", []))
    return value


def _flat(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) and ("\n" in value or "\r" in value) else value


class ErrorSink:
    """Failed items of this run as JSONL ``{id, source, error, message, attempts}``.

    Started afresh each run: a resumed run retries every item that is not in the output,
    so the file always describes the failures of the latest run, and an id is never both
    in the output and here. Without a path, failures are reported on stderr.
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.count = 0
        self._fh: IO[str] | None = None
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
            except OSError as exc:
                raise output_error(self.path, exc) from None

    def write(self, outcome: Outcome) -> None:
        self.write_record(outcome.error_record())

    def write_record(self, record: dict[str, Any]) -> None:
        self.count += 1
        if self._fh is None:
            from ..render import for_terminal  # an id or a message could otherwise forge lines or steer the terminal

            sys.stderr.write(
                f"summarizer: failed {for_terminal(str(record['id']), lines=False)}: "
                f"{for_terminal(str(record['message']), lines=False)}\n"
            )
            return
        try:
            self._fh.write(_dump(record) + "\n")
            self._fh.flush()
        except OSError as exc:
            raise output_error(self.path or Path("the errors file"), exc) from None

    def close(self) -> None:
        if self._fh is not None and not self._fh.closed:
            with contextlib.suppress(OSError):
                self._fh.close()


class FolderSink:
    """A folder of parts: each run adds its own JSONL part (line by line) or Parquet parts (in blocks).

    Parquet rows are ``id, source, summary, meta``, the last two as JSON text: the same record as a
    JSONL line, whatever the schema (a struct column would need one Arrow type for every answer)."""

    def __init__(self, folder: str | Path, fmt: str, resume: bool) -> None:
        self.folder = self.path = Path(folder)
        self.fmt = fmt
        self.done_ids = IdSet()
        self.repaired = 0
        self.existing = False
        self._rows: list[dict[str, Any]] = []
        self._flushed = time.monotonic()
        self._lines: JsonlSink | None = None
        # Unique per run, also for runs in the same second: a part is never reopened for writing.
        self._stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self._parts = 0
        if fmt == "parquet":
            _need_pyarrow()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for stale in self.folder.glob(".part-*.tmp"):
                stale.unlink()
            for part in sorted(self.folder.glob("part-*")):
                if not resume:
                    part.unlink()
                elif part.suffix == ".jsonl":
                    self.existing = True
                    self.repaired += repair(part)
                    with open(part, encoding="utf-8") as fh:
                        load_ids(fh, part, self.done_ids)
                elif part.suffix == ".parquet":
                    self.existing = True
                    self._load_parquet(part)
        except OSError as exc:
            raise output_error(self.folder, exc) from None

    def _load_parquet(self, part: Path) -> None:
        import pyarrow.parquet as pq

        try:
            ids = pq.read_table(part, columns=["id"]).column("id").to_pylist()
        except Exception as exc:  # pyarrow raises several kinds for a broken file
            raise InputError(
                f"{part} is not a summarizer Parquet part ({exc}); remove it or give a new --output"
            ) from None
        for item_id in ids:
            self.done_ids.add(str(item_id))

    def write(self, outcome: Outcome) -> None:
        self.write_record(outcome.record())

    def write_record(self, record: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            if self._lines is None:
                self._lines = JsonlSink(self.folder / f"part-{self._stamp}.jsonl", resume=False)
            self._lines.write_record(record)
            return
        self._rows.append(
            {
                "id": record["id"],
                "source": record["source"],
                "summary": _dump(record["summary"]),
                "meta": _dump(record["meta"]),
            }
        )
        if len(self._rows) >= PARQUET_ROWS or time.monotonic() - self._flushed >= PARQUET_SECONDS:
            self._flush()

    def _flush(self) -> None:
        self._flushed = time.monotonic()
        if not self._rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        name = f"part-{self._stamp}-{self._parts:05d}.parquet"
        temporary = self.folder / f".{name}.tmp"
        table = pa.Table.from_pylist(self._rows, schema=PARQUET_SCHEMA())
        try:
            pq.write_table(table, temporary)
            os.replace(temporary, self.folder / name)
        except OSError as exc:
            raise output_error(self.folder / name, exc) from None
        self._parts += 1
        self._rows = []

    def close(self) -> None:
        if self._lines is not None:
            self._lines.close()
        self._flush()


def PARQUET_SCHEMA() -> Any:  # noqa: N802 (a constant, built on first use: pyarrow is optional)
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("source", pa.string()), ("summary", pa.string()), ("meta", pa.string())])


def _need_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError("Parquet needs pyarrow: pip install 'summarizer[parquet]'") from None


def is_folder_output(path: str | Path | None, fmt: str) -> bool:
    """Whether ``path`` is written as a folder of parts: Parquet always, JSONL when it names a folder."""
    if path in (None, "-"):
        return False
    return fmt == "parquet" or str(path).endswith(("/", os.sep)) or Path(path).is_dir()


Sink = JsonlSink | CsvSink | FolderSink | DocumentSink


def open_sink(path: str | Path | None, *, fmt: str, schema: SchemaSpec, resume: bool) -> Sink:
    if fmt not in FORMATS:
        raise InputError(f"unknown batch format {fmt!r}; choose jsonl, csv, parquet, markdown or text")
    if fmt == "parquet" and path in (None, "-"):
        raise InputError("Parquet output needs -o FOLDER (it is written as parts)")
    if is_folder_output(path, fmt):
        if fmt in ("csv", "markdown", "text"):
            raise InputError(f"{path} is a folder: {fmt} output is one file (use --format jsonl or parquet)")
        assert path is not None
        return FolderSink(path, fmt, resume)
    if fmt == "csv":
        return CsvSink(path, resume, schema)
    if fmt in ("markdown", "text"):
        return DocumentSink(path, resume, fmt)
    return JsonlSink(path, resume)
