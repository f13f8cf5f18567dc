"""Following RSS and Atom feeds: read a feed, import its entries, remember what came in.

A feed is fetched like any URL import (``sources.fetch``: public addresses only unless allowed,
redirects checked, size cap, total deadline) and parsed by feedparser — from the bytes we
fetched, never from a URL, so feedparser makes no request of its own. Each entry becomes a
``RawDoc``: its page, fetched and extracted as a URL import is; when the page cannot be fetched,
the feed's own text if it holds the whole article (150 words or more), else a ``Failure``.
What the feed states about an entry (title, author, date) goes into the article's metadata where
the page does not state it.

Followed feeds live in ``<corpus>/feeds.yaml``, a small file people may read and edit::

    feeds:
    - url: https://example.com/opinion/rss.xml
      title: Example Opinion
      added: '2026-11-30T10:00:00+00:00'
      last_update: '2026-11-30T16:00:00+00:00'
      last_result: 2 added, 0 duplicates, 0 failed
      etag: '"5f2a"'                      # validators for the next conditional GET
      last_modified: Sun, 30 Nov 2026 15:58:00 GMT
      seen:                                # entries already in the corpus: never fetched again
      - https://example.com/opinion/why-ports-matter

``update`` sends the validators (If-None-Match / If-Modified-Since); a 304 costs one request.
They are kept only when every new entry came in: entries that failed, or that were beyond
``max_entries``, are tried again on the next update. The corpus loader reads ``*.md`` files
only, so ``feeds.yaml`` and the ``.feeds.lock`` beside it are never taken for articles.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, InputError, NotFoundError
from assistant.ingest.cleaning import parse_date
from assistant.ingest.sources import Failure, Fetched, RawDoc, fetch, is_feed, page_doc
from assistant.settings import IngestSettings
from assistant.text import count

if TYPE_CHECKING:
    from assistant.ingest.articles import AddResult
    from assistant.settings import Settings

FEEDS_FILE = "feeds.yaml"
FULL_TEXT_WORDS = 150  # a feed text this long is the article, not a summary
SEEN_KEPT = 1000  # entry keys remembered per feed (feeds show their latest few dozen)
RETRY_AFTER_S = 3600  # an entry that failed waits this long, doubled per failure ...
RETRY_MAX_S = 7 * 24 * 3600  # ... up to a week, so failing entries never hold the others up
_TAG = re.compile(r"<[^>]+>")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One feed entry, as the feed states it."""

    key: str  # the entry's id (RSS guid, Atom id), else its link
    link: str | None
    title: str | None
    author: str | None
    published: str | None  # YYYY-MM-DD, only when the feed states a readable date
    full_text: str | None  # the feed's own HTML for the entry when it holds the whole article


@dataclass(frozen=True)
class ParsedFeed:
    """A feed as fetched and parsed."""

    url: str
    title: str | None
    entries: list[Entry]
    etag: str | None
    last_modified: str | None


@dataclass
class Subscription:
    """A followed feed, as kept in ``feeds.yaml``."""

    url: str
    title: str | None = None
    added: str | None = None
    last_update: str | None = None
    last_result: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = field(default_factory=list)
    # entries that failed: key -> [failures, ISO time before which they are not tried again]
    failing: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedReport:
    """What one feed gave in an add or update."""

    url: str
    results: list[AddResult] = field(default_factory=list)  # one per new entry tried
    error: str | None = None  # the feed itself could not be read
    not_modified: bool = False
    left: int = 0  # new entries beyond max_entries, left for the next update
    waiting: int = 0  # entries that failed before, not tried again yet (backing off)

    @property
    def failed(self) -> bool:
        return self.error is not None or any(r.status == "error" for r in self.results)

    def summary(self) -> str:
        if self.error is not None:
            return f"failed: {self.error}"
        if self.not_modified:
            return "not modified"
        from assistant.ingest.articles import summary_line

        text = summary_line(self.results)
        text += f", {self.left} left for the next update" if self.left else ""
        if self.waiting:
            waits = "waits" if self.waiting == 1 else "wait"
            text += (
                f", {count(self.waiting, 'failing entry', 'failing entries')} {waits} to be retried"
            )
        return text


# -- parsing ---------------------------------------------------------------------------------------


