"""Adding, listing, removing and indexing articles: the CLI as a user runs it, real model and Chroma."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import IndexStateError
from assistant.ingest.corpus import Corpus, blocks
from assistant.ingest.sources import read_sources
from assistant.settings import ChunkSettings, Settings
from tests.conftest import DATA, SEED, SEED_ID


def corpus_files(root: Path = Path("corpus")) -> list[str]:
    return sorted(p.name for p in root.glob("*.md")) if root.exists() else []


def run(*argv: str) -> int:
    return main(list(argv))


def test_seed_added_as_is_is_clean_and_attributed(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("add", str(SEED)) == 0
    assert capsys.readouterr().out.strip() == f"{SEED_ID} added"
    article = Corpus(Path("corpus")).read(SEED_ID)
    assert (
        article.title
        == "Commentary: Could Trump really walk away after Ukraine rejects ‘final offer’ peace deal?"
    )
    assert (article.author, article.outlet, article.published) == ("Stefan Wolff", "CNA", None)
    text = Path(f"corpus/{SEED_ID}.md").read_text()
    assert text.startswith("---\nid: 000_7112adcedfa7c1bb\n")
    assert "content_hash:" in text and "added:" in text
    assert "## THE ONLY PLAYER WITH A REMOTE CHANCE" in text
    for junk in ("Photo: REUTERS", "by · CNA", "FAST", "Source: CNA/ch", "WhatsApp", "newsletters"):
        assert junk not in article.body
    paras = [b for b in blocks(article.body) if b.kind == "paragraph"]
    assert paras[11].text.startswith("It is not clear, however, what, if anything, Russia")


def test_list_show_remove(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("add", str(SEED), str(DATA / "plain_globe.txt")) == 0
    capsys.readouterr()
    assert run("list", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["id"] for r in rows} == {SEED_ID, "plain_globe"}
    seed = next(r for r in rows if r["id"] == SEED_ID)
    assert seed["author"] == "Stefan Wolff" and seed["n_passages"] > 20
    assert run("show", SEED_ID) == 0
    assert "Stefan Wolff is Professor" in capsys.readouterr().out
    assert run("remove", "plain_globe") == 0
    assert corpus_files() == [f"{SEED_ID}.md"]
    assert run("remove", "no-such-id") == 1
    assert "No article 'no-such-id'" in capsys.readouterr().err


def test_duplicates_are_refused_and_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("add", str(SEED)) == 0
    before = Path(f"corpus/{SEED_ID}.md").read_text()
    # the same article with other whitespace, other boilerplate and another file name
    raw = SEED.read_text()
    variant = tmp_path / "copy.txt"
    variant.write_text(
        "Advertisement\n\n"
        + raw.replace("\n\n", "\n\n\n").replace(" ", "  ")
        + "\n\nShare this article\n"
    )
    # a syndicated copy: new headline, trimmed ending
    body = raw.split("BIRMINGHAM:", 1)[1].split("Stefan Wolff is Professor")[0]
    syndicated = tmp_path / "syndicated.txt"
    syndicated.write_text(
        "Could Trump walk away from Ukraine talks?\n\nBIRMINGHAM:" + body[: int(len(body) * 0.9)]
    )
    capsys.readouterr()
    assert run("add", str(SEED), str(variant), str(syndicated)) == 0
    lines = capsys.readouterr().out.splitlines()
    # the input named first, then the article it duplicates
    assert lines[0] == f"{SEED} duplicate of {SEED_ID}"
    assert lines[1] == f"{variant} duplicate of {SEED_ID}"
    assert lines[2].startswith(f"{syndicated} duplicate of {SEED_ID} (near-duplicate")
    assert corpus_files() == [f"{SEED_ID}.md"]
    assert Path(f"corpus/{SEED_ID}.md").read_text() == before
    assert run("add", "--force", str(syndicated)) == 0
    assert len(corpus_files()) == 2


def test_bad_input_gets_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        "empty.txt": b"",
        "blank.txt": b"  \n\n \t\n",
        "picture.txt": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "latin1.txt": "Café society, déjà vu".encode("latin-1"),
        "big.txt": b"word " * 50_000,
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    for name in cases:
        assert run("add", "--max-bytes", "100000", str(tmp_path / name)) == 1, name
        # one line per article, on stdout (docs/interfaces.md)
        out = capsys.readouterr().out.strip()
        assert (
            out.count("\n") == 0 and out.startswith(str(tmp_path / name)) and " error: " in out
        ), out
    assert run("add", str(tmp_path / "missing.txt")) == 1
    assert "no such file" in capsys.readouterr().out
    for url in ("file:///etc/passwd", "ftp://example.org/x.txt"):
        assert run("add", url) == 1
        assert "only http:// and https://" in capsys.readouterr().out
    assert corpus_files() == []
    assert not Path("corpus").exists() or not any(Path("corpus").iterdir())


def test_directory_adds_good_files_and_reports_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "inbox"
    d.mkdir()
    (d / "seed.txt").write_text(SEED.read_text())
    (d / "notes.md").write_text((DATA / "markdown_frontmatter.md").read_text())
    (d / "empty.txt").write_text("")
    (d / "photo.png").write_bytes(b"\x89PNG\r\n")
    assert run("add", str(d)) == 1
    out = capsys.readouterr().out
    assert "seed added" in out and "notes added" in out
    assert "empty.txt error: " in out and "photo.png error: " in out
    assert corpus_files() == ["notes.md", "seed.md"]


def test_jsonl_import_keeps_ids_and_reports_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bulk.jsonl"
    lines = [
        json.dumps(
            {
                "id": "doc-1",
                "title": "Ports",
                "text": "Rotterdam's port is congested by rerouted ships.",
                "outlet": "Review",
                "published": "2025-03-03",
            }
        ),
        "{not json",
        json.dumps({"id": "doc-2", "text": "Central banks should talk less and act predictably."}),
        json.dumps({"id": "doc-3", "title": "No text"}),
        json.dumps({"text": "An article without an id gets one from its words."}),
    ]
    f.write_text("\n".join(lines) + "\n")
    assert run("add", str(f)) == 1
    out = capsys.readouterr().out
    assert "doc-1 added" in out and "doc-2 added" in out
    assert f"{f}:2 error: " in out and f"{f}:4 error: " in out
    assert len(corpus_files()) == 3
    a = Corpus(Path("corpus")).read("doc-1")
    assert (a.title, a.outlet, a.published) == ("Ports", "Review", "2025-03-03")


def test_a_scraped_bylines_section_label_and_desk_are_not_the_author(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "scraped.jsonl"
    records = [
        {"id": "op", "title": "Canada's truckers are not who you think", "outlet": "CNN",
         "author": "Opinion Andrew Cohen", "text": "Ottawa has seen protests for days now."},
        {"id": "an", "title": "Stocks fall", "outlet": "CNN",
         "author": "Analysis Paul R. La Monica, Cnn Business", "text": "Stocks fell on Monday."},
        {"id": "plain", "title": "Ports", "outlet": "CNN", "author": "Kate Analysis",
         "text": "Rotterdam's port is congested by rerouted ships."},
    ]  # fmt: skip
    f.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert run("add", str(f)) == 0, capsys.readouterr().out
    corpus = Corpus(Path("corpus"))
    op, an, plain = (corpus.read(i) for i in ("op", "an", "plain"))
    assert (op.author, op.title) == (
        "Andrew Cohen",
        "Opinion: Canada's truckers are not who you think",
    )
    assert (an.author, an.title) == ("Paul R. La Monica", "Stocks fall")
    assert (plain.author, plain.title) == ("Kate Analysis", "Ports")


def test_stdin_and_flags(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    text = "Why ports matter\n\nShipping lines rerouted hundreds of sailings to avoid new levies this year."
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert (
        run("add", "-", "--author", "Jane Roe", "--outlet", "Harbour", "--published", "2025-01-02")
        == 0
    )
    aid = capsys.readouterr().out.split()[0]
    a = Corpus(Path("corpus")).read(aid)
    assert (a.title, a.author, a.outlet, a.published) == (
        "Why ports matter",
        "Jane Roe",
        "Harbour",
        "2025-01-02",
    )
    assert run("add", "-", "--published", "yesterday") == 1


@pytest.fixture
def web_server() -> Iterator[str]:
    """A local web server serving tests/data (and 404s)."""
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(DATA), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[method-assign]
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_url_import(web_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (DATA / "tiny.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    try:
        assert run("add", f"{web_server}/html_with_nav.html") == 0
        aid = capsys.readouterr().out.split()[0]
        a = Corpus(Path("corpus")).read(aid)
        assert a.url == f"{web_server}/html_with_nav.html" and a.title
        assert "cookie" not in a.body.lower()
        assert run("add", f"{web_server}/missing.html") == 1
        assert "HTTP 404" in capsys.readouterr().out
        assert run("add", f"{web_server}/tiny.png") == 1
        assert "not a web page" in capsys.readouterr().out
        assert run("add", "http://127.0.0.1:9/nothing-listens-here") == 1
        assert "cannot fetch" in capsys.readouterr().out
    finally:
        (DATA / "tiny.png").unlink()
    assert len(corpus_files()) == 1


def test_hand_edit_and_incremental_index(
    assistant: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("add", str(SEED), str(DATA / "plain_globe.txt")) == 0
    lib = assistant.library
    path = Path(f"corpus/{SEED_ID}.md")
    path.write_text(
        path.read_text().replace("The question is whether", "The real question is whether")
    )
    report = lib.sync()
    assert (report.indexed, report.removed) == (1, 0)  # only the edited article re-embedded
    hits = assistant.passages("The real question is whether either is a realistic outcome", k=1)
    assert hits[0].text.startswith("The real question")
    Path("corpus/plain_globe.md").unlink()
    assert lib.sync().removed == 1
    assert {r.id for r in lib.catalog.articles()} == {SEED_ID}
    assert lib.sync().indexed == 0  # nothing to do


def test_crash_between_corpus_write_and_index_is_repaired(assistant: Assistant) -> None:
    """An article written to corpus/ whose indexing never happened is indexed by the next sync."""
    assert run("add", str(SEED)) == 0
    Corpus(Path("corpus")).write(
        Corpus(Path("corpus"))
        .read(SEED_ID)
        .__class__(id="orphan", body="Rotterdam dwell times rose by a third.")
    )
    Path("corpus/.orphan.123.tmp").write_text("half an article")
    assert assistant.library.needs_sync()
    assert run("index") == 0
    assert not list(Path("corpus").glob(".*.tmp"))
    assert assistant.passages("Rotterdam dwell times", k=1)[0].article_id == "orphan"


def test_settings_change_is_explained_and_rebuild_fixes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("add", str(SEED)) == 0
    from dataclasses import replace

    unjoined = replace(Settings.from_env(), chunks=ChunkSettings(join_words=0))
    with pytest.raises(IndexStateError, match=r"\(chunking.join_words: 60 -> 0\)\. Run: assistant"):
        Assistant(unjoined).ask("What has Russia offered?")  # every chunk setting is checked
    changed = replace(Settings.from_env(), chunks=ChunkSettings(max_words=60))
    with pytest.raises(IndexStateError, match=r"max_words: 140 -> 60\). Run: assistant index --r"):
        Assistant(changed).ask("What has Russia offered?")
    a = Assistant(changed)
    a.library.sync(rebuild=True)
    assert a.ask("What has Russia offered in return?").citations[0].paragraph == 12


def test_index_rebuilds_an_index_built_with_other_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After an upgrade that cuts passages otherwise, `assistant index` (and so `make run`)
    rebuilds rather than stop at the error every other command gives."""
    import json

    from assistant.index.catalog import Catalog

    assert run("add", str(SEED)) == 0
    catalog = Catalog(Path("indexes/catalog.sqlite"))
    old = json.loads(catalog.get_meta("manifest") or "{}")
    del old["chunking"]["join_words"]  # as the manifest of an index built before joining
    catalog.set_meta("manifest", json.dumps(old))
    catalog.close()
    capsys.readouterr()
    assert run("ask", "What has Russia offered in return?") == 1
    assert "chunking.join_words: None -> 60" in capsys.readouterr().err
    assert run("index") == 0
    out, err = capsys.readouterr()
    assert "built with other settings (chunking.join_words: None -> 60): rebuilding" in err
    assert "1 (re)indexed" in out
    assert run("ask", "What has Russia offered in return?") == 0


