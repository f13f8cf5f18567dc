"""Hostile input: what an attacker or a careless script hands to ``ask``, ``add`` and the web app.

Property-based (hypothesis): arbitrary Unicode questions, arbitrary bytes as files, malformed
JSONL, hostile ids. Whatever comes in, nothing crashes, the message says what was wrong, the
corpus changes only by articles that were reported ``added``, and no file is written outside
corpus/. URL import refuses other schemes, oversized and slow pages, and (in the web app)
private and loopback addresses.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import InputError
from assistant.ingest.cleaning import safe_text
from assistant.ingest.sources import check_url, fetch_url, read_sources
from assistant.settings import IngestSettings, Settings
from assistant.web import launch as web
from assistant.web.app import build_app

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def run(*argv: str) -> int:
    return main(list(argv))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` except the derived indexes, with its content."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "indexes" not in p.relative_to(root).parts
    }


# --- ask ------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(question=st.text(max_size=300))
def test_ask_survives_any_unicode(seeded: Assistant, question: str) -> None:
    before = snapshot(Path.cwd())
    try:
        answer = seeded.ask(question)
    except InputError as e:
        assert "question" in str(e).lower()  # says what was wrong with it
        # control characters count as spaces: a question of nothing else is empty
        assert not safe_text(question).strip() or len(" ".join(question.split())) > 2000
    else:
        d = answer.to_dict()
        assert isinstance(d["answer"], str) and d["answer"]
        assert all(c["quote"] in c["passage"] for c in d["citations"])
    assert snapshot(Path.cwd()) == before


def test_ask_empty_long_and_odd_questions_from_the_cli(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    for question, rc, says in [
        ("", 1, "The question is empty"),
        ("   \t\n ", 1, "The question is empty"),
        ("x" * 5000, 1, "too long (5,000 characters; the limit is 2,000)"),
        ("word " * 1000, 1, "too long"),
        ("\x00\x01\u202e\ufeff", 0, ""),  # control and bidi characters: an answer (a refusal)
        ("🦀" * 400, 0, ""),
        ("<script>alert(1)</script> [1] **bold**", 0, ""),
    ]:
        capsys.readouterr()
        assert run("ask", question, "--json") == rc, question[:20]
        out, err = capsys.readouterr()
        if rc:
            assert err.startswith("error: ") and says in err and err.count("\n") == 1
        else:
            assert json.loads(out)["question"]
    assert run("ask", "What has Russia offered in return?", "-k", "0") == 1
    assert "-k must be between 1 and 50" in capsys.readouterr().err


def test_a_bad_question_is_told_before_any_index_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "note.md").write_text("# Trams\n\nLeeds raised tram fares in May.\n")
    for argv in (["x" * 5000], ["   "], ["Why?", "--history", "missing.json"]):
        assert run("ask", *argv) == 1
        assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "indexes").exists()  # a fresh library: nothing built for nothing


# --- add --------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=64).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    suffix=st.sampled_from([".txt", ".md", ".html", ".jsonl", ".pdf", ""]),
)
def test_add_any_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, suffix: str
) -> None:
    source = tmp_path / "in" / f"upload{suffix}"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    corpus = tmp_path / "corpus"
    before = snapshot(corpus) if corpus.exists() else {}
    capsys.readouterr()
    rc = run("add", str(source), "--max-bytes", "1500")
    out, err = capsys.readouterr()
    added = [line.split()[0] for line in out.splitlines() if line.endswith(" added")]
    after = snapshot(corpus) if corpus.exists() else {}
    assert set(after) - set(before) == {f"{aid}.md" for aid in added}
    assert all(after[k] == v for k, v in before.items())  # nothing else touched
    if rc == 1:
        assert " error: " in out or err.startswith("error: ")
    else:
        assert rc == 0 and "Traceback" not in err


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
HOSTILE_IDS = st.one_of(
    st.sampled_from(["../../escape", "/etc/passwd", "..", ".hidden", "a/b", "a\\b", "CON",
                     "x" * 500, "", " ", "ok\x00id", "../corpus/x", "%2e%2e%2fx"]),
    st.text(max_size=40),
    st.integers(),
)  # fmt: skip
RECORD = st.fixed_dictionaries(
    {"text": st.one_of(st.text(max_size=200), JSON_VALUE)},
    optional={"id": HOSTILE_IDS, "title": JSON_VALUE, "published": st.text(max_size=12),
              "url": st.sampled_from(["javascript:alert(1)", "http://x", "", "file:///etc"])},
)  # fmt: skip
LINE = st.one_of(
    RECORD.map(lambda r: json.dumps(r).encode()),
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=80).filter(lambda b: b"\n" not in b),
    st.just(b'{"text": "unterminated'),
)


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(lines=st.lists(LINE, min_size=1, max_size=6))
def test_add_malformed_jsonl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[bytes]
) -> None:
    source = tmp_path / "in" / "batch.jsonl"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(b"\n".join(lines) + b"\n")
    outside_before = {
        p for p in tmp_path.rglob("*") if "corpus" not in p.parts and "indexes" not in p.parts
    }
    corpus = tmp_path / "corpus"
    before = snapshot(corpus) if corpus.exists() else {}
    capsys.readouterr()
    rc = run("add", str(source))
    out, err = capsys.readouterr()
    added = [line.split()[0] for line in out.splitlines() if line.endswith(" added")]
    after = snapshot(corpus) if corpus.exists() else {}
    assert set(after) - set(before) == {f"{aid}.md" for aid in added}
    assert all("/" not in name for name in after)  # every file directly in corpus/
    outside_after = {
        p for p in tmp_path.rglob("*") if "corpus" not in p.parts and "indexes" not in p.parts
    }
    assert outside_after == outside_before  # nothing written anywhere else
    errors = [line for line in out.splitlines() if " error: " in line]
    assert all(":" in e.split(" error: ")[0] for e in errors)  # each names its line
    if not out.strip():  # blank lines only
        assert rc == 1 and err.startswith("error: Nothing to add")
    else:
        assert rc == (1 if errors else 0)


def test_web_upload_names_never_escape_the_corpus(tmp_path: Path) -> None:
    """An uploaded file's name becomes at most a safe id; ids with paths are refused."""
    a = Assistant(Settings.from_env())
    weird = tmp_path / "up" / "..%2F..%2Fetc%2Fpasswd .txt"
    weird.parent.mkdir()
    weird.write_text("Ports in Rotterdam are busier than ever, the harbour master said on Monday.")
    results = a.add(read_sources([str(weird)], a.settings.ingest))
    assert [r.status for r in results] == ["added"]
    first = results[0].id
    assert first and "/" not in first and (tmp_path / "corpus" / f"{first}.md").is_file()
    bad = tmp_path / "up" / "ids.jsonl"
    bad.write_text(
        "\n".join(
            json.dumps({"id": i, "text": f"Text number {n} about tariffs and trade."})
            for n, i in enumerate(["../../x", "/abs", "a/b", ".."])
        )
    )
    results = a.add(read_sources([str(bad)], a.settings.ingest))
    assert [r.status for r in results] == ["error"] * 4
    assert all("Invalid article id" in r.message for r in results)
    assert [p.name for p in (tmp_path / "corpus").iterdir()] == [f"{first}.md"]
    a.close()