def parse_feed(fetched: Fetched) -> ParsedFeed:
    """The feed in a response; InputError when it is not a readable RSS or Atom feed."""
    import feedparser

    headers = {"content-location": fetched.url}  # the base for relative entry links
    if fetched.content_type:
        headers["content-type"] = fetched.content_type + (
            f"; charset={fetched.charset}" if fetched.charset else ""
        )
    parsed = feedparser.parse(fetched.data, response_headers=headers)
    entries = [_entry(raw) for raw in parsed.entries]
    reason = parsed.get("bozo_exception")
    detail = f" ({_first_line(reason)})" if reason else ""
    usable = [e for e in entries if e.link or e.full_text or not e.key.startswith("text:")]
    if not parsed.version and not usable:
        raise InputError(
            f"{fetched.url}: not a readable RSS or Atom feed{detail}. "
            "Check the address: a site's feed is often at /feed, /rss or /atom.xml."
        )
    if parsed.bozo and not usable:  # feedparser reads slightly broken feeds; this is worse
        raise InputError(f"{fetched.url}: a broken feed{detail}; not one entry could be read.")
    header = {k.lower(): v for k, v in fetched.headers.items()}
    return ParsedFeed(
        url=fetched.url,
        title=(parsed.feed.get("title") or "").strip() or None,
        entries=entries,
        etag=header.get("etag"),
        last_modified=header.get("last-modified"),
    )


def _first_line(reason: object) -> str:
    return str(reason).strip().split("\n")[0][:200]


def _entry(raw: Any) -> Entry:
    link = (raw.get("link") or "").strip() or None
    key = (raw.get("id") or "").strip() or link
    full = _full_text(raw)
    if key is None:  # no id, no link: keyed by its text, so it gets its line once
        what = full or f"{raw.get('title') or ''}\n{raw.get('summary') or ''}"
        key = "text:" + hashlib.sha256(what.encode()).hexdigest()[:16]
    detail = raw.get("author_detail") or {}
    author = (detail.get("name") or raw.get("author") or "").strip() or None
    return Entry(
        key=key,
        link=link,
        title=(raw.get("title") or "").strip() or None,
        author=author if author and "@" not in author else None,
        published=_entry_date(raw),
        full_text=full,
    )


def _entry_date(raw: Any) -> str | None:
    """The date the feed gives for the entry, in the publisher's own time zone when written."""
    stated = raw.get("published")
    if stated and (date := parse_date(stated)):
        return date
    parsed = raw.get("published_parsed")  # feedparser read a format parse_date does not know
    return time.strftime("%Y-%m-%d", parsed) if parsed else None


def _full_text(raw: Any) -> str | None:
    """The entry's longest text in the feed (content:encoded, Atom content, description) when
    it is long enough to be the article rather than a summary."""
    texts = [c.get("value") or "" for c in raw.get("content") or []]
    texts.append(raw.get("summary") or "")
    best = max(texts, key=lambda t: len(_TAG.sub(" ", t).split()))
    return best if len(_TAG.sub(" ", best).split()) >= FULL_TEXT_WORDS else None


# -- entries to articles ---------------------------------------------------------------------------


def entry_doc(entry: Entry, settings: IngestSettings) -> RawDoc | Failure:
    """The entry's article: its page; else the feed's full text; else a Failure saying why."""
    meta = {k: v for k, v in (("title", entry.title), ("author", entry.author),
                              ("published", entry.published), ("url", entry.link)) if v}  # fmt: skip
    origin = entry.link or f"entry {entry.title or entry.key}"[:300]
    problem = "the entry has no link."
    if entry.link:
        try:
            doc = page_doc(fetch(entry.link, settings))
            return replace(doc, meta={**meta, **doc.meta})
        except InputError as e:
            problem = str(e)
    if entry.full_text is not None:
        page = f"<html><body><article>{entry.full_text}</article></body></html>"
        return RawDoc(origin, page, "html", meta)
    return Failure(origin, f"{problem} The feed holds only a summary of this entry: not added.")


def new_entries(
    feed: ParsedFeed,
    seen: Iterable[str],
    max_entries: int,
    failing: dict[str, list[Any]] | None = None,
    now: str = "",
) -> tuple[list[Entry], int]:
    """The entries not seen before, at most ``max_entries``, and how many more were left out.

    Feed order (newest first), except that entries which failed before come after the others
    and only once their wait (``failing``: key -> [failures, ISO time]) is over at ``now``:
    retried first on every update, a few always-failing entries held the rest up for good.
    """
    known = set(seen)
    failing = failing or {}
    due = [e for e in feed.entries if e.key not in known and str(_retry(failing, e.key)) <= now]
    due.sort(key=lambda e: e.key in failing)  # stable: feed order within each group
    return due[:max_entries], max(0, len(due) - max_entries)