def test_no_passage_exceeds_the_model_window(assistant: Assistant) -> None:
    long_para = " ".join(
        f"Sentence number {i} talks about ports, tariffs and shipping lanes." for i in range(80)
    )
    f = Path("long.md")
    f.write_text(f"# A very long paragraph\n\n{long_para}\n")
    assert run("add", str(f)) == 0
    lib = assistant.library
    ids = lib.catalog.chunk_ids_of("long")
    rows = lib.catalog.chunks(ids)
    counts = lib.embedder.count_tokens([f"A very long paragraph\n{r.text}" for r in rows.values()])
    assert len(ids) > 3 and max(counts) <= 256
    assert all(r.paragraph == 1 for r in rows.values())
    body = Corpus(Path("corpus")).read("long").body
    assert all(body[r.start : r.end] == r.text for r in rows.values())


def test_lexical_index_of_passages_without_words(tmp_path: Path) -> None:
    """bm25s cannot index an empty vocabulary: such an index answers nothing, and reloads."""
    from assistant.index.lexical import LexicalIndex

    index = LexicalIndex(tmp_path / "bm25")
    index.build(["a:0"], ["a"], ["?! — …"], generation=3)
    assert index.search("anything", 5) == []
    again = LexicalIndex(tmp_path / "bm25")
    assert again.load(3) and again.search("anything", 5) == []


