"""Reading articles: text, Markdown, saved real HTML pages, URLs, bad input."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from summarizer import InputError
from summarizer.sources import from_bytes, load

from .conftest import FIXTURES

# The pages with an expected text (goose3's pages are there for the field annotations only).
PAGES = sorted(p for p in (FIXTURES / "html").glob("*.html") if p.with_name(p.stem + ".expected.txt").exists())


def _overlap(extracted: str, expected: str) -> float:
    want = expected.split()
    got = set(extracted.split())
    return sum(w in got for w in want) / len(want)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_real_pages_yield_their_article_text(page: Path):
    article = load(str(page))
    expected = page.with_name(page.stem + ".expected.txt").read_text(encoding="utf-8")
    assert _overlap(article.text, expected) > 0.9
    assert article.title and article.path == str(page)


def test_html_metadata_is_extracted():
    article = load(str(FIXTURES / "html" / "zyte_latimes.com_098bb3e96c.html"))
    assert (article.author, article.date, article.site) == ("Meg James", "2019-11-19", "Los Angeles Times")
    assert "Disney+" in article.title


def test_text_and_markdown(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Line one.\nLine two.\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# Title\n\nSome *text* here.\n", encoding="utf-8")
    assert load(str(tmp_path / "a.txt")).text == "Line one.\nLine two."
    markdown = load(str(tmp_path / "a.md"))
    assert (markdown.text, markdown.title) == ("Title\nSome text here.", "Title")


def test_markdown_is_read_as_a_reader_reads_it(tmp_path: Path):
    """Was: read as plain text, so "**Read more:** [Why…](https://…)" became a timeline entry, markup and all."""
    (tmp_path / "story.md").write_text(
        "# Council approves tram line\n\n*By Jane Reporter*\n\nThe council voted on Tuesday to build it, ending "
        "**ten years** of debate.\n\n![The chamber](chamber.jpg)\n*The council chamber on Tuesday.*\n\nIt will cost "
        "$420 million, says the [transport department](https://example.com/t).\n\n- Work starts in spring.\n",
        encoding="utf-8",
    )
    article = load(str(tmp_path / "story.md"))
    assert article.title == "Council approves tram line"
    assert article.text.splitlines() == [
        "Council approves tram line",
        "By Jane Reporter",  # a byline in italics stays: it names the author
        "The council voted on Tuesday to build it, ending ten years of debate.",
        "It will cost $420 million, says the transport department.",  # the caption in italics is gone
        "Work starts in spring.",
    ]


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "is empty"),
        (b"   \n\t\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"%PDF-1.7 stuff", "PDF"),
        (b"abc\x00def\x00" * 20, "binary"),
        (b"\x01\x02\x03\x04\x05\x06 text " * 20, "binary"),
    ],
)
def test_unusable_input_is_an_input_error(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load(str(path))


def test_missing_file_folder_and_size_limits(tmp_path: Path):
    with pytest.raises(InputError, match="no such file"):
        load(str(tmp_path / "missing.txt"))
    with pytest.raises(InputError, match="folder"):
        load(str(tmp_path))
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    with pytest.raises(InputError, match="character limit"):
        load(str(big), max_chars=100)
    with pytest.raises(InputError, match="byte limit"):
        load(str(big), max_bytes=100)


def test_html_declared_charset_and_bad_utf8():
    html = (
        '<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body><article>'
        + "<p>Le caf\xe9 a ouvert ses portes \xe0 Paris lundi matin devant une foule nombreuse.</p>" * 5
        + "</article></body></html>"
    ).encode("latin-1")
    article = from_bytes(html, name="page")
    assert "café" in article.text and not article.warnings

    text = from_bytes("Caf\xe9 news today. More here. And more.".encode("latin-1"), name="t", html=False)
    assert "\ufffd" in text.text and "not valid UTF-8" in text.warnings[0]


def test_html_without_article_text():
    with pytest.raises(InputError, match="no article text"):
        from_bytes(b"<html><body><script>var x = 1;</script></body></html>", name="page")


@pytest.fixture
def web() -> Iterator[str]:
    page = (FIXTURES / "html" / "zyte_bbc.com_70cb2d5bca.html").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/story":
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
            elif self.path == "/moved":
                self.send_response(302)
                self.send_header("location", "/story")
                self.send_header("content-length", "0")
                self.end_headers()
            else:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_url_is_fetched_and_extracted(web: str):
    article = load(f"{web}/moved")
    assert article.url == f"{web}/story" and len(article.text) > 1000
    with pytest.raises(InputError, match="HTTP 404"):
        load(f"{web}/missing")
    with pytest.raises(InputError, match="byte limit"):
        load(f"{web}/story", max_bytes=1000)