# --- URLs -------------------------------------------------------------------------------------------


@pytest.fixture
def slow_big_server() -> Iterator[str]:
    """A loopback server with a page that is too big and one that answers too slowly."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/slow":
                time.sleep(3)
            body = b"<p>" + b"word " * (4000 if self.path == "/big" else 20) + b"</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up first: the point of /slow
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/a.txt", "gopher://127.0.0.1:70/",
            "data://text/plain,hello", "jar:http://x/y!/z", "dict://127.0.0.1:11211/"],
)  # fmt: skip
def test_url_schemes_other_than_http_are_refused(url: str) -> None:
    with pytest.raises(InputError, match=r"only http:// and https://"):
        check_url(url, IngestSettings())


def test_url_size_and_time_are_capped(slow_big_server: str) -> None:
    capped = IngestSettings(max_bytes=5000, url_timeout_s=1.0)
    with pytest.raises(InputError, match="larger than the limit of 5,000 bytes"):
        fetch_url(f"{slow_big_server}/big", capped)
    started = time.monotonic()
    with pytest.raises(InputError, match=r"no answer within 1 s|cannot fetch .*timed out"):
        fetch_url(f"{slow_big_server}/slow", capped)
    assert time.monotonic() - started < 2.9  # gave up before the page came
    assert fetch_url(f"{slow_big_server}/ok", capped).text.startswith("<p>word")


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "10.0.0.8", "192.168.1.1", "172.16.0.1",
             "169.254.169.254", "0.0.0.0", "2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]",
             "[fd00::1]", "100.64.0.1"],
)  # fmt: skip
def test_web_app_refuses_private_and_loopback_addresses(host: str) -> None:
    """No server-side request forgery: the web app's settings never fetch inside the network."""
    ingest = web.web_settings(Settings.from_env({})).ingest
    [failure] = list(read_sources([f"http://{host}:8080/latest"], ingest))
    assert "private or local address" in getattr(failure, "message", ""), failure
    assert "ASSISTANT_ALLOW_PRIVATE_URLS=1" in failure.message  # type: ignore[union-attr]