def test_text_without_words_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    Path("punct.txt").write_text("?! — …\n\n!!!\n")
    assert main(["add", "punct.txt"]) == 1
    assert "No article text found" in capsys.readouterr().out
    assert not list(Path("corpus").glob("*.md"))


def test_a_reader_follows_a_rebuild_by_another_process(assistant: Assistant) -> None:
    """The web app keeps one Assistant open while `assistant index --rebuild` runs elsewhere."""
    import subprocess
    import sys

    assert main(["add", str(SEED)]) == 0
    assert assistant.ask("What has Russia offered in return?").citations[0].article_id == SEED_ID
    (Path("corpus") / "parking.md").write_text(
        "---\ntitle: Parking prices\n---\n\nCouncils in Utrecht doubled kerbside parking fees "
        "to pay for new cycle lanes along the canals.\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "index", "--rebuild"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ans = assistant.ask("Why did Utrecht double its parking fees?")
    assert not ans.refused and ans.citations[0].article_id == "parking"
    assert assistant.ask("What has Russia offered in return?").citations[0].article_id == SEED_ID


def test_sentence_vectors_are_stored_with_their_passages(assistant: Assistant) -> None:
    from assistant.text import sentence_spans

    assert main(["add", str(SEED)]) == 0
    lib = assistant.library
    ids = lib.catalog.chunk_ids_of(SEED_ID)
    stored = lib.catalog.sentence_vectors(ids, 384)
    rows = lib.catalog.chunks(ids)
    assert set(stored) == set(ids)
    for cid, vectors in stored.items():
        assert vectors.shape == (len(sentence_spans(rows[cid].text)), 384)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)  # float16 on disk
    assert main(["remove", SEED_ID]) == 0
    assistant.library.close()
    assert assistant.library.catalog.sentence_vectors(ids, 384) == {}


