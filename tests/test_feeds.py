"""Following feeds as a user does: a real RSS/Atom feed and real article pages served from a
loopback HTTP server in the test, the real model and Chroma behind `assistant add` and
`assistant feeds ...`.
"""

from __future__ import annotations

import contextlib
import html
import http.server
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import yaml

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import InputError
from assistant.ingest import feeds
from assistant.ingest.corpus import Corpus
from assistant.ingest.sources import Fetched, fetch
from assistant.settings import IngestSettings, Settings
from tests.conftest import SEED

ETAG = '"v1"'
MODIFIED = "Fri, 25 Apr 2025 08:00:00 GMT"


@dataclass
class Route:
    body: bytes
    ctype: str = "text/html; charset=utf-8"
    validators: bool = False  # send ETag / Last-Modified and answer 304 when they match


@dataclass
class Site:
    """What the test server serves, and every request it got (path, conditional?)."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, bool]] = field(default_factory=list)
    base: str = ""

    def pages_fetched(self) -> list[str]:
        return [p for p, _ in self.requests if p.startswith("/articles/")]


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            conditional = bool(
                self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since")
            )
            state.requests.append((self.path, conditional))
            if self.path == "/drip":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up: the point of /drip
                    for _ in range(100):
                        self.wfile.write(b"<p>drip</p>")
                        self.wfile.flush()
                        time.sleep(0.1)
                return
            route = state.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.validators and (
                self.headers.get("If-None-Match") == ETAG
                or self.headers.get("If-Modified-Since") == MODIFIED
            ):
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", route.ctype)
            self.send_header("Content-Length", str(len(route.body)))
            if route.validators:
                self.send_header("ETag", ETAG)
                self.send_header("Last-Modified", MODIFIED)
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


# --- test data: distinct articles, their pages, feeds ---------------------------------------------

_SUBJECTS = ["The port authority", "A coalition of farmers", "The central bank", "Local officials",
             "The shipping union", "Regional planners", "A group of economists", "The ministry",
             "Energy traders", "The city council", "Fishing cooperatives", "Rail operators"]  # fmt: skip
_VERBS = ["questioned", "defended", "delayed", "expanded", "criticised", "funded", "reviewed",
          "postponed", "welcomed", "challenged", "approved", "rejected"]  # fmt: skip
_OBJECTS = ["the new tariff schedule", "a plan for cleaner harbours", "the wage agreement",
            "the grain export quota", "an inquiry into freight prices", "the coastal railway",
            "a fund for small lenders", "the water levy", "the customs reform", "a solar tender",
            "the housing subsidy", "the ferry contract"]  # fmt: skip
_TAILS = ["after months of talks", "despite strong objections", "in a narrow vote",
          "before the winter season", "under pressure from exporters", "with little warning",
          "for the third time this year", "as prices kept rising", "at a tense hearing",
          "while the opposition watched", "to the surprise of analysts", "late on Thursday"]  # fmt: skip


def article_text(i: int, words: int = 220) -> list[str]:
    """Paragraphs of a distinct article (no two share many 5-word runs)."""
    rng = random.Random(i)
    paragraphs, paragraph, n = [], [], 0
    while n < words:
        s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."
        paragraph.append(s)
        n += len(s.split())
        if len(paragraph) == 4:
            paragraphs.append(" ".join(paragraph))
            paragraph = []
    return paragraphs + ([" ".join(paragraph)] if paragraph else [])


def page(title: str, paragraphs: list[str], head: str = "") -> bytes:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title>{head}</head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>{body}</article>"
        "</body></html>"
    ).encode()


def rss(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Harbour Opinion</title>'
        "<link>https://example.org/</link><description>Columns</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def rss_item(site: Site, i: int, *, date: str = "Fri, 25 Apr 2025 06:00:00 +0800",
             author: str = "Miriam Okafor", full: bool = False) -> str:  # fmt: skip
    link = f"{site.base}/articles/{i}"
    content = ""
    if full:
        paras = "".join(f"<p>{html.escape(p)}</p>" for p in article_text(i))
        content = f"<content:encoded><![CDATA[{paras}]]></content:encoded>"
    return (
        f"<item><title>Column number {i}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{date}</pubDate><dc:creator>{author}</dc:creator>"
        f"<description>A short summary of column {i}.</description>{content}</item>"
    )


def serve_articles(site: Site, numbers: range | list[int], head: str = "") -> None:
    for i in numbers:
        site.routes[f"/articles/{i}"] = Route(page(f"Column number {i}", article_text(i), head))


def run(*argv: str) -> int:
    return main(list(argv))


def corpus() -> dict[str, dict[str, str | None]]:
    """The articles in corpus/ by url: their metadata."""
    c = Corpus(Path("corpus"))
    out = {}
    for aid in c.scan():
        a = c.read(aid)
        out[a.url or aid] = {"title": a.title, "author": a.author, "published": a.published,
                             "outlet": a.outlet, "body": a.body}  # fmt: skip
    return out


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- feeds --------------------------------------------------------------------------------------


def test_rss_add_imports_entries_pages_first_then_the_feeds_full_text(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """`assistant add FEED_URL`: each entry's page is extracted; the feed's date and author fill
    in what the page does not state; a missing page falls back to the feed's full text."""
    stated = '<meta property="article:published_time" content="2025-04-20T09:00:00Z"><meta name="author" content="Ana de la Cruz">'
    serve_articles(site, [1], head=stated)
    serve_articles(site, [2])  # no date, no author on the page
    # entry 3's page is missing (404), but the feed carries its full text
    items = [
        rss_item(site, 1),
        rss_item(site, 2, author="Lim Wei Ling"),
        rss_item(site, 3, full=True),
    ]
    site.routes["/feed.xml"] = Route(rss(items), "application/rss+xml")

    assert run("add", f"{site.base}/feed.xml") == 0
    out = lines(capsys.readouterr().out)
    assert len(out) == 3 and all(line.endswith(" added") for line in out), out
    got = corpus()
    one, two, three = (got[f"{site.base}/articles/{i}"] for i in (1, 2, 3))
    assert (one["published"], one["author"]) == ("2025-04-20", "Ana de la Cruz")  # the page wins
    assert (two["published"], two["author"]) == ("2025-04-25", "Lim Wei Ling")  # from the feed
    assert two["title"] == "Column number 2" and "Home" not in (two["body"] or "")
    assert (three["published"], three["title"]) == ("2025-04-25", "Column number 3")
    assert article_text(3)[0] in (three["body"] or "")
    assert site.pages_fetched() == ["/articles/1", "/articles/2", "/articles/3"]
    assert not Path("corpus/feeds.yaml").exists()  # `add` imports; it does not follow


