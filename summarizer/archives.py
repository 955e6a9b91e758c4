"""Batch inputs: folders, globs, JSONL/JSON/CSV dumps, zip/tar archives, WARC files and stdin, as a stream of items.

Everything is streamed: one record, member or file at a time, never a whole archive
in memory. Each item carries a stable id (the id field, the path or member name, the
WARC target URI, else a hash of the text) so a re-run can skip what is done. Reading
is split in two: ``iter_items`` yields items whose bytes are fetched by ``Item.resolve``
(only for items that are not skipped), and ``Item.article`` does the decoding and HTML
extraction, which is the slow part and runs in the batch workers.

An item that cannot be read (a corrupt member, a bad JSONL line, a record without
text) is still yielded, with ``error`` set, so it is reported rather than lost.
"""

from __future__ import annotations

import bz2
import csv
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import InputError
from .sources import (
    MAX_CHARS,
    MAX_HTML_BYTES,
    Article,
    check_html_size,
    from_bytes,
    from_html,
    from_text,
    looks_like_html,
)
from .urllists import is_url, is_url_list, looks_like_url_list_file, read_url_list

ARTICLE_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_METADATA = ("title", "url", "date", "author", "site")


@dataclass(slots=True)
class Item:
    """One article to summarize, not yet decoded. ``data`` is text or raw bytes (``reader`` fetches it)."""

    id: str
    source: str
    data: str | bytes | None = None
    html: bool | None = None  # None: sniff the content
    charset: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    reader: Callable[[], bytes] | None = None
    fetch_url: str | None = None  # a page to fetch first (a URL input): the batch runner fills ``data``

    def resolve(self, max_bytes: int) -> Item:
        """Fetch the bytes now (the archive is positioned at this member only until the next item)."""
        if self.reader is not None and self.error is None:
            try:
                data = self.reader()
                if len(data) > max_bytes:
                    self.error = f"{self.source} is {len(data):,} bytes, over the {max_bytes:,}-byte limit"
                else:
                    self.data = data
            except Exception as exc:  # a corrupt member (zlib, lzma, a WARC record...): this item's error
                self.error = f"cannot read {self.source}: {_one_line(exc)}"
        self.reader = None
        return self

    def may_be_html(self) -> bool:
        """Whether decoding this item may mean HTML extraction (the costly part, worth a worker thread)."""
        if self.html is not None:
            return self.html
        head = self.data[:4096] if self.data is not None else ""
        return looks_like_html(head.decode("utf-8", "replace") if isinstance(head, bytes) else head)

    def article(
        self, *, max_bytes: int = 20_000_000, max_chars: int = MAX_CHARS, max_html_bytes: int = MAX_HTML_BYTES
    ) -> Article:
        """Decode and extract: raises InputError for empty, binary, oversized or text-less input."""
        if self.error is not None:
            raise InputError(self.error)
        self.resolve(max_bytes)
        if self.error is not None:
            raise InputError(self.error)
        data, name = self.data, self.source
        url = self.fields.get("url")
        if data is None and self.fetch_url is not None:
            raise InputError(
                f"{self.fetch_url} was not fetched: URL inputs are fetched by the local batch runner",
                hint="leave out --runner ray and --via batch-api",
            )
        if data is None:
            raise InputError(f"{name} has no text")
        if isinstance(data, bytes):
            article = from_bytes(
                data,
                name=name,
                html=self.html,
                charset=self.charset,
                url=url,
                max_chars=max_chars,
                max_html_bytes=max_html_bytes,
                markdown=not self.html and name.lower().endswith((".md", ".markdown")),
            )
        elif self.html or (self.html is None and looks_like_html(data)):
            check_html_size(len(data), name=name, max_html_bytes=max_html_bytes)  # characters: at most the bytes
            article = from_html(data, url=url, name=name)
            from .sources import check_text

            check_text(article.text, name=name, max_chars=max_chars)
        else:
            article = from_text(data, max_chars=max_chars, name=name)
        if self.fetch_url is None and not self.html and is_url_list(article.text):
            raise InputError(
                f"{name} is a list of URLs, not an article",
                hint="give the file to batch as an input of its own: its pages are fetched",
            )
        for key in _METADATA:
            if self.fields.get(key) and not getattr(article, key, None):
                setattr(article, key, self.fields[key])
        return article