def test_evidence_without_stored_vectors_embeds_the_sentences(seeded: Assistant) -> None:
    from assistant.answer import evidence
    from assistant.answer.retrieval import retrieve

    lib = seeded.library
    lib.ensure_lexical()
    found = retrieve(lib.stores, "What has Russia offered in return?", n=6)
    top = [p.chunk_id for p in found.passages]
    stored = lib.catalog.sentence_vectors(top, 384)
    args = ("What has Russia offered in return?", found.query_vector, found.passages, lib.embed)
    with_stored = evidence.score_sentences(*args, stored=stored)
    without = evidence.score_sentences(*args, stored={})
    assert with_stored[0].quote == without[0].quote
    assert "what, if anything, Russia has offered in return" in with_stored[0].quote
    # the contenders are judged by sentence-alone vectors either way (int8 activations are
    # quantised per batch, so a sentence embedded among 6 or among 20 differs a little)
    assert abs(with_stored[0].dense - without[0].dense) < 0.02


def _bm25_rows() -> list[tuple[str, str, str]]:
    texts = {
        "ports": "Rotterdam's container cranes stood idle as the trade war reached Europe's ports.",
        "banks": "Central bankers have become celebrities; their press conferences are streamed.",
        "parking": "Free kerbside parking is one of the most expensive gifts a city can give.",
        "trams": "Lisbon raised the price of a single tram ticket bought on board.",
        "ukraine": "Ukraine rejected the final offer; Russia offered little in return.",
    }
    filler = [
        (f"misc{j}:0", f"misc{j}", f"Weather notes, day {j}: mild and dry.") for j in range(60)
    ]
    return [
        (f"{a}:{i}", a, f"{t} Paragraph {i}.") for a, t in texts.items() for i in range(3)
    ] + filler


