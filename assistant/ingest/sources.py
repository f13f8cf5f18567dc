"""Reading what a user hands to ``assistant add``: files, directories, URLs, stdin, JSONL.

Each source yields ``RawDoc`` records (text not yet cleaned) or ``Failure`` records naming the
problem and the fix; one bad file never stops the others.
"""

from __future__ import annotations

import codecs
import contextlib
import http.client
import ipaddress
import json
import os
import re
import socket
import stat
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from assistant.errors import InputError
from assistant.ingest.cleaning import whole_characters
from assistant.settings import IngestSettings

TEXT_SUFFIXES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
                 ".html": "html", ".htm": "html"}  # fmt: skip
RECORD_FIELDS = ("id", "title", "text", "author", "outlet", "published", "url")
_BINARY_MAGIC = (
    b"\x89PNG",
    b"%PDF",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x7fELF",
)


@dataclass(frozen=True)
class RawDoc:
    """One article as it arrived."""

    origin: str  # file path, URL, "stdin" or "file.jsonl:LINE"
    text: str
    kind: str  # "text", "markdown", "html" or "record" (already clean, from JSONL)
    meta: dict[str, str] = field(default_factory=dict)  # metadata the source states
    id: str | None = None  # the id the source gives (JSONL) or suggests (file name)
    id_given: bool = False  # True when the id must be kept as is (JSONL ids)


@dataclass(frozen=True)
class Failure:
    """A source that could not be read, and why."""

    origin: str
    message: str


def decode(data: bytes, origin: str, limit: int, *, typed: str | None = None) -> str:
    """The text of ``data``, or InputError for empty, oversized, binary or non-UTF-8 input.

    ``typed``: the input is text typed or pasted into a box, not a file; the fix to give when
    it is empty ("Paste the article's text."). Its messages then say nothing of files or flags.
    """
    if len(data) > limit:
        fix = "Shorten it." if typed else "Split it, or raise the limit with --max-bytes."
        raise InputError(
            f"{origin}: too large ({len(data):,} bytes; the limit is {limit:,}). {fix}"
        )
    if not data.strip():
        raise InputError(
            f"{origin}: empty; nothing to add. {typed}" if typed
            else f"{origin}: empty file; nothing to add."
        )  # fmt: skip
    if (utf16 := _utf16(data)) is not None:  # saved as "Unicode" by Windows tools
        if not utf16.strip():
            raise _only_whitespace(origin, typed)
        return utf16
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:8192]:
        fix = typed or "Add .txt, .md, .html or .jsonl files."
        raise InputError(f"{origin}: binary data, not text. {fix}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{origin}: not valid UTF-8 (byte {data[e.start]:#04x} at offset {e.start}). "
            "Save the file as UTF-8 and add it again."
        ) from None
    if not text.strip():
        raise _only_whitespace(origin, typed)
    return text


def _only_whitespace(origin: str, typed: str | None) -> InputError:
    return InputError(f"{origin}: only whitespace; nothing to add.{f' {typed}' if typed else ''}")