def test_a_missing_page_and_only_a_summary_is_one_error_line_and_retried_next_update(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_articles(site, [1])
    site.routes["/feed.xml"] = Route(rss([rss_item(site, 1), rss_item(site, 2)]),
                                     "application/rss+xml", validators=True)  # fmt: skip
    assert run("feeds", "add", f"{site.base}/feed.xml") == 1
    out = lines(capsys.readouterr().out)
    assert out[0].endswith(" added")
    assert out[1].startswith(f"{site.base}/articles/2 error: ") and "HTTP 404" in out[1]
    assert out[1].endswith("The feed holds only a summary of this entry: not added.")
    assert len(out) == 2
    [sub] = feeds.load(Path("corpus"))
    assert sub.seen == [f"{site.base}/articles/1"] and sub.etag is None  # 2 is tried again
    assert (
        list(sub.failing) == [f"{site.base}/articles/2"]
        and sub.failing[f"{site.base}/articles/2"][0] == 1
    )

    serve_articles(site, [2])  # the page is there now
    site.requests.clear()
    assert run("feeds", "update") == 0  # ... but not before its wait (an hour) is over
    assert "1 failing entry waits to be retried" in capsys.readouterr().err
    assert site.pages_fetched() == []
    sub.failing[f"{site.base}/articles/2"][1] = "2000-01-01T00:00:00+00:00"  # the wait is over
    feeds.save(Path("corpus"), [sub])
    assert run("feeds", "update") == 0
    assert lines(capsys.readouterr().out)[0].endswith(" added")
    assert feeds.load(Path("corpus"))[0].failing == {}
    assert site.pages_fetched() == ["/articles/2"]  # entry 1 is not fetched again
    assert len(corpus()) == 2


def test_atom_feed_followed_then_a_304_fetches_and_adds_nothing(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_articles(site, [1, 2])
    entries = "".join(
        f"<entry><title>Column number {i}</title><id>urn:column:{i}</id>"
        f'<link rel="alternate" href="/articles/{i}"/><published>2025-04-2{i}T23:30:00-05:00</published>'
        f"<updated>2025-04-2{i}T23:30:00-05:00</updated><author><name>Jane Doe</name></author>"
        f"<summary>Summary {i}</summary></entry>"
        for i in (1, 2)
    )
    atom = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Doe Columns</title><id>urn:doe</id><updated>2025-04-22T00:00:00Z</updated>{entries}</feed>")  # fmt: skip
    # served as application/xml: recognised by its first element
    site.routes["/atom"] = Route(atom.encode(), "application/xml", validators=True)
    url = f"{site.base}/atom"
    assert run("feeds", "add", url) == 0
    assert len(lines(capsys.readouterr().out)) == 2
    got = corpus()
    # relative links resolved against the feed; the date as the publisher wrote it (not UTC)
    assert got[f"{site.base}/articles/1"]["published"] == "2025-04-21"
    assert got[f"{site.base}/articles/2"]["author"] == "Jane Doe"
    saved = yaml.safe_load(Path("corpus/feeds.yaml").read_text())
    assert saved["feeds"][0]["etag"] == ETAG and saved["feeds"][0]["title"] == "Doe Columns"

    assert run("feeds", "list") == 0
    listed = capsys.readouterr().out
    assert url in listed and "Doe Columns" in listed and "2 added" in listed

    before = {p.name: p.stat().st_mtime_ns for p in Path("corpus").glob("*.md")}
    site.requests.clear()
    assert run("feeds", "update") == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "not modified" in captured.err
    assert site.requests == [("/atom", True)]  # one conditional request, no page fetched
    assert {p.name: p.stat().st_mtime_ns for p in Path("corpus").glob("*.md")} == before


def test_twenty_entries_in_one_command_then_nothing_new(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_articles(site, range(1, 21))
    # this server sends no validators: the second update gets the whole feed again
    site.routes["/feed"] = Route(rss([rss_item(site, i) for i in range(1, 21)]), "text/xml")
    assert run("feeds", "add", f"{site.base}/feed") == 0
    out = lines(capsys.readouterr().out)
    assert len(out) == 20 and all(line.endswith(" added") for line in out)
    assert len(corpus()) == 20 and len(site.pages_fetched()) == 20

    site.requests.clear()
    assert run("feeds", "update") == 0
    assert capsys.readouterr().out == ""
    assert site.requests == [("/feed", False)]  # the feed only: seen entries are not refetched
    assert len(corpus()) == 20


def test_max_entries_per_update(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    serve_articles(site, range(1, 6))
    site.routes["/feed"] = Route(rss([rss_item(site, i) for i in range(1, 6)]),
                                 "application/rss+xml", validators=True)  # fmt: skip
    assert run("feeds", "add", f"{site.base}/feed", "--max-entries", "2") == 0
    assert "3 left for the next update" in capsys.readouterr().err
    assert feeds.load(Path("corpus"))[0].etag is None  # else a 304 would hide the other three
    assert run("feeds", "update", "--max-entries", "2") == 0
    assert run("feeds", "update", "--max-entries", "2") == 0
    assert len(corpus()) == 5 and feeds.load(Path("corpus"))[0].etag == ETAG
    assert run("add", f"{site.base}/feed", "--max-entries", "0") == 1
    assert "--max-entries must be 1 or more" in capsys.readouterr().err


def test_each_failure_is_one_line_and_nothing_is_written(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.routes["/broken"] = Route(b"<rss><channel><item><title>oops", "application/rss+xml")
    site.routes["/empty"] = Route(b"this is not xml at all", "application/atom+xml")
    serve_articles(site, [1])
    bad = {
        "broken": f"{site.base}/broken",
        "not xml": f"{site.base}/empty",
        "unreachable": "http://127.0.0.1:9/feed",
        "not a feed": f"{site.base}/articles/1",
        "missing": f"{site.base}/nothing-here",
    }
    for what, url in bad.items():
        assert run("feeds", "add", url) == 1, what
        captured = capsys.readouterr()
        assert captured.out == "", what
        [line] = lines(captured.err)
        assert line.startswith("error: ") and url in line, (what, line)
    assert "not an RSS or Atom feed (text/html)" in _last_error(bad["not a feed"], capsys)
    assert not Path("corpus").exists() or not any(Path("corpus").glob("*.md"))
    assert not Path("corpus/feeds.yaml").exists()

    # the same sources given to `add`: one error line each, nothing added
    for url in (bad["broken"], bad["not xml"], bad["unreachable"]):
        assert run("add", url) == 1
        [line] = lines(capsys.readouterr().out)
        assert line.startswith(f"{url} error: ")
    assert not any(Path("corpus").glob("*.md"))


def _last_error(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    run("feeds", "add", url)
    return capsys.readouterr().err


def test_update_reports_a_failing_feed_and_goes_on(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_articles(site, [1, 2])
    site.routes["/a"] = Route(rss([rss_item(site, 1)]), "application/rss+xml")
    site.routes["/b"] = Route(rss([rss_item(site, 2)]), "application/rss+xml")
    assert run("feeds", "add", f"{site.base}/a") == 0
    assert run("feeds", "add", f"{site.base}/b") == 0
    del site.routes["/a"]
    site.routes["/b"] = Route(rss([rss_item(site, 2), rss_item(site, 3)]), "application/rss+xml")
    serve_articles(site, [3])
    capsys.readouterr()
    assert run("feeds", "update") == 1
    out = lines(capsys.readouterr().out)
    assert (
        out[0] == f"{site.base}/a error: {site.base}/a: the server answered HTTP 404 (Not Found)."
    )
    assert out[1].endswith(" added") and len(out) == 2
    subs = {s.url: s for s in feeds.load(Path("corpus"))}
    assert subs[f"{site.base}/a"].last_result.startswith("failed: ")  # type: ignore[union-attr]


def test_remove_stops_following_and_keeps_the_articles(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_articles(site, [1])
    site.routes["/feed"] = Route(rss([rss_item(site, 1)]), "application/rss+xml")
    url = f"{site.base}/feed"
    assert run("feeds", "add", url) == 0
    assert run("feeds", "add", url) == 1
    assert "already followed" in capsys.readouterr().err
    assert run("feeds", "remove", url) == 0
    assert run("feeds", "remove", url) == 1
    assert "is not followed" in capsys.readouterr().err
    assert feeds.load(Path("corpus")) == [] and len(corpus()) == 1
    assert run("index") == 0  # feeds.yaml in corpus/ is not taken for an article
    assert "with 1 article:" in capsys.readouterr().out


def test_a_second_update_while_one_runs_does_nothing(
    site: Site, capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    serve_articles(site, [1])
    site.routes["/feed"] = Route(rss([rss_item(site, 1)]), "application/rss+xml")
    feeds.save(settings.corpus_dir, [feeds.Subscription(f"{site.base}/feed")])
    with feeds.locked(settings.corpus_dir):
        assert run("feeds", "update") == 0  # from cron: skipped, not failed
    assert "another feeds command is running" in capsys.readouterr().err
    assert site.requests == [] and not any(Path("corpus").glob("*.md"))


# --- safety -------------------------------------------------------------------------------------


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>Laughs</title><link>http://127.0.0.1:9/x</link><description>&lol9;</description></item>
</channel></rss>"""


def test_hostile_feed_xml_is_inert(site: Site, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    external = f"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY file SYSTEM "file://{secret}">
 <!ENTITY web SYSTEM "{site.base}/entity">
]>
<rss version="2.0"><channel><title>Ext</title>
<item><title>T &file; &web;</title><link>{site.base}/articles/1</link>
<description>D &file; &web;</description></item></channel></rss>""".encode()

    def parse(data: bytes) -> feeds.ParsedFeed:
        return feeds.parse_feed(Fetched(site.base, 200, data, "application/rss+xml", None, {}))

    started = time.monotonic()
    laughs = parse(BILLION_LAUGHS)
    assert time.monotonic() - started < 5
    text = " ".join(str(x) for e in laughs.entries for x in (e.title, e.full_text)) + str(
        laughs.title
    )
    assert len(text) < 10_000  # the entities were not expanded a billion times
    ext = parse(external)
    text = " ".join(str(x) for e in ext.entries for x in (e.title, e.full_text))
    assert "TOP-SECRET" not in text
    assert ("/entity", False) not in site.requests  # no external entity was fetched

    site.routes["/laughs"] = Route(BILLION_LAUGHS, "application/rss+xml")
    assert run("add", f"{site.base}/laughs") == 1  # its one entry's page is unreachable
    assert not any(Path("corpus").glob("*.md"))


def test_feeds_respect_the_private_address_guard(site: Site) -> None:
    from assistant.web.launch import web_settings

    ingest = web_settings(Settings()).ingest  # the web app's settings: no private fetches
    with pytest.raises(InputError, match="private or local address"):
        feeds.read_feed(f"{site.base}/feed", ingest)
    entry = feeds.Entry("k", "http://10.0.0.8/a", "T", None, None, None)
    failure = feeds.entry_doc(entry, ingest)
    assert "private or local address" in getattr(failure, "message", "")
    assert site.requests == []


def test_a_dripping_server_is_cut_off_at_the_deadline(site: Site) -> None:
    capped = IngestSettings(url_timeout_s=1.0, url_deadline_s=1.5)
    started = time.monotonic()
    with pytest.raises(InputError, match=r"took longer than the limit of 1.5 s"):
        fetch(f"{site.base}/drip", capped)
    assert time.monotonic() - started < 2.5  # a byte every 0.1 s never trips the read timeout
    with pytest.raises(InputError, match="larger than the limit of 100 bytes"):
        fetch(f"{site.base}/drip", replace(capped, max_bytes=100))


# --- dates from pages and text ------------------------------------------------------------------


def seed_page(head: str) -> bytes:
    paragraphs = [p.strip() for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return page(paragraphs[1], paragraphs[3:], head)


def test_the_seed_gets_the_date_its_page_states_and_none_when_pasted(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    head = ('<meta property="article:published_time" content="2025-04-25T06:00:00+08:00">'
            '<meta name="author" content="Stefan Wolff"><meta property="og:site_name" content="CNA">')  # fmt: skip
    site.routes["/commentary/trump-ukraine"] = Route(seed_page(head))
    assert run("add", f"{site.base}/commentary/trump-ukraine") == 0
    [from_page] = corpus().values()
    assert (from_page["published"], from_page["author"], from_page["outlet"]) == (
        "2025-04-25", "Stefan Wolff", "CNA")  # fmt: skip

    Path("pasted").mkdir()
    assert run("--corpus", "pasted", "--index", "pasted-index", "add", str(SEED)) == 0
    capsys.readouterr()
    [pasted] = (Corpus(Path("pasted")).read(aid) for aid in Corpus(Path("pasted")).scan())
    assert pasted.published is None and pasted.author == "Stefan Wolff"  # stated nowhere: null


def test_a_page_without_a_stated_date_keeps_none(site: Site) -> None:
    """The seed's prose names dates (Feb 28, Apr 23): none is taken for the publication date."""
    site.routes["/undated"] = Route(seed_page("") + b"<p>Updated 2024-03-02</p>")
    assert run("add", f"{site.base}/undated") == 0
    [article] = corpus().values()
    assert article["published"] is None


# --- the web app --------------------------------------------------------------------------------


def test_web_follow_list_update_and_editors_only(site: Site, assistant: Assistant) -> None:
    """The Corpus tab's feed handlers, called as Gradio calls them: editors only."""
    import gradio as gr

    from assistant.web import feeds_tab as web_feeds
    from assistant.web.app import build_app
    from assistant.web.launch import parse_editors

    serve_articles(site, [1, 2])
    site.routes["/feed"] = Route(rss([rss_item(site, 1)]), "application/rss+xml")
    url = f"{site.base}/feed"
    demo = build_app(assistant.settings, assistant, editors=parse_editors("ann"))
    fns = {f.name: f.fn for f in demo.fns.values()}

    class Visitor:
        def __init__(self, username: str | None) -> None:
            self.username = username

    for who in (None, "bob"):
        # refused on the error line beside the buttons (the last output), nothing else changed
        for out in (fns["follow"](url, Visitor(who)), fns["update_now"](Visitor(who)),
                    fns["unfollow"](url, Visitor(who))):  # fmt: skip
            assert "Only editors" in out[-1] and all(v == gr.skip() for v in out[:-1])
    assert site.requests == [] and not Path("corpus/feeds.yaml").exists()

    log, rows, *_ = fns["follow"](url, Visitor("ann"))
    assert log.splitlines()[0].endswith(" added") and "following" in log.splitlines()[-1]
    assert rows[0][:2] == [url, "Harbour Opinion"] and rows[0][3].startswith("1 added")
    assert "already followed" in fns["follow"](url, Visitor("ann"))[-1]
    shown = fns["shown_feeds"]().value  # what a page opened later shows
    assert shown["data"][0][:2] == [url, "Harbour Opinion"]

    site.routes["/feed"] = Route(rss([rss_item(site, 2), rss_item(site, 1)]), "application/rss+xml")
    log = fns["update_now"](Visitor("ann"))[0]
    assert log.splitlines()[0].endswith(" added") and len(assistant.library.catalog.articles()) == 2
    assert fns["unfollow"](url, Visitor("ann"))[0].endswith(
        "no longer followed (its articles stay)"
    )
    assert (
        web_feeds.feed_rows(assistant) == []
        and web_feeds.update_feeds(assistant) == "No feeds followed yet."
    )


# --- downloads outside the write lock; failing entries back off; every entry has its line -------


def test_pages_are_fetched_outside_the_libraries_write_lock(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    serve_articles(site, [1, 2])
    site.routes["/feed.xml"] = Route(rss([rss_item(site, 1), rss_item(site, 2)]),
                                     "application/rss+xml")  # fmt: skip
    lock_free_while_fetching = []
    fetch_entry = feeds.entry_doc

    def watched(entry: feeds.Entry, settings: IngestSettings) -> object:
        Path("indexes").mkdir(exist_ok=True)
        with open("indexes/write.lock", "w") as f:  # another writer's try, as `add` makes it
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                lock_free_while_fetching.append(True)
            except BlockingIOError:
                lock_free_while_fetching.append(False)
        return fetch_entry(entry, settings)

    monkeypatch.setattr(feeds, "entry_doc", watched)
    assert run("feeds", "add", f"{site.base}/feed.xml") == 0
    assert lock_free_while_fetching == [True, True]
    assert len(corpus()) == 2


def test_failing_entries_wait_and_never_hold_up_the_rest(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_articles(site, [3])  # pages 1 and 2 are missing, and the feed has only summaries
    items = [rss_item(site, 1), rss_item(site, 2), rss_item(site, 3)]
    site.routes["/feed.xml"] = Route(rss(items), "application/rss+xml")
    assert run("feeds", "add", f"{site.base}/feed.xml", "--max-entries", "2") == 1
    out = lines(capsys.readouterr().out)
    assert len(out) == 2 and all(" error: " in line for line in out)
    assert run("feeds", "update", "--max-entries", "2") == 0  # entry 3 comes in at last
    captured = capsys.readouterr()
    assert lines(captured.out)[0].endswith(" added") and len(lines(captured.out)) == 1
    assert "2 failing entries wait to be retried" in captured.err
    [sub] = feeds.load(Path("corpus"))
    assert sorted(sub.failing) == [f"{site.base}/articles/1", f"{site.base}/articles/2"]
    assert list(corpus()) == [f"{site.base}/articles/3"]


def test_an_entry_with_no_link_id_or_text_has_its_line(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_articles(site, [1])
    bare = "<item><title>A note without a link</title><description>Short.</description></item>"
    site.routes["/feed.xml"] = Route(rss([rss_item(site, 1), bare]), "application/rss+xml")
    assert run("feeds", "add", f"{site.base}/feed.xml") == 1
    out = lines(capsys.readouterr().out)
    assert out[0].endswith(" added")
    assert out[1].startswith("entry A note without a link error: the entry has no link.")


def test_trafilatura_logs_go_through_ours(tmp_path: Path) -> None:
    """What a user sees on stderr: our one line, not trafilatura's own "discarding data"."""
    import subprocess
    import sys

    page_file = tmp_path / "empty.html"
    page_file.write_text("<html><body></body></html>")
    import os

    import assistant

    here = str(Path(assistant.__file__).parents[1])  # this checkout's package, not another's
    env = {**os.environ, "PYTHONPATH": here}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "add", str(page_file)],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert done.returncode == 1 and "No article text found" in done.stdout
    assert "discarding data" not in done.stderr and "trafilatura" not in done.stderr, done.stderr


def test_a_feed_summary_counts_in_the_right_number() -> None:
    from assistant.ingest.articles import AddResult

    one = [AddResult("a", "added", "a"), AddResult("b", "duplicate"), AddResult("c", "error")]
    report = feeds.FeedReport("https://example.com/rss", one, left=1, waiting=1)
    assert report.summary() == (
        "1 added, 1 duplicate, 1 failed, 1 left for the next update, "
        "1 failing entry waits to be retried"
    )
    two = feeds.FeedReport("https://example.com/rss", [*one, *one], waiting=2)
    assert two.summary() == "2 added, 2 duplicates, 2 failed, 2 failing entries wait to be retried"