class IdSet:
    """A set of item ids that costs ~70 bytes an id whatever its length (a URL id is often 100+ characters).

    Ids are kept as 128-bit BLAKE2b digests: a false "already seen" would take ~10^19 ids to become
    likely, so it is exact for any archive that fits on a disk.
    """

    __slots__ = ("_digests",)

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._digests: set[int] = {self._digest(i) for i in ids}

    @staticmethod
    def _digest(item_id: str) -> int:
        return int.from_bytes(hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=16).digest())

    def add(self, item_id: str) -> None:
        self._digests.add(self._digest(item_id))

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and self._digest(item_id) in self._digests

    def __len__(self) -> int:
        return len(self._digests)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("an IdSet holds digests; its ids cannot be listed")


def content_id(text: str | bytes) -> str:
    """A stable id for an item that names none: a hash of its content."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return "sha256:" + hashlib.sha256(data).hexdigest()[:24]


def kind_of(spec: str) -> str:
    """What a batch input is: stdin, url, dir, glob, urls (a list of URLs), jsonl, json, csv, parquet, zip, tar,
    warc or article."""
    if spec == "-":
        return "stdin"
    path = Path(spec)
    if not path.exists() and is_url(spec):
        return "url"
    if path.is_dir():
        return "dir"
    if not path.exists() and glob.has_magic(spec):
        return "glob"
    if looks_like_url_list_file(path):
        return "urls"
    name = path.name.lower()
    for suffix in (".gz", ".bz2", ".xz"):
        if name.endswith(suffix) and not name.endswith(TAR_SUFFIXES) and not name.endswith(".warc.gz"):
            name = name[: -len(suffix)]
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    for kind, suffixes in (
        ("jsonl", (".jsonl", ".ndjson")),
        ("json", (".json",)),
        ("csv", (".csv", ".tsv")),
        ("parquet", (".parquet", ".pq")),
        ("zip", (".zip",)),
        ("warc", (".warc", ".warc.gz", ".arc", ".arc.gz")),
    ):
        if name.endswith(suffixes):
            return kind
    return "article"


def check_inputs(specs: list[str], *, refuse_stdin: str | None = None) -> None:
    """Fail before starting if an input does not exist (a glob must match something), or is standard input
    where the runner cannot read it (``refuse_stdin``: the reason said)."""
    if not specs:
        raise InputError("no inputs given")
    for spec in specs:
        kind = kind_of(spec)
        if kind == "stdin" and refuse_stdin:
            raise InputError(refuse_stdin)
        if kind == "glob":
            if next(glob.iglob(spec, recursive=True), None) is None:
                raise InputError(f"no file matches {spec}")
        elif kind not in ("stdin", "url") and not Path(spec).exists():
            raise InputError(f"no such file or folder: {spec}")
    if specs.count("-") > 1:
        raise InputError("standard input (-) can be given only once")


def iter_items(
    specs: list[str], *, text_field: str = "text", id_field: str = "id", max_bytes: int = 20_000_000
) -> Iterator[Item]:
    """Every item of every input, in order, streamed."""
    options = {"text_field": text_field, "id_field": id_field, "max_bytes": max_bytes}
    for spec in specs:
        yield from _items_of(spec, **options)


def _items_of(spec: str, **options: Any) -> Iterator[Item]:
    kind = kind_of(spec)
    if kind == "stdin":
        yield from _records(sys.stdin.buffer, "<stdin>", **options)
    elif kind == "dir":
        yield from _folder(spec, options["max_bytes"])
    elif kind == "glob":
        for match in glob.iglob(spec, recursive=True):
            if Path(match).is_file():
                yield from _items_of(match, **options)
    elif kind == "article":
        yield _file_item(Path(spec), spec, options["max_bytes"])
    elif kind == "url":
        yield url_item(spec)
    elif kind == "urls":
        try:
            for where, url, error in read_url_list(Path(spec), spec):
                yield url_item(url) if url is not None else Item(id=where, source=where, error=error)
        except Exception as exc:
            yield Item(
                id=f"{Path(spec).name}:<unreadable>",
                source=spec,
                error=f"cannot read {spec} past this point: {_one_line(exc)}",
            )
    else:
        reader = {
            "jsonl": _jsonl_file,
            "json": _json_file,
            "csv": _csv_file,
            "parquet": _parquet_file,
            "zip": _zip,
            "tar": _tar,
            "warc": _warc,
        }[kind]
        try:
            yield from reader(spec, **options)
        except Exception as exc:  # whatever stops a reader is this input's error, not the batch's
            # A corrupt or truncated archive, a CSV field over the limit: what was read stands; the rest is
            # reported, not lost, and the other inputs are read.
            yield Item(
                id=f"{Path(spec).name}:<unreadable>",
                source=spec,
                error=f"cannot read {spec} past this point: {_one_line(exc)}",
            )


def _open(spec: str) -> IO[bytes]:
    opener = _COMPRESSED.get(Path(spec).suffix.lower())
    return opener(spec, "rb") if opener else open(spec, "rb")  # type: ignore[operator]


def _file_item(path: Path, spec: str, max_bytes: int) -> Item:
    item = Item(id=spec, source=spec, html=True if path.suffix.lower() in HTML_SUFFIXES else None)
    try:
        size = path.stat().st_size
    except OSError as exc:
        item.error = f"cannot read {spec}: {exc.strerror}"
        return item
    if size > max_bytes:
        item.error = f"{spec} is {size:,} bytes, over the {max_bytes:,}-byte limit"
    else:
        item.reader = path.read_bytes
    return item


def _folder(root: str, max_bytes: int) -> Iterator[Item]:
    """Article files under ``root``, recursively, in a stable (sorted) order."""
    for folder, dirs, files in os.walk(root, onerror=None):
        dirs.sort()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in sorted(files):
            if name.lower().endswith(ARTICLE_SUFFIXES) and not name.startswith("."):
                path = Path(folder) / name
                yield _file_item(path, str(path), max_bytes)


def url_item(url: str, item_id: str | None = None, fields: dict[str, str] | None = None) -> Item:
    """A page to fetch, then summarize: its id is the URL unless the record names one (resume skips it)."""
    return Item(id=item_id or url, source=url, fields={**(fields or {}), "url": url}, fetch_url=url)


def _record_item(record: Any, where: str, text_field: str, id_field: str) -> Item:
    if not isinstance(record, dict):
        return Item(id=where, source=where, error=f"{where} is not a JSON object")
    text = record.get(text_field)
    html: bool | None = None
    if text is None and text_field == "text" and isinstance(record.get("html"), str):
        text, html = record["html"], True
    given = record.get(id_field)
    item_id = str(given) if given not in (None, "") else None
    url = record.get("url")
    if text in (None, "") and isinstance(url, str) and is_url(url):  # a record that only names its page: fetch it
        fields = {k: str(record[k]) for k in _METADATA if isinstance(record.get(k), str | int) and record[k] != ""}
        return url_item(url.strip(), item_id, fields)
    if not isinstance(text, str):
        problem = "has no" if text is None else "has a non-text"
        return Item(
            id=item_id or where,
            source=where,
            error=f"{where} {problem} {text_field!r} field (choose it with --text-field)",
        )
    fields = {k: str(record[k]) for k in _METADATA if isinstance(record.get(k), str | int) and record[k] != ""}
    return Item(id=item_id or content_id(text), source=where, data=text, html=html, fields=fields)


def _records(stream: IO[bytes], name: str, *, text_field: str, id_field: str, max_bytes: int) -> Iterator[Item]:
    """One item per non-blank JSONL line; a line that cannot be read (too long, too deep, not JSON, not a
    record) is an error item with a one-line reason, and the lines after it are read as usual."""
    from .jsonguard import check

    for number, line in enumerate(_bounded_lines(stream, max_bytes), 1):
        if line is not None and not line.strip():
            continue
        where = f"{name}:{number}"
        if line is None:
            yield Item(id=where, source=where, error=f"{where} is over the {max_bytes:,}-byte limit")
            continue
        try:
            check(line, what=where)  # before the parser: json.loads recurses once per level
            record = json.loads(line)
        except InputError as exc:
            yield Item(id=where, source=where, error=str(exc))
            continue
        except (ValueError, RecursionError) as exc:
            yield Item(id=where, source=where, error=f"{where} is not valid JSON: {_one_line(exc)}")
            continue
        yield _guarded_record_item(record, where, text_field, id_field)


def _bounded_lines(stream: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """The stream's lines, each read with at most ``limit + 1`` bytes held; None for a longer line (skipped
    in pieces, never held whole)."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def _guarded_record_item(record: Any, where: str, text_field: str, id_field: str) -> Item:
    """``_record_item``, with anything unexpected about this record made its error instead of the batch's."""
    try:
        return _record_item(record, where, text_field, id_field)
    except Exception as exc:
        return Item(id=where, source=where, error=f"{where} cannot be read: {type(exc).__name__}: {_one_line(exc)}")