def _utf16(data: bytes) -> str | None:
    """The text of UTF-16 ``data`` — a byte-order mark, or the zero byte every other byte that
    UTF-16 of Latin text has — else None. Read as UTF-8 it was "binary" (a file) or letter-
    spaced garbage (a page without a charset)."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    else:
        even, odd = data[:4096:2], data[1:4096:2]
        if len(odd) < 8:
            return None
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            encoding = "utf-16-le"
        elif even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            encoding = "utf-16-be"
        else:
            return None
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        return None


def read_sources(
    sources: list[str], settings: IngestSettings, stdin: IO[bytes] | None = None
) -> Iterator[RawDoc | Failure]:
    """Every article in the given sources, in order."""
    for source in sources:
        try:
            if source == "-":
                data = (stdin or sys.stdin.buffer).read(settings.max_bytes + 1)
                text = decode(data, "stdin", settings.max_bytes)
                kind = "html" if looks_like_html(text) else "text"
                yield RawDoc("stdin", text, kind)
            elif "://" in source:
                yield from read_url(source, settings)
            else:
                yield from _read_path(Path(source), settings, top=True)
        except InputError as e:
            yield Failure(source, str(e))
        except Exception as e:  # a surprise in one source never stops the others
            yield Failure(source, _unexpected(e))


def _unexpected(e: Exception) -> str:
    return f"cannot be read ({type(e).__name__}: {e}); please report this."


def _read_path(
    path: Path, settings: IngestSettings, top: bool = False
) -> Iterator[RawDoc | Failure]:
    if not path.exists():
        raise InputError(f"{path}: no such file or directory.")
    if path.is_dir():
        files = _files_in(path)
        if not files:
            raise InputError(f"{path}: the directory holds no files.")
        for p in files:
            if isinstance(p, Failure):
                yield p
                continue
            try:
                yield from _read_path(p, settings)
            except InputError as e:
                yield Failure(str(p), str(e))
            except Exception as e:
                yield Failure(str(p), _unexpected(e))
        return
    if not path.is_file():
        raise InputError(f"{path}: {_kind_of(path)}, not a regular file; skipped.")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl(path, settings)
        return
    if suffix not in TEXT_SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {suffix or '(none)'}; use .txt, .md, .html or .jsonl."
        )
    if path.stat().st_size > settings.max_bytes:
        raise InputError(
            f"{path}: too large ({path.stat().st_size:,} bytes; the limit is {settings.max_bytes:,}). "
            "Split it, or raise the limit with --max-bytes."
        )
    text = decode(path.read_bytes(), str(path), settings.max_bytes)
    yield RawDoc(str(path), text, TEXT_SUFFIXES[suffix], id=path.stem)


def _files_in(top: Path) -> list[Path | Failure]:
    """The files under ``top`` in path order, never leaving it: a link whose target lies
    outside, and anything that is not a regular file (a pipe, a socket, a device), is a Failure
    instead. Names starting with "." are left out, as are links to directories inside ``top``
    (their files are listed under their real place)."""
    root = top.resolve()
    found: list[tuple[str, Path | Failure]] = []
    for here, dirs, names in os.walk(top, followlinks=False):
        for name in [*names, *(d for d in dirs if os.path.islink(os.path.join(here, d)))]:
            p = Path(here, name)
            if name.startswith("."):
                continue
            mode = p.lstat().st_mode
            if stat.S_ISLNK(mode):
                target = p.resolve()
                if not target.is_relative_to(root):
                    found.append(
                        (str(p), Failure(str(p), f"a link to {target}, outside {top}; skipped."))
                    )
                    continue
                if target.is_dir():
                    continue
                mode = target.stat().st_mode if target.exists() else 0
            if not stat.S_ISREG(mode):
                what = _kind_of(p)
                found.append((str(p), Failure(str(p), f"{what}, not a regular file; skipped.")))
                continue
            found.append((str(p), p))
    return [item for _, item in sorted(found, key=lambda f: f[0])]


def _kind_of(path: Path) -> str:
    """What a path that is not a regular file is, in words."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "a broken link"
    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):  # fmt: skip
        if test(mode):
            return what
    return "a special file"


def read_jsonl(path: Path, settings: IngestSettings) -> Iterator[RawDoc | Failure]:
    """One RawDoc per good line of a JSONL file; a Failure naming the line for each bad one."""
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            origin = f"{path}:{number}"
            if not line.strip():
                continue
            try:
                yield _record(line, origin, settings)
            except InputError as e:
                yield Failure(origin, str(e))


def _record(line: bytes, origin: str, settings: IngestSettings) -> RawDoc:
    try:
        obj: Any = json.loads(line.decode("utf-8-sig"))  # a byte-order mark is no error
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{origin}: not a JSON object ({e}); fix or remove the line.") from None
    if not isinstance(obj, dict):
        raise InputError(f'{origin}: expected a JSON object with a "text" field.')
    # JSON can spell half a character ("\\ud800"), which no file can hold: it becomes U+FFFD
    obj = {k: whole_characters(v) if isinstance(v, str) else v for k, v in obj.items()}
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f'{origin}: the "text" field is missing or empty.')
    if len(text.encode()) > settings.max_bytes:
        raise InputError(f"{origin}: text too large (the limit is {settings.max_bytes:,} bytes).")
    from assistant.ingest.schema import ArticleMeta

    checked = ArticleMeta.check({k: v for k, v in obj.items() if k != "text"}, origin)
    meta = {k: v for k in RECORD_FIELDS[1:] if k != "text" and (v := getattr(checked, k))}
    return RawDoc(origin, text, "record", meta, id=checked.id, id_given=checked.id is not None)


def looks_like_html(text: str) -> bool:
    """True when ``text`` is HTML: a page, or a fragment of paragraphs (``<p>…</p>``)."""
    head = text.lstrip()[:1000].lower()
    return (
        head.startswith(("<!doctype html", "<html"))
        or ("<body" in head)
        or ("<p>" in head and "</p>" in head)
    )


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Checks every redirect target like the original URL."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        check_url(newurl, self.settings)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _PrivatePeer(OSError):
    """The connection reached a private or local address (after the name was checked)."""


