"""A full or read-only disk is named as such, never as damage; `index --rebuild` builds beside
the old index, so a rebuild that fails leaves it answering; `assistant index` repairs a BM25
file that disagrees with its data. (A full disk cannot be made here without root: where a
write must fail, the test makes the write raise the OSError the kernel gives.)"""

from __future__ import annotations

import errno
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import disk_problem
from assistant.index.sync import Library
from tests.conftest import SEED_ID

QUESTION = "What has Russia offered in return?"


def outputs(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(
    ("error", "says"),
    [(OSError(errno.ENOSPC, "No space left on device", "/lib/indexes/chroma/x.bin"),
      "The disk is full (writing indexes/chroma/x.bin)"),
     (OSError(errno.EROFS, "Read-only file system", "/lib/corpus/a.md"),
      "corpus/a.md is read-only"),
     (OSError(errno.EACCES, "Permission denied", "/lib/indexes/catalog.sqlite"),
      "No permission to write indexes/catalog.sqlite"),
     (sqlite3.OperationalError("database or disk is full"), "The disk is full (writing the library)"),
     (sqlite3.OperationalError("attempt to write a readonly database"), "the library is read-only")],
)  # fmt: skip
def test_disk_errors_are_named(error: Exception, says: str) -> None:
    problem = disk_problem(error, Path("/lib"))
    assert problem is not None and str(problem).startswith(says), problem
    assert "nothing was lost" in str(problem) and "damaged" not in str(problem)


def test_other_errors_are_not_disk_errors() -> None:
    assert disk_problem(sqlite3.DatabaseError("file is not a database"), Path("/lib")) is None
    assert disk_problem(ValueError("bad"), Path("/lib"), Path("/lib")) is None


def test_a_rebuild_on_a_full_disk_leaves_the_old_index(
    seeded: Assistant, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: Library, group: object) -> int:
        path = self.settings.index_dir / "chroma" / "data_level0.bin"
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    # undo() would also undo the test's own directory (conftest's chdir): the question after
    # would go to the checkout's library, not this one
    with monkeypatch.context() as m:
        m.setattr(Library, "_store", full)
        rc, out, err = outputs(capsys, "index", "--rebuild")
    assert rc == 1 and "Traceback" not in err
    assert err.startswith("error: The disk is full (writing indexes/.rebuild/chroma/"), err
    assert "damaged" not in err and not Path("indexes/.rebuild").exists()
    rc, out, err = outputs(capsys, "ask", QUESTION, "--json")
    assert rc == 0, err
    assert json.loads(out)["citations"][0]["article_id"] == SEED_ID


def test_a_rebuild_swaps_the_new_index_in(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    before = Path("indexes/catalog.sqlite").stat().st_ino
    rc, _out, err = outputs(capsys, "index", "--rebuild")
    assert rc == 0, err
    assert Path("indexes/catalog.sqlite").stat().st_ino != before
    assert not Path("indexes/.rebuild").exists() and not Path("indexes/.replaced").exists()
    assert seeded.ask(QUESTION).citations[0].article_id == SEED_ID  # a reader follows the swap


def test_an_unfinished_rebuild_is_dropped(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    half = Path("indexes/.rebuild")
    (half / "chroma").mkdir(parents=True)
    (half / "catalog.sqlite").write_bytes(b"half written")
    rc, out, err = outputs(capsys, "index")
    assert rc == 0 and not half.exists(), err
    rc, out, err = outputs(capsys, "ask", QUESTION, "--json")
    assert rc == 0, err
    assert json.loads(out)["citations"][0]["article_id"] == SEED_ID


@pytest.mark.parametrize("damage", ["drop an id", "a removed passage past the end"])
def test_index_repairs_a_bm25_file_that_disagrees(
    seeded: Assistant, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    [folder] = [p for p in Path("indexes").glob("bm25-*") if "articles" not in p.name]
    meta = json.loads((folder / "passages.json").read_text())
    if damage == "drop an id":
        np.save(folder / "ids.npy", np.load(folder / "ids.npy")[1:])
    else:
        state = {"built_generation": meta["generation"], "generation": meta["generation"],
                 "dead": [meta["passages"] + 5], "delta": []}  # fmt: skip
        (folder / "delta.json").write_text(json.dumps(state))
    rc, out, err = outputs(capsys, "index")
    assert rc == 0, err
    assert len(np.load(folder / "ids.npy")) == seeded.library.catalog.count_chunks()
    rc, out, err = outputs(capsys, "ask", QUESTION, "--json")
    assert rc == 0, err
    assert json.loads(out)["citations"][0]["article_id"] == SEED_ID


def test_the_web_says_disk_full_without_a_path() -> None:
    import gradio as gr

    from assistant.settings import Settings
    from assistant.web.context import ProgressRelay, WebContext, bind

    def handler(ctx: WebContext) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/srv/lib/indexes/catalog.sqlite")

    ctx = WebContext(None, Settings.from_env(), None, ProgressRelay())  # type: ignore[arg-type]
    with pytest.raises(gr.Error) as e:
        bind(ctx, handler)()
    assert "disk is full or read-only" in str(e.value) and "/srv" not in str(e.value)


def test_a_finished_rebuild_cut_off_before_its_swap_is_swapped_in_next_time(
    seeded: Assistant, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Library._finish_swap

    def killed_when_ready(self: Library) -> None:
        if (self.settings.index_dir / ".rebuild" / "READY").exists():
            raise KeyboardInterrupt  # as a kill right after the new index was complete
        real(self)

    before = Path("indexes/catalog.sqlite").stat().st_ino
    with monkeypatch.context() as m:
        m.setattr(Library, "_finish_swap", killed_when_ready)
        assert main(["index", "--rebuild"]) == 130
    assert Path("indexes/.rebuild/READY").exists()
    rc, out, err = outputs(capsys, "index")
    assert rc == 0, err
    assert Path("indexes/catalog.sqlite").stat().st_ino != before  # the finished one, swapped in
    assert not Path("indexes/.rebuild").exists()
    rc, out, err = outputs(capsys, "ask", QUESTION, "--json")
    assert rc == 0, err
    assert json.loads(out)["citations"][0]["article_id"] == SEED_ID