def _retry(failing: dict[str, list[Any]], key: str) -> str:
    state = failing.get(key)
    return str(state[1]) if state and len(state) > 1 else ""


def _waiting(feed: ParsedFeed, sub: Subscription, now: str) -> int:
    known = set(sub.seen)
    return sum(e.key not in known and _retry(sub.failing, e.key) > now for e in feed.entries)


def feed_items(
    feed: ParsedFeed, settings: IngestSettings, max_entries: int, seen: Iterable[str] = ()
) -> Iterator[RawDoc | Failure]:
    """One RawDoc or Failure per new entry (``assistant add FEED_URL``)."""
    entries, left = new_entries(feed, seen, max_entries)
    if left:
        log.warning("%s: %d more entries not imported (at most %d at a time; --max-entries)",
                    feed.url, left, max_entries)  # fmt: skip
    if not entries:
        yield Failure(feed.url, "the feed has no entries" + (" that are new." if seen else "."))
    for entry in entries:
        yield entry_doc(entry, settings)


# -- the subscription file -------------------------------------------------------------------------


def feeds_path(corpus_dir: Path) -> Path:
    return Path(corpus_dir) / FEEDS_FILE


def load(corpus_dir: Path) -> list[Subscription]:
    """The followed feeds (none when the file does not exist)."""
    from assistant.ingest import yamlfile
    from assistant.ingest.schema import FeedEntry

    path = feeds_path(corpus_dir)
    try:
        data = yamlfile.load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, yamlfile.YAMLError) as e:
        raise InputError(f"{path} cannot be read ({_first_line(e)}); fix or delete it.") from None
    rows = data.get("feeds") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and r.get("url") for r in rows):
        raise InputError(f"{path}: expected `feeds:` followed by a list of entries with a `url`.")
    fix = "Fix it or delete the entry (assistant feeds remove URL)."
    subs = []
    for n, r in enumerate(rows, start=1):
        fields = FeedEntry.check(r, f"{path}: feed {n}", fix, yaml=True).model_dump()
        fields["failing"] = {k: list(v) for k, v in fields["failing"].items()}
        subs.append(Subscription(**fields))
    return subs


