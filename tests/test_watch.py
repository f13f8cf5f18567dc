"""Watching the corpus: the running web app follows files dropped, edited and deleted; an inbox
is emptied into the corpus; `assistant watch` survives a kill in the middle of a sync; polling
takes over where file events cannot be had. The real app, model, Chroma and watchdog throughout.

Waits poll for the expected state with a generous deadline: they pass as soon as the background
sync is done, however busy the machine (a deadline is a failure only when nothing happens).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.api import Assistant
from assistant.index.watch import Watcher
from assistant.settings import Settings
from tests.conftest import SEED_ID, served_app

DEADLINE_S = 120.0
TRAMS = """---
title: Lisbon raises its tram fares
author: Rui Costa
outlet: The Tagus Post
---

Lisbon's city council has raised the price of a single tram ticket bought on board to 3.10 euros, \
the largest increase since the historic Line 28 was modernised.

Councillors argued that the yellow trams carry more tourists than residents, and that the extra \
revenue will pay for new brakes on the oldest carriages.
"""
TRAM_QUESTION = "How much does a tram ticket bought on board cost in Lisbon?"
SEED_QUESTION = "What has Russia offered in return?"


def eventually(check: Callable[[], Any], what: str) -> Any:
    """The first true value of ``check()``, tried until DEADLINE_S has passed."""
    end = time.monotonic() + DEADLINE_S
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"not within {DEADLINE_S:.0f} s: {what}")
        time.sleep(0.3)


def cited(answer: dict[str, Any]) -> set[str]:
    return {c["article_id"] for c in answer["citations"]} if not answer["refused"] else set()


# --- the running web app --------------------------------------------------------------------------


@pytest.fixture
def served(seeded: Assistant, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    seeded.close()
    s = Settings.from_env()
    s = replace(s, watch=replace(s.watch, inbox=tmp_path / "inbox"))
    with served_app(s) as url:
        yield url, s


def test_the_web_app_follows_files_dropped_edited_and_deleted(
    served: tuple[str, Settings],
) -> None:
    from gradio_client import Client

    url, settings = served
    client = Client(url, verbose=False)
    ask = lambda q: client.predict(q, api_name="/ask")  # noqa: E731
    assert "trams" not in cited(ask(TRAM_QUESTION))

    # dropped into corpus/: answerable once the background sync is done
    (settings.corpus_dir / "trams.md").write_text(TRAMS)
    eventually(lambda: "trams" in cited(ask(TRAM_QUESTION)), "a dropped file answers")

    # edited in place (no rename: the directory does not change): the next answers follow
    path = settings.corpus_dir / f"{SEED_ID}.md"
    path.write_text(path.read_text().replace("Stefan Wolff", "S. Wolff"))
    eventually(lambda: ask(SEED_QUESTION)["citations"][0]["author"] == "S. Wolff", "an edit shows")

    # deleted: gone from the answers
    (settings.corpus_dir / "trams.md").unlink()
    eventually(lambda: "trams" not in cited(ask(TRAM_QUESTION)), "a deleted file is gone")

    # the inbox: cleaned and moved into the corpus like `assistant add`
    assert settings.watch.inbox is not None
    (settings.watch.inbox / "lisbon-trams.txt").write_text(TRAMS.split("---\n", 2)[2])
    eventually(lambda: "lisbon-trams" in cited(ask(TRAM_QUESTION)), "an inbox file answers")
    assert (settings.corpus_dir / "lisbon-trams.md").is_file()
    assert not (settings.watch.inbox / "lisbon-trams.txt").exists()

    # a file the inbox cannot take is set aside with the reason, and nothing else changes
    (settings.watch.inbox / "empty.txt").write_text("")
    why = settings.watch.inbox / "failed" / "empty.txt.why.txt"
    eventually(why.exists, "a failed inbox file is set aside")
    assert "empty.txt error:" in why.read_text()


def test_the_header_says_when_the_library_last_changed() -> None:
    from assistant.web.render import header_html

    out = header_html(3, 40, "2026-12-07T14:02:09+00:00")
    assert "Library last changed 7 Dec 2026, 14:02 UTC" in out
    assert "last changed" not in header_html(3, 40, None)


# --- a question never scans; the CLI's check looks at the directory only -------------------------


def test_with_a_watcher_a_question_does_not_look_at_the_corpus(seeded: Assistant) -> None:
    watcher = Watcher(seeded.library).start()
    try:
        assert watcher.flush(DEADLINE_S)
        seeded.library.corpus.scan = None  # type: ignore[method-assign,assignment]  # no scan
        seeded.library.needs_sync = None  # type: ignore[method-assign,assignment]
        seeded.ensure_index()
        assert seeded.ask(SEED_QUESTION).citations
    finally:
        watcher.stop()
    assert seeded.library.watcher is None


def test_when_quiet_the_watcher_writes_the_newest_vectors_into_chromas_graph(
    seeded: Assistant,
) -> None:
    """A small sync leaves its few vectors outside Chroma's written graph (each process that
    opens the store then adds them to its own copy, not always alike: vectors.SETTLE_AFTER);
    a watcher left quiet writes them in."""
    import sqlite3

    lib = seeded.library

    def written() -> set[int]:
        """The last change each of Chroma's segments holds: one number when the graph on disk
        holds every vector (the catalog's counter is set after the article's row, so it alone
        may read 0 before the sync has counted the new vectors)."""
        db = sqlite3.connect(lib.settings.index_dir / "chroma" / "chroma.sqlite3")
        try:
            return {seq for (seq,) in db.execute("SELECT seq_id FROM max_seq_id")}
        finally:
            db.close()

    def settled_after(before: int) -> bool:
        """Every segment holds a change later than ``before``: the new vectors are in the
        graph on disk, not only in the metadata."""
        now = written()
        return len(now) == 1 and min(now) > before and lib.unsettled() == 0

    watcher = Watcher(lib)
    watcher.settle_idle = 0.5
    watcher.start()
    try:
        assert watcher.flush(DEADLINE_S)
        before = max(written())
        (lib.corpus.root / "trams.md").write_text(TRAMS)
        eventually(lambda: lib.catalog.article("trams") is not None, "the dropped file indexed")
        eventually(lambda: settled_after(before), "the new vectors written into the graph")
    finally:
        watcher.stop()
    assert len(written()) == 1, written()
    assert seeded.ask("How much does a tram ticket bought on board cost in Lisbon?").citations


def test_the_cheap_check_sees_files_added_and_deleted(seeded: Assistant) -> None:
    lib = seeded.library
    seeded.ensure_index()  # the copy of the library is a new directory: one sync records it
    assert not lib.corpus_changed()
    (lib.corpus.root / "trams.md").write_text(TRAMS)
    assert lib.corpus_changed()
    seeded.ensure_index()
    assert not lib.corpus_changed() and lib.catalog.article("trams") is not None
    (lib.corpus.root / "trams.md").unlink()
    seeded.ensure_index()
    assert lib.catalog.article("trams") is None


def test_add_and_remove_look_at_their_own_files_when_the_corpus_is_in_line(
    seeded: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.ingest.sources import RawDoc

    lib = seeded.library
    (lib.corpus.root / "windows.md").write_bytes(b"Caf\xe9 in Windows-1252.\n")  # by hand
    doc = RawDoc("trams.txt", TRAMS.split("---\n", 2)[2], "text", id="trams", id_given=True)
    assert [r.status for r in seeded.add([doc])] == ["added"]  # the hand change: a full sync
    assert any("windows.md" in p for p in lib.problems())

    def no_scan() -> None:
        raise AssertionError("scanned every file")

    with monkeypatch.context() as m:  # not undo(): that would undo the test directory too
        m.setattr(lib.corpus, "scan", no_scan)  # in line now: no scan may happen
        other = RawDoc("ferries.txt", "Ferry fares in Oslo rose by a fifth in March, the city said.",
                       "text", id="ferries", id_given=True)  # fmt: skip
        assert [r.status for r in seeded.add([other])] == ["added"]
        seeded.remove(["trams"])
        assert lib.catalog.article("trams") is None and lib.catalog.article("ferries") is not None
        assert "ferries" in {p.article_id for p in seeded.passages("Oslo ferry fares", k=3)}
        assert any("windows.md" in p for p in lib.problems())  # the other file's problem stands
    assert not lib.needs_sync()


def test_a_bad_watch_mode_is_one_line_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_WATCH", "sometimes")
    Path("corpus").mkdir()  # a library (a missing one is its own one-line error first)
    for command in (["watch"], ["serve", "--port", "1"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ASSISTANT_WATCH='sometimes': expected one of auto, poll, off")
        assert "Traceback" not in err and err.count("\n") == 1


# --- polling ------------------------------------------------------------------------------------


def test_polling_takes_over_when_file_events_cannot_be_had(
    seeded: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """inotify refused (its watches used up: ENOSPC, as on a busy machine): the watcher polls."""
    import errno

    from watchdog.observers import Observer

    def refuse(self: Any) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(Observer, "start", refuse)
    lines: list[str] = []
    watcher = Watcher(seeded.library, report=lines.append, delay=0.2).start()
    try:
        assert watcher.how == "polling"
        assert any("polling instead" in line for line in lines)
        (seeded.library.corpus.root / "trams.md").write_text(TRAMS)
        eventually(
            lambda: "trams" in {p.article_id for p in seeded.passages(TRAM_QUESTION, k=3)},
            "polling finds a new file and it is indexed",
        )
    finally:
        watcher.stop()


# --- `assistant watch`: a kill in the middle of a sync loses nothing -----------------------------


def _watch(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "watch", "--inbox", "inbox"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def test_assistant_watch_killed_mid_sync_loses_nothing(seeded: Assistant, tmp_path: Path) -> None:
    settings = seeded.library.settings
    seeded.close()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = [f"note-{i:02d}" for i in range(12)]
    for i, name in enumerate(names):  # different enough not to be near-duplicates
        (inbox / f"{name}.txt").write_text(
            f"Harbour note {i}\n\n"
            + " ".join(f"Ship {i}-{j} docked at berth {j * i + 7}." for j in range(40))
        )
    log = tmp_path / "watch.log"
    first = _watch(settings, log)
    try:  # killed once it has started on the inbox (wherever it is then)
        eventually(
            lambda: any((settings.corpus_dir / f"{n}.md").exists() for n in names), "a start"
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(60)
    second = _watch(settings, log)
    try:
        lib = Assistant(Settings.from_env()).library
        eventually(
            lambda: (
                not any(inbox.glob("*.txt"))
                and all(
                    (row := lib.catalog.article(n)) is not None and row.indexed_sha == row.file_sha
                    for n in names
                )
            ),
            "every inbox file indexed after the restart",
        )
        second.send_signal(signal.SIGTERM)  # a clean stop
        assert second.wait(120) == 0
    finally:
        if second.poll() is None:
            second.kill()
    text = log.read_text()
    assert "stopped" in text and "Traceback" not in text
    assert not lib.needs_sync()  # the corpus, catalog, vectors and BM25 agree
    assert lib.vectors.count() == lib.catalog.count_chunks()
    assert not (inbox / "failed").exists()
    lib.close()
