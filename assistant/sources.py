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
import socket
import stat
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from assistant.errors import InputError
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


def decode(data: bytes, origin: str, limit: int) -> str:
    """The text of ``data``, or InputError for empty, oversized, binary or non-UTF-8 input."""
    if len(data) > limit:
        raise InputError(
            f"{origin}: too large ({len(data):,} bytes; the limit is {limit:,}). "
            "Split it, or raise the limit with --max-bytes."
        )
    if not data.strip():
        raise InputError(f"{origin}: empty file; nothing to add.")
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:8192]:
        raise InputError(f"{origin}: binary data, not text. Add .txt, .md, .html or .jsonl files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{origin}: not valid UTF-8 (byte {data[e.start]:#04x} at offset {e.start}). "
            "Save the file as UTF-8 and add it again."
        ) from None
    if not text.strip():
        raise InputError(f"{origin}: only whitespace; nothing to add.")
    return text


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
                yield fetch_url(source, settings)
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
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f'{origin}: the "text" field is missing or empty.')
    if len(text.encode()) > settings.max_bytes:
        raise InputError(f"{origin}: text too large (the limit is {settings.max_bytes:,} bytes).")
    meta = {}
    for k in RECORD_FIELDS[1:]:
        value = obj.get(k)
        if k == "text" or value is None:
            continue
        if not isinstance(value, str):
            raise InputError(
                f'{origin}: the "{k}" field must be text or null, not {_json_kind(value)}.'
            )
        if value.strip():
            meta[k] = value.strip()
    rid = obj.get("id")
    if rid is not None and not isinstance(rid, str | int):
        raise InputError(f'{origin}: the "id" field must be a string.')
    return RawDoc(
        origin, text, "record", meta, id=None if rid is None else str(rid), id_given=rid is not None
    )


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def looks_like_html(text: str) -> bool:
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
                f"{url}: refers to a private or local address ({addr}); "
                "the server is not allowed to fetch it (set ASSISTANT_ALLOW_PRIVATE_URLS=1 to allow)."
            )


@dataclass(frozen=True)
class Fetched:
    """A downloaded body with what its headers said of it."""

    url: str
    data: bytes
    content_type: str  # lower case, without parameters; "" when not given
    charset: str | None


def _is_page(content_type: str) -> bool:
    return (
        not content_type
        or content_type.startswith("text/")
        or content_type == "application/xhtml+xml"
    )


def fetch(url: str, settings: IngestSettings, accept: Callable[[str], bool] = _is_page) -> Fetched:
    """The body at ``url``, or InputError naming the problem.

    Every network fetch (pages, feeds) goes through here: the URL and every redirect are
    checked (``check_url``), the whole exchange — connecting, headers, body — must finish within
    ``settings.url_timeout_s`` (a total deadline, not a per-read timeout), and the body may not
    exceed ``settings.max_bytes``. ``accept`` says which content types are wanted.
    """
    check_url(url, settings)
    limit, timeout = settings.max_bytes, settings.url_timeout_s
    too_slow = InputError(f"{url}: no answer within {timeout:g} s (the time limit for a download).")
    with _Deadline(timeout) as deadline:
        check_peer = not settings.allow_private_urls
        opener = urllib.request.build_opener(
            _SafeRedirects(settings),
            _PublicHTTP(deadline, check_peer),
            _PublicHTTPS(deadline, check_peer),
        )
        request = urllib.request.Request(url, headers={"User-Agent": "commentary-assistant/0.1"})
        try:
            with opener.open(request, timeout=timeout) as resp:
                ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if not accept(ctype):
                    raise InputError(f"{url}: not a web page or text ({ctype}).")
                declared = resp.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise InputError(
                        f"{url}: the page is larger than the limit of {limit:,} bytes."
                    )
                parts, size = [], 0
                while part := resp.read1(65536):
                    parts.append(part)
                    size += len(part)
                    if size > limit:
                        raise InputError(
                            f"{url}: the page is larger than the limit of {limit:,} bytes."
                        )
                charset = resp.headers.get_content_charset()
                final = resp.geturl()
        except urllib.error.HTTPError as e:
            raise InputError(f"{url}: the server answered HTTP {e.code} ({e.reason}).") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, _PrivatePeer):
                raise InputError(
                    f"{url}: connected to a private or local address ({e.reason}); the server is not "
                    "allowed to fetch it (set ASSISTANT_ALLOW_PRIVATE_URLS=1 to allow)."
                ) from None
            if deadline.expired or isinstance(e.reason, TimeoutError):
                raise too_slow from None
            raise InputError(
                f"{url}: cannot fetch ({e.reason}). Check the address and your connection."
            ) from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            if deadline.expired or isinstance(e, TimeoutError):
                raise too_slow from None
            raise InputError(f"{url}: the download broke off ({e!r}). Try again.") from None
    if deadline.expired:  # the body ended because the deadline shut the connection
        raise too_slow
    return Fetched(final, b"".join(parts), ctype, charset)


def page_text(data: bytes, charset: str | None) -> str:
    """The text of downloaded bytes: in the declared charset when Python knows it, else UTF-8
    when it is valid, else the charset detection finds."""
    if charset:
        try:
            return data.decode(codecs.lookup(charset).name, errors="replace")
        except LookupError:
            pass  # e.g. charset=x-klingon
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def fetch_url(url: str, settings: IngestSettings) -> RawDoc:
    """Download a web page (size and time capped, see ``fetch``) as a RawDoc."""
    got = fetch(url, settings)
    if not got.data.strip():
        raise InputError(f"{url}: the page is empty.")
    text = page_text(got.data, got.charset)
    ctype = got.content_type
    kind = (
        "html"
        if ctype in ("text/html", "application/xhtml+xml") or looks_like_html(text)
        else "text"
    )
    return RawDoc(url, text, kind, {"url": url})
