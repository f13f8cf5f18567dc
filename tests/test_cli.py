"""The command line's rough edges (issue 24, item 7): a mistyped --corpus, --history as ask --json
prints it, filters that match nothing, progress in logs, typos, Markdown output; and serve's
setup mistakes (a bad port or host, a port in use), each one line."""

from __future__ import annotations

import io
import json
import socket
import sys
import time
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.cli import main
from assistant.progress import LineProgress
from tests.conftest import SEED, SEED_ID

SEED_QUESTION = "What has Russia offered in return?"


@pytest.mark.parametrize(
    "argv",
    [["ask", "hello"], ["list"], ["index"], ["remove", "x"], ["show", "x"], ["feeds", "list"],
     ["eval", "q.jsonl"]],
)  # fmt: skip
def test_a_corpus_that_does_not_exist_is_an_error_and_nothing_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    missing = tmp_path / "no" / "such"
    assert main(["--corpus", str(missing), "--index", str(tmp_path / "ix"), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: No library at {missing}/") and err.count("\n") == 1
    assert "assistant add" in err
    assert (
        not missing.exists() and not (tmp_path / "ix").exists() and not (tmp_path / "no").exists()
    )


def test_add_creates_the_library_and_reports_progress_in_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.progress

    monkeypatch.setattr(assistant.progress, "EVERY", 0)  # as if each step took longer than one
    lib = tmp_path / "new"
    argv = ["--corpus", str(lib / "corpus"), "--index", str(lib / "indexes")]
    assert main([*argv, "add", str(SEED)]) == 0
    assert (lib / "corpus" / f"{SEED_ID}.md").exists()
    err = capsys.readouterr().err  # stderr is not a terminal here: lines, not a bar
    assert "reading articles: 1, done in" in err and "indexing: 1/1 (100%), done in" in err
    assert main([*argv, "list"]) == 0


def test_history_takes_one_answer_object_or_a_list(
    seeded: Assistant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", SEED_QUESTION, "--json"]) == 0
    one = tmp_path / "one.json"
    one.write_text(capsys.readouterr().out)  # exactly what ask --json printed
    assert main(["ask", "and what did Ukraine reject?", "--history", str(one), "--json"]) == 0
    follow = json.loads(capsys.readouterr().out)
    assert follow["resolved_question"].endswith(f"({SEED_QUESTION})") and not follow["refused"]
    both = tmp_path / "both.json"
    both.write_text(json.dumps([json.loads(one.read_text()), follow]))
    assert main(["ask", "why?", "--history", str(both)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text('[{"answer": "no question"}]')
    assert main(["ask", "why?", "--history", str(bad)]) == 1
    assert "expected an answer object" in capsys.readouterr().err


def test_filters_that_match_no_article_say_so_on_stderr(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", SEED_QUESTION, "--outlet", "No Such Outlet"]) == 0
    out, err = capsys.readouterr()
    assert "note: no article matches --outlet 'No Such Outlet'" in err
    assert "No article in the corpus matches the filters" in out
    assert main(["ask", SEED_QUESTION, "--outlet", "CNA"]) == 0
    assert "note:" not in capsys.readouterr().err


def test_ask_format_markdown_lists_the_sources(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", SEED_QUESTION, "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith(f"### {SEED_QUESTION}\n\n") and "\\[" not in md
    assert "[1]" in md and "\n1. **Commentary: Could Trump" in md
    assert "Stefan Wolff, CNA, date unknown, paragraph 12" in md
    assert "   > “It is not clear, however, what, if anything, Russia has offered in return" in md


def test_ask_text_lists_as_sources_only_the_passages_the_answer_cites(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    """The further passages (other articles, for whoever wants to look further) are not sources."""
    assert main(["ask", SEED_QUESTION]) == 0
    out = capsys.readouterr().out
    answer, rest = out.split("\n\nSources:\n")
    sources, further = rest.split("\n\nFurther reading (not cited in the answer):\n")
    assert answer.endswith("[1].") and "[2]" not in answer
    assert sources.startswith("[1] Commentary: Could Trump") and "\n[2] " not in sources
    assert further.startswith("[2] ")


def _cite(n: int) -> dict[str, object]:
    return {"n": n, "title": f"T{n}", "article_id": f"a{n}", "author": "A", "outlet": None,
            "published": None, "paragraph": n, "quote": f"Quote {n}."}  # fmt: skip


def test_format_answer_splits_cited_from_further_passages() -> None:
    from assistant.cli import format_answer

    cites = [_cite(1), _cite(2), _cite(3)]
    text = format_answer({"answer": "One [1]. Three [3].", "refused": False, "citations": cites})
    assert text.split("\n")[2:] == [
        "Sources:", "[1] T1 — A, date unknown, paragraph 1", "    “Quote 1.”",
        "[3] T3 — A, date unknown, paragraph 3", "    “Quote 3.”", "",
        "Further reading (not cited in the answer):",
        "[2] T2 — A, date unknown, paragraph 2", "    “Quote 2.”",
    ]  # fmt: skip
    every = format_answer({"answer": "One [1]. Two [2]. Three [3].", "refused": False,
                           "citations": cites})  # fmt: skip
    assert "Sources:" in every and "Further reading" not in every
    refusal = format_answer({"answer": "The corpus does not say.", "refused": True,
                             "citations": cites})  # fmt: skip
    assert "Nearest passages (none supports an answer):\n[1] T1" in refusal
    assert "Sources:" not in refusal and "Further reading" not in refusal
    assert format_answer({"answer": "No.", "refused": True, "citations": []}) == "No."
    follow_up = format_answer({"answer": "Because [1].", "refused": False, "citations": cites[:1],
                               "resolved_question": "Why did T1 happen?"})  # fmt: skip
    assert follow_up.startswith("Understood as: Why did T1 happen?\n\nBecause [1].")


def test_a_command_typo_gets_the_closest_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["aks", "hello"])
    assert e.value.code == 2
    assert "Did you mean 'ask'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["feeds", "updat"])
    assert "Did you mean 'update'?" in capsys.readouterr().err


def test_an_unknown_option_is_told_by_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, said in ((["list", "--sort", "x"], "assistant list: error: unrecognized arguments: --sort x"),
                       (["feeds", "list", "--x"], "assistant feeds list: error: unrecognized arguments: --x"),
                       (["--bogus", "list"], "assistant: error: unrecognized arguments: --bogus")):  # fmt: skip
        with pytest.raises(SystemExit) as e:
            main(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2 and said in err
        assert ("usage: assistant list" in err) == (argv[0] == "list")  # the command's own usage


def test_a_question_needs_no_quotes() -> None:
    from assistant.cli import build_parser, parse

    args = parse(build_parser(), ["ask", "what", "has", "Russia", "offered?", "--json", "-k", "3"])
    assert args.question == "what has Russia offered?" and args.json and args.k == 3
    assert parse(build_parser(), ["ask", "What has Russia offered?"]).question == (
        "What has Russia offered?"
    )


def test_progress_lines_come_while_a_step_runs_and_at_the_end() -> None:
    out = io.StringIO()
    bar = LineProgress(1200, "indexing", out, every=0.01)
    bar.update(120)
    deadline = time.monotonic() + 30  # the ticker's line, however slow the machine
    while "indexing: 120/1,200 (10%)" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    bar.update(1080)
    bar.close()
    bar.close()  # twice is harmless
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("indexing: 120/1,200 (10%), 0:")
    assert lines[-1].startswith("indexing: 1,200/1,200 (100%), done in")
    assert sum("done in" in line for line in lines) == 1
    quiet = io.StringIO()
    short = LineProgress(3, "indexing", quiet)  # done before the first 10 s: no lines
    short.update(3)
    short.close()
    assert quiet.getvalue() == ""


def test_the_web_progress_never_counts_past_its_total() -> None:
    from assistant.web.corpus_tab import read_progress

    # one upload or URL may hold many articles (a .jsonl, a feed): no "40/1"
    assert read_progress(40, 1) == ((40, None), "Read 40 articles")
    assert read_progress(1, 3) == ((1, 3), "Read 1 of 3")


def test_ask_as_a_command_ends_at_once_when_it_only_read(seeded: Assistant) -> None:
    """`assistant ask` skips the teardown at exit (Chroma freeing its graph: ~0.4 s at 100k
    articles) when it only read, with its output whole; after bringing the index in line
    first it ends normally."""
    import subprocess
    import sys

    script = (
        "import atexit, sys; atexit.register(print, 'torn down', file=sys.stderr); "
        "from assistant.cli import main; sys.argv[1:] = ['ask', sys.argv[1], '--json']; "
        "sys.exit(main())"
    )
    root = Path(__file__).resolve().parents[1]

    def ask() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", script, SEED_QUESTION], cwd=root,
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    new = seeded.settings.corpus_dir / "lisbon-trams.md"
    new.write_text("Lisbon raised the price of a single tram ticket bought on board.\n")
    wrote = ask()  # the corpus changed: this one brings the index in line first
    assert wrote.returncode == 0, wrote.stderr[-2000:]
    assert "torn down" in wrote.stderr
    read = ask()
    assert read.returncode == 0, read.stderr[-2000:]
    assert "torn down" not in read.stderr
    answer = json.loads(read.stdout)  # printed whole before the process ended
    assert answer["citations"][0]["article_id"] == SEED_ID


# --- serve: a port or host that cannot be used is one line, before any work ----------------------


@pytest.mark.parametrize(
    ("argv", "env_port", "told"),
    [
        (["serve", "--port", "99999"], None, "--port 99999 is not a port: give a whole number"),
        (["serve", "--port", "0"], None, "--port 0 is not a port"),
        (["serve"], "abc", "ASSISTANT_PORT='abc' is not a port: give a whole number"),
        (["serve", "--host", "999.1.1.1", "--port", "7872"], None,
         "Cannot listen on 999.1.1.1: not an address of this machine. Use --host 127.0.0.1"),
    ],
)  # fmt: skip
def test_serve_refuses_a_bad_port_or_host_before_the_index_and_gradio(
    argv: list[str], env_port: str | None, told: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "gradio", None)  # importing Gradio now would fail the test
    if env_port is not None:
        monkeypatch.setenv("ASSISTANT_PORT", env_port)
    Path("corpus").mkdir()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {told}") and err.count("\n") == 1, err
    assert not Path("indexes").exists()  # nothing was built


def test_serve_on_a_port_in_use_is_one_line_naming_our_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)
    Path("corpus").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    assert capsys.readouterr().err == (
        f"error: Cannot listen on 127.0.0.1:{port}: the port is in use (or not allowed). "
        "Choose another with --port N (or ASSISTANT_PORT).\n"
    )


def test_a_port_taken_while_the_app_starts_is_one_line_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken between the early check and Gradio's launch: Gradio's OSError (whose advice names
    GRADIO_SERVER_PORT) becomes ours."""
    from assistant.web import launch

    checks: list[int] = []

    def late(host: str, port: int) -> None:  # the port was free at the first check
        checks.append(port)
        if len(checks) > 1:
            real(host, port)

    real = launch.check_listen
    monkeypatch.setattr(launch, "check_listen", late)
    Path("corpus").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--no-mcp"]) == 1
    err = capsys.readouterr().err
    assert len(checks) == 2 and "Traceback" not in err and "GRADIO" not in err
    assert err.endswith(f"error: Cannot listen on 127.0.0.1:{port}: the port is in use "
                        "(or not allowed). Choose another with --port N (or ASSISTANT_PORT).\n")  # fmt: skip


@pytest.mark.parametrize(
    ("command", "told"),
    [("add", ["SOURCE", ".txt", ".jsonl", "directory", "http(s)://", "RSS/Atom", "standard input"]),
     ("remove", ["ID", "article ids, as `assistant list` shows them"]),
     ("show", ["ID", "an article id"])],
)  # fmt: skip
def test_help_says_what_the_positional_arguments_are(
    command: str, told: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "positional arguments" in shown and all(t in shown for t in told), shown


def test_list_columns_line_up_whatever_the_length_of_the_ids() -> None:
    from types import SimpleNamespace

    from assistant.cli import LIST_ID_WIDTH, list_lines

    def row(aid: str, title: str) -> SimpleNamespace:
        return SimpleNamespace(id=aid, title=title, author="Ann Lee", outlet=None,
                               published="2024-03-04", n_passages=1)  # fmt: skip

    ids = ["op-1", "opinion-the-town-needs-a-night-bus-241d134d", "x" * 100]
    lines = list_lines([row(ids[0], "Trams"), row(ids[1], "Night bus"), row(ids[2], "Long")])
    assert lines[1].split()[0] == ids[1]  # never cut below the cap
    assert lines[2].startswith("x" * (LIST_ID_WIDTH - 1) + "…  Long ")  # cut beyond it
    assert len({line.index("Ann Lee") for line in lines}) == 1  # every column starts in line
    assert (
        len({line.index(t) for line, t in zip(lines, ("Trams", "Night", "Long"), strict=True)}) == 1
    )
    assert lines[0].endswith("Ann Lee, 2024-03-04  (1 passage)")