class _Deadline:
    """A total time limit for one fetch: when it passes, every socket of the fetch is shut, so
    a server that drips its answer (headers or body) cannot hold the caller past the limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            if self.expired:
                self._shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # the plain socket's shutdown, also for TLS: wakes a read blocked in another thread
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _guarded(base: Any, direct: bool, deadline: _Deadline | None = None) -> Any:
    """``base`` (an HTTP(S)Connection class) refusing, once connected directly, a non-public
    peer: the name may resolve to a public address when checked and to a private one when
    connected (DNS rebinding). Through a proxy the peer is the proxy, which the user chose.
    With a ``deadline``, the connection's socket is shut when it passes."""

    class Guarded(base):  # type: ignore[misc, valid-type]
        def connect(self) -> None:
            super().connect()
            if deadline is not None:
                deadline.add(self.sock)
            peer = ipaddress.ip_address(self.sock.getpeername()[0])
            if direct and not peer.is_global:
                self.sock.close()
                raise _PrivatePeer(str(peer))

    return Guarded


class _PublicHTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline | None = None, check_peer: bool = True) -> None:
        super().__init__()
        self.deadline, self.check_peer = deadline, check_peer

    def http_open(self, req: urllib.request.Request) -> Any:
        direct = self.check_peer and not req.has_proxy()
        return self.do_open(_guarded(http.client.HTTPConnection, direct, self.deadline), req)


class _PublicHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline | None = None, check_peer: bool = True) -> None:
        super().__init__()
        self.deadline, self.check_peer = deadline, check_peer

    def https_open(self, req: urllib.request.Request) -> Any:
        direct = self.check_peer and not req.has_proxy()
        conn = _guarded(http.client.HTTPSConnection, direct, self.deadline)
        return self.do_open(conn, req, context=self._context)  # type: ignore[attr-defined]


def web_address(text: str) -> str:
    """``text`` when it is an http(s) URL with a host; InputError otherwise.

    What a web visitor types never reaches the file system: a path, ``file:`` or any other
    scheme is refused, and the message repeats nothing of it (it may name a server path).
    """
    url = (text or "").strip()
    parsed = urlparse(url)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.hostname:
        raise InputError(
            "Only web addresses starting with http:// or https:// can be added here; "
            "to add a file from your computer, use Upload files."
        )
    return url


# the end of the refusal of a private address (the web app shows its users other advice)
PRIVATE_URL_ADVICE = (
    "the server is not allowed to fetch it (set ASSISTANT_ALLOW_PRIVATE_URLS=1 to allow)."
)