def test_private_addresses_allowed_when_configured(slow_big_server: str) -> None:
    allowed = web.web_settings(Settings.from_env({"ASSISTANT_ALLOW_PRIVATE_URLS": "1"})).ingest
    assert fetch_url(f"{slow_big_server}/ok", allowed).text.startswith("<p>word")


# --- access -----------------------------------------------------------------------------------------


def test_only_editors_may_add_or_remove(seeded: Assistant) -> None:
    """With ASSISTANT_EDITORS set, the add and remove handlers refuse anyone else.

    The handlers are called as Gradio calls them; the check sits in the handler because the
    "private" endpoints stay reachable through Gradio's queue by anyone who opens the page.
    """
    import gradio as gr

    demo = build_app(seeded.settings, seeded, editors=web.parse_editors("ann, cy"))
    fns = {f.name: f.fn for f in demo.fns.values()}
    text = "Harbour pilots in Antwerp went on strike on Monday over new shift rules."

    class Visitor:
        def __init__(self, username: str | None) -> None:
            self.username = username

    aid = seeded.library.catalog.articles()[0].id
    for who in (None, "bob"):
        # refused on the error line beside the control (the handler's last output)
        assert (
            "Only editors may add or remove articles"
            in fns["add_pasted"](text, "", "", "", "", "", Visitor(who))[-1]
        )
        for out in (
            fns["add_url"]("https://example.com/a", "", Visitor(who)),
            fns["add_files"](["x.txt"], "", Visitor(who)),
            fns["confirm_remove"](aid, Visitor(who)),
            fns["remove_article"](aid, Visitor(who)),
            fns["undo_remove"]({"id": aid, "text": "x"}, Visitor(who)),
        ):
            assert "Only editors" in out[-1]
            assert all(v == gr.skip() for v in out[:-1])  # nothing else shown or changed
    assert len(seeded.library.catalog.articles()) == 4  # nothing changed
    log = fns["add_pasted"](text, "", "", "", "", "", Visitor("ann"))[0]
    assert log.endswith(" added")
    assert web.parse_editors("") is None and web.parse_logins("ann:a,bob:b:c") == [
        ("ann", "a"),
        ("bob", "b:c"),
    ]