def _jsonl_file(spec: str, **options: Any) -> Iterator[Item]:
    with _open(spec) as stream:
        yield from _records(stream, spec, **options)


def _json_file(spec: str, *, text_field: str, id_field: str, max_bytes: int) -> Iterator[Item]:
    """A JSON array of records, parsed incrementally (ijson), never loaded whole. A record nested deeper than
    ``jsonguard.MAX_DEPTH`` is an error item, not built (see ``_array_records``)."""
    import ijson

    with _open(spec) as stream:
        head = stream.read(1)
        while head and head.isspace():
            head = stream.read(1)
        if head != b"[":
            raise ValueError("a .json input must be an array of objects (use .jsonl for one object per line)")
        stream.seek(0)
        try:
            for number, record in enumerate(_array_records(ijson.basic_parse(stream, use_float=True))):
                where = f"{spec}:[{number}]"
                if isinstance(record, _TooDeep):
                    yield Item(id=where, source=where, error=f"{where} is nested more than {record.limit} levels deep")
                else:
                    yield _guarded_record_item(record, where, text_field, id_field)
        except ijson.JSONError as exc:  # reported like any unreadable input: what was read stands
            raise ValueError(f"invalid JSON: {_one_line(exc)}") from None


@dataclass(frozen=True, slots=True)
class _TooDeep:
    limit: int