def check_url(url: str, settings: IngestSettings) -> None:
    """InputError unless ``url`` is http(s) and (unless allowed) points at a public address."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise InputError(
            f"{url}: only http:// and https:// URLs can be added (not {parsed.scheme}://)."
        )
    if not parsed.hostname:
        raise InputError(f"{url}: the URL has no host name.")
    if settings.allow_private_urls:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 80, proto=socket.IPPROTO_TCP)
    except OSError:
        raise InputError(f"{url}: cannot resolve host {parsed.hostname!r}.") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise InputError(
                f"{url}: refers to a private or local address ({addr}); {PRIVATE_URL_ADVICE}"
            )


FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_XML_TYPES = ("application/xml", "text/xml", "text/plain", "application/octet-stream", "")
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)


@dataclass(frozen=True)
class Fetched:
    """What one HTTP GET gave back (status 304: not modified since the validators sent)."""

    url: str
    status: int
    data: bytes
    content_type: str  # lower case, without parameters; "" when the server sent none
    charset: str | None
    headers: Mapping[str, str]


def is_feed(fetched: Fetched) -> bool:
    """True when the response is an RSS or Atom feed, by its content type or its first element."""
    if fetched.content_type in FEED_TYPES:
        return True
    if fetched.content_type not in _XML_TYPES:
        return False  # a web page (text/html) that merely mentions <feed> stays a page
    head = fetched.data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf", b"<!--")) and bool(
        _FEED_ROOT.search(head)
    )


def fetch(url: str, settings: IngestSettings, headers: Mapping[str, str] | None = None) -> Fetched:
    """GET ``url`` with the URL-import guards: http(s) only, public addresses unless allowed
    (every redirect checked too, and the address actually connected to), at most ``max_bytes``,
    and a total deadline of ``url_deadline_s`` for the whole exchange — connecting, headers,
    body: when it passes the sockets are shut, so a server that sends a byte now and then cannot
    hold it longer. ``headers`` may carry If-None-Match / If-Modified-Since; a 304 comes back as
    status 304. Every network fetch (pages, feeds) goes through here."""
    check_url(url, settings)
    timeout = min(settings.url_timeout_s, settings.url_deadline_s)
    too_slow = InputError(
        f"{url}: the download took longer than the limit of {settings.url_deadline_s:g} s."
    )
    with _Deadline(settings.url_deadline_s) as guard:
        check_peer = not settings.allow_private_urls
        opener = urllib.request.build_opener(
            _SafeRedirects(settings),
            _PublicHTTP(guard, check_peer),
            _PublicHTTPS(guard, check_peer),
        )
        request = urllib.request.Request(
            url, headers={"User-Agent": "commentary-assistant/0.1", **(headers or {})}
        )
        deadline = time.monotonic() + settings.url_deadline_s
        try:
            with opener.open(request, timeout=timeout) as resp:
                ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
                data = _read_capped(resp, url, settings, deadline)
                if guard.expired:  # the body ended because the deadline shut the connection
                    raise too_slow
                return Fetched(url, resp.status, data, ctype,
                               resp.headers.get_content_charset(), dict(resp.headers.items()))  # fmt: skip
        except urllib.error.HTTPError as e:
            if e.code == 304:
                return Fetched(url, 304, b"", "", None, dict(e.headers.items()))
            raise InputError(f"{url}: the server answered HTTP {e.code} ({e.reason}).") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, _PrivatePeer):
                raise InputError(
                    f"{url}: connected to a private or local address ({e.reason}); "
                    + PRIVATE_URL_ADVICE
                ) from None
            if guard.expired:
                raise too_slow from None
            if isinstance(e.reason, TimeoutError):
                raise InputError(f"{url}: no answer within {timeout:g} s.") from None
            raise InputError(
                f"{url}: cannot fetch ({e.reason}). Check the address and your connection."
            ) from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            if guard.expired or time.monotonic() >= deadline:
                raise too_slow from None
            if isinstance(e, TimeoutError):
                raise InputError(f"{url}: no answer within {timeout:g} s.") from None
            raise InputError(f"{url}: the connection broke off ({e!r}). Try again.") from None


def _read_capped(resp: Any, url: str, settings: IngestSettings, deadline: float) -> bytes:
    """The body, read piece by piece so that neither its size nor its duration can run over."""
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise InputError(
                f"{url}: the download took longer than the limit of {settings.url_deadline_s:g} s."
            )
        if sock is not None:  # one slow read may not outlast the deadline either
            sock.settimeout(min(left, settings.url_timeout_s))
        try:
            chunk = resp.read1(65536)
        except TimeoutError:
            if time.monotonic() >= deadline:
                continue  # reported by the check at the top
            raise
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > settings.max_bytes:
            raise InputError(
                f"{url}: the page is larger than the limit of {settings.max_bytes:,} bytes."
            )


def read_url(url: str, settings: IngestSettings) -> Iterator[RawDoc | Failure]:
    """The article at ``url``, or, when ``url`` is an RSS or Atom feed, its entries' articles."""
    fetched = fetch(url, settings)
    if is_feed(fetched):
        from assistant.ingest.feeds import feed_items, parse_feed

        yield from feed_items(parse_feed(fetched), settings, max_entries=settings.feed_max_entries)
    else:
        yield page_doc(fetched)


def fetch_url(url: str, settings: IngestSettings) -> RawDoc:
    """Download a web page (size and time capped) as a RawDoc."""
    return page_doc(fetch(url, settings))


def page_text(data: bytes, charset: str | None) -> str:
    """The text of downloaded bytes: in the declared charset when Python knows it, else UTF-8
    when it is valid, else the charset detection finds."""
    if charset:
        try:
            return data.decode(codecs.lookup(charset).name, errors="replace")
        except LookupError:
            pass  # e.g. charset=x-klingon
    if (utf16 := _utf16(data)) is not None:
        return utf16
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def page_doc(fetched: Fetched) -> RawDoc:
    """The RawDoc of a fetched web page; InputError when it is no page or text."""
    url, ctype = fetched.url, fetched.content_type
    if ctype and not (ctype.startswith("text/") or ctype in ("application/xhtml+xml",)):
        raise InputError(f"{url}: not a web page or text ({ctype}).")
    if not fetched.data.strip():
        raise InputError(f"{url}: the page is empty.")
    text = page_text(fetched.data, fetched.charset)
    kind = (
        "html"
        if ctype in ("text/html", "application/xhtml+xml") or looks_like_html(text)
        else "text"
    )
    return RawDoc(url, text, kind, {"url": url})