def test_bm25_update_replaces_only_the_changed_articles(tmp_path: Path) -> None:
    from assistant.index import lexical
    from assistant.index.lexical import LexicalIndex

    rows = _bm25_rows()
    index = LexicalIndex(tmp_path / "bm25")
    keep = [r for r in rows if r[1] not in ("trams", "banks")]
    index.build(*map(list, zip(*keep, strict=True)), generation=1)  # type: ignore[call-arg]
    assert index.search("tram ticket", 3) == []

    edited = [("banks:0", "banks", "Central banks should speak less and say more.")]
    new = [r for r in rows if r[1] == "trams"]
    assert index.update({"trams", "banks", "ukraine"}, new + edited, generation=2)
    assert index.generation == 2
    assert index.search("tram ticket Lisbon", 1)[0][0].startswith("trams:")
    assert index.search("central banks speak", 1)[0][0] == "banks:0"
    assert not any(i.startswith("ukraine:") for i, _ in index.search("Ukraine Russia offer", 5))
    only = index.search("tram ticket price parking", 5, allowed_articles={"parking"})
    assert only and all(i.startswith("parking:") for i, _ in only)

    # the same results after loading from disk, and the same order as a full build
    again = LexicalIndex(tmp_path / "bm25")
    assert again.load(2) and not again.load(1)
    full = LexicalIndex(tmp_path / "full")
    now = [r for r in keep if r[1] not in ("ukraine", "banks")] + new + edited
    full.build(*map(list, zip(*now, strict=True)), generation=2)  # type: ignore[call-arg]
    for q in ("tram ticket", "parking gifts city", "central banks", "container cranes"):
        assert again.search(q, 1)[0][0] == full.search(q, 1)[0][0], q

    # too many changes at once: declined, and nothing changed
    many = [(f"x:{i}", "x", "filler words here") for i in range(lexical.DELTA_LIMIT + 1)]
    assert not again.update({"x"}, many, generation=3)
    assert again.generation == 2


def test_bm25_restricted_to_articles_follows_each_build(tmp_path: Path) -> None:
    from assistant.index.lexical import LexicalIndex, _Rows

    rows = _bm25_rows()
    index = LexicalIndex(tmp_path / "bm25")
    index.build(*map(list, zip(*rows, strict=True)), generation=1)  # type: ignore[call-arg]
    hits = index.search("tram ticket parking gifts city ports", 10, {"parking", "gone"})
    assert hits and {i.split(":")[0] for i, _ in hits} == {"parking"}
    assert index.search("tram ticket", 5, set()) == []
    # a new build orders the passages differently: the restriction must use the new rows
    index.build(*map(list, zip(*rows[::-1], strict=True)), generation=2)  # type: ignore[call-arg]
    hits = index.search("tram ticket parking gifts city", 10, {"trams"})
    assert hits and {i.split(":")[0] for i, _ in hits} == {"trams"}
    # the rows found by sorting and binary search are those a test of every row finds
    rng = np.random.default_rng(0)
    articles = [f"a{int(x)}" for x in rng.integers(0, 40, 500)]
    _Rows.save(tmp_path, [f"{a}:{i}" for i, a in enumerate(articles)], articles)
    for wanted in ({"a3"}, {"a1", "a7", "a39", "nope"}, set(), {f"a{k}" for k in range(40)}):
        found = _Rows.load(tmp_path).of_articles(wanted)
        assert sorted(found) == [i for i, a in enumerate(articles) if a in wanted], wanted


def test_adding_one_article_updates_bm25_without_a_rebuild(assistant: Assistant) -> None:
    assert main(["add", str(SEED), str(DATA / "plain_globe.txt")]) == 0
    Path("tram.txt").write_text(
        "Lisbon raises its tram fares\n\nLisbon's council raised the price of a single tram "
        "ticket bought on board to 3.10 euros.\n"
    )
    assistant.library.ensure_lexical()
    result = assistant.add(read_sources(["tram.txt"], assistant.settings.ingest))
    assert result[0].status == "added"
    assert (assistant.library.lexical.root / "delta.json").exists()  # updated, not rebuilt
    assert not assistant.library.sync().rebuilt_lexical
    ans = assistant.ask("How much does a tram ticket bought on board cost in Lisbon?")
    assert not ans.refused and ans.citations[0].article_id == result[0].id
    assistant.remove([result[0].id])
    hits = assistant.library.lexical.search("Lisbon tram ticket", 5)
    assert not any(i.startswith(f"{result[0].id}:") for i, _ in hits)