def _array_records(events: Iterable[tuple[str, Any]], max_depth: int | None = None) -> Iterator[Any]:
    """The elements of a top-level JSON array, built from ijson's ``basic_parse`` events (which, unlike
    ``ijson.items``, keep no path per open level: memory stays linear in the depth). An element nested deeper
    than ``max_depth`` levels is not built: it comes out as ``_TooDeep``."""
    import ijson

    from .jsonguard import MAX_DEPTH

    limit = MAX_DEPTH if max_depth is None else max_depth
    level = 0  # open containers, the top-level array included
    builder: Any = None
    for event, value in events:
        opens, closes = event in ("start_map", "start_array"), event in ("end_map", "end_array")
        if level == 0:
            level += opens  # the array itself
            continue
        if level == 1:
            if closes:
                return
            builder = ijson.ObjectBuilder()
        level += opens - closes
        if builder is not None:
            if level - 1 > limit:
                builder = None  # the rest of this element is only counted
            else:
                builder.event(event, value)
        if level == 1:
            yield builder.value if builder is not None else _TooDeep(limit)


def _csv_file(spec: str, *, text_field: str, id_field: str, max_bytes: int) -> Iterator[Item]:
    csv.field_size_limit(max(max_bytes, 131072))
    with _open(spec) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        dialect = "excel-tab" if spec.lower().removesuffix(".gz").endswith(".tsv") else "excel"
        reader = csv.DictReader(text, dialect=dialect)
        if reader.fieldnames is None:
            return
        if text_field not in reader.fieldnames:
            raise ValueError(
                f"no {text_field!r} column (columns: {', '.join(reader.fieldnames)}; choose one with --text-field)"
            )
        for number, row in enumerate(reader, 2):
            yield _record_item(row, f"{spec}:{number}", text_field, id_field)


def _parquet_file(spec: str, *, text_field: str, id_field: str, max_bytes: int) -> Iterator[Item]:
    """A Parquet file, read one record batch at a time (Ray and Arrow users keep archives so)."""
    parquet = _pyarrow_parquet()
    with parquet.ParquetFile(spec) as table:
        names = table.schema_arrow.names
        if text_field not in names and not (text_field == "text" and "html" in names):
            raise ValueError(f"no {text_field!r} column (columns: {', '.join(names)}; choose one with --text-field)")
        wanted = [n for n in names if n in {text_field, id_field, "html", *_METADATA}]
        number = 0
        for batch in table.iter_batches(batch_size=256, columns=wanted):
            for record in batch.to_pylist():
                yield _record_item(record, f"{spec}:{number}", text_field, id_field)
                number += 1


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise InputError("Parquet input needs pyarrow: pip install 'summarizer[parquet]'") from None
    return parquet