def save(corpus_dir: Path, subs: list[Subscription]) -> None:
    """Write the followed feeds atomically (temp file, then rename)."""
    import yaml

    path = feeds_path(corpus_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{k: v for k, v in asdict(s).items() if v is not None and v != {}} for s in subs]
    text = (
        "# Feeds followed by `assistant feeds update` (assistant feeds add/remove URL).\n"
        + yaml.safe_dump({"feeds": rows}, sort_keys=False, allow_unicode=True, width=1000)
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".feeds.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FeedsBusy(AssistantError):
    """Another process is updating the feeds."""


@contextlib.contextmanager
def locked(corpus_dir: Path, wait: bool = True) -> Iterator[None]:
    """One feeds command at a time (``feeds update`` from cron never overlaps itself)."""
    Path(corpus_dir).mkdir(parents=True, exist_ok=True)
    path = Path(corpus_dir) / ".feeds.lock"
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise FeedsBusy(
                f"another feeds command is running (it holds {path}); nothing done."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# -- following -------------------------------------------------------------------------------------

OnResult = Callable[["AddResult"], None]


def read_feed(
    url: str, settings: IngestSettings, sub: Subscription | None = None
) -> ParsedFeed | None:
    """The feed at ``url`` (None: not modified since ``sub``'s validators); InputError when
    it cannot be fetched or is not a feed."""
    headers = {}
    if sub is not None and sub.etag:
        headers["If-None-Match"] = sub.etag
    if sub is not None and sub.last_modified:
        headers["If-Modified-Since"] = sub.last_modified
    fetched = fetch(url, settings, headers)
    if fetched.status == 304:
        return None
    if not is_feed(fetched):
        what = fetched.content_type or "no content type"
        raise InputError(
            f"{url}: not an RSS or Atom feed ({what}). To add the page itself: assistant add {url}"
        )
    return parse_feed(fetched)


AddItems = Callable[..., list["AddResult"]]  # Assistant.add: (items, on_result=...) -> results


def _import(
    settings: Settings, add: AddItems, sub: Subscription, feed: ParsedFeed, max_entries: int,
    on_result: OnResult | None,
) -> FeedReport:  # fmt: skip
    """Import the feed's new entries and record them in ``sub``."""
    now = _now()
    waiting = _waiting(feed, sub, now)
    entries, left = new_entries(feed, sub.seen, max_entries, sub.failing, now)
    # every page fetched first, then added: ``add`` takes the library's write lock, and a slow
    # site must not hold up every other writer meanwhile (an `add` waited 50 s)
    docs = [entry_doc(e, settings.ingest) for e in entries]
    results = add(docs, on_result=on_result) if docs else []
    came_in = []
    for entry, result in zip(entries, results, strict=True):
        if result.status == "error":  # tried again later, after a wait that doubles each time
            failures = int(sub.failing.get(entry.key, [0])[0]) + 1
            wait = min(RETRY_MAX_S, RETRY_AFTER_S * 2 ** (failures - 1))
            sub.failing[entry.key] = [failures, _now(wait)]
        else:
            came_in.append(entry.key)
            sub.failing.pop(entry.key, None)
    in_feed = {e.key for e in feed.entries}
    sub.failing = {k: v for k, v in sub.failing.items() if k in in_feed}  # gone: forgotten
    sub.seen = (sub.seen + came_in)[-SEEN_KEPT:]
    sub.title = feed.title or sub.title
    report = FeedReport(feed.url, results, left=left, waiting=waiting)
    # validators only when nothing is left to retry: a 304 would hide failed and later entries
    complete = not left and not waiting and len(came_in) == len(entries)
    sub.etag, sub.last_modified = (feed.etag, feed.last_modified) if complete else (None, None)
    sub.last_update, sub.last_result = _now(), report.summary()
    return report


def follow(
    settings: Settings, add: AddItems, url: str, max_entries: int,
    on_result: OnResult | None = None,
) -> FeedReport:  # fmt: skip
    """Follow the feed at ``url`` and import its current entries with ``add`` (the library's
    ``add``: the pages are fetched before it is called); InputError (and nothing written)
    when it is already followed, cannot be fetched or is not a feed."""
    corpus = settings.corpus_dir
    url = url.strip()
    with locked(corpus):
        subs = load(corpus)
        if any(s.url == url for s in subs):
            raise InputError(
                f"{url}: already followed. New entries come in with: assistant feeds update"
            )
        feed = read_feed(url, settings.ingest)
        assert feed is not None
        sub = Subscription(url, added=_now())
        report = _import(settings, add, sub, feed, max_entries, on_result)
        save(corpus, [*subs, sub])
    return report


def unfollow(corpus_dir: Path, url: str) -> None:
    """Stop following ``url`` (its articles stay); NotFoundError when it is not followed."""
    url = url.strip()
    with locked(corpus_dir):
        subs = load(corpus_dir)
        if not any(s.url == url for s in subs):
            raise NotFoundError(f"{url} is not followed. See: assistant feeds list")
        save(corpus_dir, [s for s in subs if s.url != url])


def update(
    settings: Settings,
    add: AddItems,
    max_entries: int,
    on_result: OnResult | None = None,
    on_feed: Callable[[FeedReport], None] | None = None,
) -> list[FeedReport]:
    """Bring in the new entries of every followed feed (FeedsBusy when another update runs).

    One feed failing (unreachable, no longer a feed) is reported and the others go on; the
    file is saved after each feed, so an interrupted update keeps what came in.
    """
    corpus = settings.corpus_dir
    reports = []
    with locked(corpus, wait=False):
        for url in [s.url for s in load(corpus)]:
            subs = load(corpus)
            sub = next((s for s in subs if s.url == url), None)
            if sub is None:
                continue
            try:
                feed = read_feed(url, settings.ingest, sub)
                if feed is None:
                    report = FeedReport(url, not_modified=True)
                    sub.last_update, sub.last_result = _now(), report.summary()
                else:
                    report = _import(settings, add, sub, feed, max_entries, on_result)
            except InputError as e:
                report = FeedReport(url, error=str(e))
                sub.last_update, sub.last_result = _now(), report.summary()
            save(corpus, subs)
            reports.append(report)
            if on_feed:
                on_feed(report)
    return reports


def _now(after_s: float = 0) -> str:
    """The time now (or ``after_s`` seconds from now), UTC, as ISO text (these sort as times)."""
    return datetime.fromtimestamp(time.time() + after_s, UTC).isoformat(timespec="seconds")