def test_sentence_vectors_pack_to_int8_and_back() -> None:
    from assistant.index.catalog import pack, unpack

    v = np.random.default_rng(0).standard_normal((7, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    blob = pack(v)
    assert len(blob) == 7 * (4 + 384)  # a quarter of float32
    back = unpack(blob, 384)
    assert np.min(np.sum(back * v, axis=1)) > 0.999
    assert unpack(pack(np.zeros((0, 384), np.float32)), 384).shape == (0, 384)


def test_a_name_that_turns_private_when_connecting_is_refused(
    web_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name looked public when checked, the connection lands on loopback."""
    from dataclasses import replace

    from assistant.errors import InputError
    from assistant.ingest import sources

    strict = replace(Settings().ingest, allow_private_urls=False)
    monkeypatch.setattr(sources, "check_url", lambda url, settings: None)  # the check was fooled
    with pytest.raises(InputError, match="connected to a private or local address"):
        sources.fetch_url(f"{web_server}/html_with_nav.html", strict)
    allowed = replace(strict, allow_private_urls=True)  # configured: fetched
    assert sources.fetch_url(f"{web_server}/html_with_nav.html", allowed).kind == "html"


def test_an_index_from_before_the_article_signals_is_explained(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Upgrading: an index built without article vectors names the reason and the fix."""
    import json

    assert run("add", str(SEED)) == 0
    a = Assistant(Settings.from_env())
    old = json.loads(a.library.catalog.get_meta("manifest") or "{}")
    del old["article_signals"]
    a.library.catalog.set_meta("manifest", json.dumps(old))
    a.close()
    assert run("ask", "What has Russia offered in return?") == 1
    err = capsys.readouterr().err
    assert "article_signals: None -> " in err and "Run: assistant index --rebuild" in err
    assert run("index", "--rebuild") == 0
    assert run("ask", "What has Russia offered in return?") == 0


def test_the_vector_store_searches_widely_enough_to_give_the_same_neighbours_every_time(
    seeded: Assistant,
) -> None:
    """HNSW at Chroma's default width gave another process other nearest passages (and another
    answer); the store is opened at EF_SEARCH, including one made before it was set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.index.vectors import EF_SEARCH

    vectors = seeded.library.stores.vectors
    name = vectors._connect().name
    path = str(seeded.settings.index_dir / "chroma")
    raw = chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
    assert raw.get_collection(name).configuration["hnsw"]["ef_search"] == EF_SEARCH
    raw.get_collection(name).modify(configuration={"hnsw": {"ef_search": 100}})  # an older store
    vectors.reopen()
    vectors._connect()
    assert raw.get_collection(name).configuration["hnsw"]["ef_search"] == EF_SEARCH
    assert seeded.ask("What has Russia offered in return?").citations


def test_a_large_sync_leaves_chromas_graph_written_whole(assistant: Assistant) -> None:
    """Vectors Chroma has not written into its graph file are added again by every process
    that opens the store, on several threads: each gets a slightly different graph, and a
    question could get other nearest passages (vectors.SETTLE_AFTER). After adding more than
    SETTLE_AFTER passages the graph on disk holds them all."""
    import sqlite3

    from assistant.index.vectors import SETTLE_AFTER
    from assistant.ingest.sources import RawDoc

    docs = [
        RawDoc(f"note-{i}.txt", f"Field note {i}\n\n" + "\n\n".join(
            f"Observation {j} of walk {i}: the {w} by the river looked {c} today."
            for j, (w, c) in enumerate([("heron", "grey"), ("willow", "green"), ("bridge", "old"),
                                        ("ferry", "late"), ("market", "busy")])
        ), "text", id=f"note-{i}")
        for i in range(SETTLE_AFTER // 5 + 2)
    ]  # fmt: skip
    assert all(r.status == "added" for r in assistant.add(docs))
    assert assistant.library.catalog.get_meta("unsettled_vectors") == "0"
    db = sqlite3.connect(assistant.settings.index_dir / "chroma" / "chroma.sqlite3")
    seqs = {seq for (seq,) in db.execute("SELECT seq_id FROM max_seq_id")}
    db.close()
    assert len(seqs) == 1, seqs  # the vector segment has caught up with the records
    assert assistant.ask("What did the heron look like by the river?").citations


# --- BM25 is read without bm25s: the saved matrix, searched as bm25s searches it -------------


def test_saved_bm25_scores_as_bm25s_does(tmp_path: Path) -> None:
    import bm25s

    from assistant.index.lexical import LexicalIndex, SavedScores
    from assistant.text import terms

    texts = ["Russia offered grain in return for sanctions relief.",
             "The ceasefire talks stalled over territory and grain exports.",
             "Wheat prices rose; grain ships waited in Odesa.", "Nothing here."]  # fmt: skip
    index = LexicalIndex(tmp_path / "bm25")
    index.build([f"p{i}" for i in range(4)], ["a", "a", "b", "c"], texts, generation=1)
    saved = SavedScores(tmp_path / "bm25")
    theirs = bm25s.BM25.load(str(tmp_path / "bm25"), mmap=True)
    mask = np.array([1, 0, 1, 1], dtype=np.float32)
    for q in ("What has Russia offered in return?", "grain grain exports", "zebra crossing"):
        for m in (None, mask):
            ours_ = saved.get_scores(terms(q), weight_mask=m)
            want = theirs.get_scores(terms(q) or ["zebra"], weight_mask=m)
            np.testing.assert_allclose(ours_, want, rtol=1e-6)
    fresh = LexicalIndex(tmp_path / "bm25")
    assert fresh.load(1) and fresh.search("Russia offered grain", 2)[0][0] == "p0"
    (tmp_path / "bm25" / "terms.npy").write_bytes(b"cut")
    assert not LexicalIndex(tmp_path / "bm25").load(1)  # rebuilt by the caller, never searched


def test_bm25_rows_are_found_by_article_whatever_their_ids(tmp_path: Path) -> None:
    from assistant.index.lexical import LexicalIndex

    ids = ["é-1:0", "b:0", "é-1:1", "a-much-longer-article:0", "b:1"]
    articles = ["é-1", "b", "é-1", "a-much-longer-article", "b"]
    texts = ["grain ships", "grain prices", "grain ships wait", "grain talks", "wheat"]
    filler = [f"f{k}" for k in range(10)]  # so that changing "b" stays an update
    index = LexicalIndex(tmp_path / "bm25")
    index.build(ids + filler, articles + filler, texts + ["rye"] * 10, generation=3)
    fresh = LexicalIndex(tmp_path / "bm25")
    assert fresh.load(3)
    assert {i for i, _ in fresh.search("grain", 10, {"é-1"})} == {"é-1:0", "é-1:1"}
    # a key longer than every stored one must not match its cut-off prefix
    assert fresh.search("grain", 10, {"b-and-then-some-more-than-any-article"}) == []
    assert fresh.update({"b"}, [("b:0", "b", "barley")], generation=4)
    found = {i for i, _ in fresh.search("grain", 10)}
    assert found == {"é-1:0", "é-1:1", "a-much-longer-article:0"}
    assert [i for i, _ in fresh.search("barley", 10)] == ["b:0"]
    meta = json.loads((tmp_path / "bm25" / "passages.json").read_text())
    meta.pop("format")  # the layout before the ids were memory-mapped: rebuilt, not misread
    (tmp_path / "bm25" / "passages.json").write_text(json.dumps(meta))
    assert not LexicalIndex(tmp_path / "bm25").load(3)


def test_asking_imports_neither_bm25s_nor_scipy(seeded: Assistant) -> None:
    import subprocess
    import sys

    s = seeded.settings
    script = (
        "import sys\nfrom assistant import cli\n"
        f"assert cli.main(['--corpus', {str(s.corpus_dir)!r}, '--index', {str(s.index_dir)!r},"
        " 'ask', 'What has Russia offered in return?']) == 0\n"
        "print([m for m in ('bm25s', 'scipy') if m in sys.modules])\n"
    )
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_the_graph_is_read_by_a_query_that_lets_other_threads_run(
    seeded: Assistant, assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chroma's count() holds the GIL while it reads the graph (1-1.4 s at 100k articles), its
    # query() does not: the first look at a store is a query, so Gradio's import, the model and
    # BM25 load meanwhile (docs/performance.md)
    calls: list[str] = []
    vectors = seeded.library.vectors
    real = vectors._call
    monkeypatch.setattr(vectors, "_call", lambda name, **kw: calls.append(name) or real(name, **kw))
    seeded.library.stores.check_vectors()
    assert calls[:2] == ["query", "count"]
    assistant.library.vectors.load()  # an empty store: nothing to read, no error