def _member(spec: str, name: str, size: int, max_bytes: int, reader: Callable[[], bytes]) -> Item:
    """An archive member as an item: id ``archive-name:member``; over the size limit, an error item."""
    item = Item(
        id=f"{Path(spec).name}:{name}",
        source=f"{spec}:{name}",
        html=True if name.lower().endswith(HTML_SUFFIXES) else None,
    )
    if size > max_bytes:
        item.error = f"{item.source} is {size:,} bytes, over the {max_bytes:,}-byte limit"
    else:
        item.reader = reader
    return item


def _zip(spec: str, *, max_bytes: int, **_: Any) -> Iterator[Item]:
    with zipfile.ZipFile(spec) as archive:
        for info in archive.infolist():
            if not info.is_dir() and info.filename.lower().endswith(ARTICLE_SUFFIXES):
                yield _member(spec, info.filename, info.file_size, max_bytes, lambda info=info: archive.read(info))  # type: ignore[misc]


def _tar(spec: str, *, max_bytes: int, **_: Any) -> Iterator[Item]:
    with tarfile.open(spec, mode="r|*") as archive:  # stream mode: one pass, constant memory
        for member in archive:
            if member.isfile() and member.name.lower().endswith(ARTICLE_SUFFIXES):
                read = lambda member=member: _tar_read(archive, member)  # noqa: E731
                yield _member(spec, member.name, member.size, max_bytes, read)


def _tar_read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    if handle is None:
        raise OSError("not a regular file")
    return handle.read()


def _warc(spec: str, **_: Any) -> Iterator[Item]:
    """HTML responses in a WARC (or ARC) file, gzipped or not; id = the target URI."""
    from warcio.archiveiterator import ArchiveIterator

    with open(spec, "rb") as stream:
        records = ArchiveIterator(stream, arc2warc=True)
        for record in records:
            if record.rec_type != "response" or record.http_headers is None:
                continue
            content_type = (record.http_headers.get_header("Content-Type") or "").lower()
            status = record.http_headers.get_statuscode() or ""
            if "html" not in content_type or not status.startswith("2"):
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI") or f"{spec}@{records.get_record_offset()}"
            charset = content_type.split("charset=", 1)[1].split(";")[0].strip() if "charset=" in content_type else None
            yield Item(
                id=uri,
                source=f"{spec}:{uri}",
                html=True,
                charset=charset,
                fields={"url": uri},
                reader=(lambda record=record: record.content_stream().read()),  # type: ignore[misc]
            )


def count_items(specs: list[str], *, text_field: str = "text", id_field: str = "id") -> int | None:
    """How many items the inputs hold, for the progress bar; None when it cannot be known cheaply (stdin).

    Counting reads the inputs once more (archives are decompressed, but no article is extracted),
    so callers run it beside the batch, not before it.
    """
    total = 0
    for spec in specs:
        kind = kind_of(spec)
        if kind == "stdin":
            return None
        if kind == "jsonl":
            with _open(spec) as stream:
                total += sum(1 for line in stream if line.strip())
        elif kind == "parquet":
            with _pyarrow_parquet().ParquetFile(spec) as table:
                total += table.metadata.num_rows
        elif kind == "zip":
            with zipfile.ZipFile(spec) as archive:
                total += sum(
                    1 for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(ARTICLE_SUFFIXES)
                )
        elif kind == "glob":
            matches = [m for m in glob.iglob(spec, recursive=True) if Path(m).is_file()]
            counted = count_items(matches, text_field=text_field, id_field=id_field)
            if counted is None:
                return None
            total += counted
        else:  # folders, CSV, JSON arrays, tar and WARC: walk them without decoding articles
            options = {"text_field": text_field, "id_field": id_field, "max_bytes": sys.maxsize}
            total += sum(1 for _ in _items_of(spec, **options))
    return total
