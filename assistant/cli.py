"""The command line: ``assistant add | list | show | remove | index | ask | eval | serve | watch | feeds | mcp``.

Errors from the library are printed as one line (``error: ...``) with exit code 1; anything else
is a bug and keeps its traceback. Heavy imports happen inside the commands, so ``--help`` is
instant.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from assistant.errors import AssistantError, InputError
from assistant.settings import Settings
from assistant.text import count, quoted
from assistant.types import cited_numbers, conflict_note, generated_notes

EPILOG = """\
examples:
  assistant add article.txt --outlet CNA       add a file (also .md, .html, a directory, a URL, - for stdin)
  assistant add library.jsonl                   bulk import, one JSON article per line (ids kept)
  assistant feeds add https://example.com/rss   follow a feed (imports its entries now)
  assistant feeds update                        new entries of every followed feed (cron-safe)
  assistant ask "What has Russia offered in return?"
  assistant ask "and why?" --json               the answer object, for scripts
  assistant ask "What do commentators say about ...?" --by author   one entry per article, by author
  assistant ask "..." --timeline                the same entries, oldest first
  assistant ask "..." --generate                a language model writes it, checked against the passages
  assistant eval questions.jsonl --out runs/x   metrics, results.jsonl and report.html
  assistant serve --port 7860                   the web app on http://127.0.0.1:7860
  assistant mcp                                 the library for agents: an MCP server on stdio
  assistant watch --inbox ~/drop                keep the index in line as files change (Ctrl-C stops)
"""


INBOX_HELP = ("files dropped here (.txt .md .html .jsonl) are added like `assistant add`, then "
              "removed (env ASSISTANT_INBOX)")  # fmt: skip
MAX_ENTRIES_HELP = "import at most N entries of a feed at a time (default 50)"


def _progress(total: int, desc: str) -> Any:
    """A bar on a terminal; otherwise (a log file, cron, CI) a line at least every 10 s."""
    if not sys.stderr.isatty():
        from assistant.progress import LineProgress

        return LineProgress(total, desc, sys.stderr)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="article" if desc == "indexing" else "q",
                file=sys.stderr, dynamic_ncols=True)  # fmt: skip


def _reading_lines() -> Any:
    from assistant.progress import LineProgress

    return LineProgress(None, "reading articles", sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse that suggests the closest command on a typo ("did you mean 'ask'?")."""

    def error(self, message: str) -> Any:
        import difflib
        import re

        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'?([\w-]+)'?", m.group(2))
            if close := difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.5):
                message = f"{message}. Did you mean '{close[0]}'?"
        return super().error(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="assistant",
        description="Ask questions of a library of news commentary; every answer cites its passages.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--corpus",
        metavar="DIR",
        help="the article library (env ASSISTANT_CORPUS; default ./corpus)",
    )
    p.add_argument(
        "--index", metavar="DIR", help="derived indexes (env ASSISTANT_INDEX; default ./indexes)"
    )
    p.add_argument("--chroma-url", metavar="URL",
                   help="use a Chroma server, e.g. http://127.0.0.1:8000 (env ASSISTANT_CHROMA_URL)")  # fmt: skip
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    a = sub.add_parser("add", help="add articles (files, directories, URLs, - for stdin, .jsonl)")
    a.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a .txt, .md or .html file; a .jsonl file, one article per line (ids "
                        "kept); a directory of such files (subdirectories too); an http(s):// URL "
                        "of a page or an RSS/Atom feed; or - for standard input")  # fmt: skip
    for flag in ("title", "author", "outlet", "url"):
        a.add_argument(f"--{flag}", help=f"the {flag}, when the source does not state it")
    a.add_argument(
        "--published",
        metavar="YYYY-MM-DD",
        help="publication date, when the source does not state it",
    )
    a.add_argument(
        "--force",
        action="store_true",
        help="keep near-duplicates (exact duplicates are always refused)",
    )
    a.add_argument(
        "--max-bytes", type=int, help="refuse files larger than this (default 5,000,000)"
    )
    a.add_argument("--max-entries", type=int, metavar="N", help=MAX_ENTRIES_HELP)

    f = sub.add_parser("feeds", help="follow RSS/Atom feeds: add, list, remove, update")
    fsub = f.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    fa = fsub.add_parser("add", help="follow a feed and import its current entries now")
    fa.add_argument("url", metavar="URL")
    fa.add_argument("--max-entries", type=int, metavar="N", help=MAX_ENTRIES_HELP)
    fsub.add_parser("list", help="the followed feeds, with their last update")
    fr = fsub.add_parser("remove", help="stop following a feed (its articles stay)")
    fr.add_argument("url", metavar="URL")
    fu = fsub.add_parser("update", help="import the new entries of every followed feed")
    fu.add_argument("--max-entries", type=int, metavar="N", help=MAX_ENTRIES_HELP)

    ls = sub.add_parser("list", help="the articles in the corpus")
    ls.add_argument("--json", action="store_true", help="JSON, one object per article")

    sh = sub.add_parser("show", help="one article as stored, with its metadata")
    sh.add_argument("id", metavar="ID", help="an article id, as `assistant list` shows it")

    rm = sub.add_parser("remove", help="remove articles from the corpus and the index")
    rm.add_argument("ids", nargs="+", metavar="ID",
                    help="article ids, as `assistant list` shows them (its first column)")  # fmt: skip

    ix = sub.add_parser(
        "index",
        help="bring the index in line with the corpus (incremental; rebuilt when it was built "
        "with other settings, as after an upgrade)",
    )
    ix.add_argument(
        "--rebuild", action="store_true", help="rebuild every index from corpus/ from scratch"
    )

    q = sub.add_parser("ask", help="answer one question from the corpus, with citations")
    q.add_argument("question", nargs="+", metavar="QUESTION",
                   help="the question; quotes are optional (ask what has Russia offered)")  # fmt: skip
    q.add_argument(
        "--json", action="store_true", help="print the answer object (docs/interfaces.md)"
    )
    q.add_argument("-k", type=int, help="citations at most (default 5)")
    q.add_argument("--outlet", help="only articles from this outlet")
    q.add_argument("--author", help="only articles by this author (part of the name is enough)")
    q.add_argument(
        "--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD)"
    )
    q.add_argument("--until", metavar="DATE", help="only articles published on or before DATE")
    q.add_argument("--as-of", metavar="DATE",
                   help="ask as on DATE (YYYY-MM-DD): articles published after it are not used, "
                        "and 'this week' or 'the latest' mean as of then")  # fmt: skip
    q.add_argument("--history", metavar="FILE",
                   help="the conversation so far: an answer object (as ask --json prints it), or a "
                        "JSON list of them, oldest first")  # fmt: skip
    q.add_argument("--format", choices=("text", "json", "markdown"), default=None,
                   help="text (default), json (same as --json) or markdown (what the web's Copy gives)")  # fmt: skip
    q.add_argument("--generate", action="store_true",
                   help="a language model writes the answer (ASSISTANT_LLM_* or ASSISTANT_OLLAMA_*); "
                        "only statements the cited passages support are kept")  # fmt: skip
    q.add_argument("--show-flagged", action="store_true",
                   help="with --generate: also show the statements that failed verification, marked")  # fmt: skip
    q.add_argument("--by", choices=("article", "author", "outlet"),
                   help="a viewpoints answer: one entry per article, grouped by author or outlet "
                        "(questions about several sources get one without the flag)")  # fmt: skip
    q.add_argument("--timeline", action="store_true",
                   help="a timeline answer: one entry per article, oldest first")  # fmt: skip

    e = sub.add_parser("eval", help="run a question set; write results, summary and report")
    e.add_argument("questions", metavar="QUESTIONS", help=".jsonl, .csv or .yaml question set")
    e.add_argument("--out", metavar="DIR", help="output directory (default runs/<timestamp>/)")
    e.add_argument("--compare", metavar="RUN_DIR", help="compare with an earlier run's directory")
    e.add_argument(
        "--retriever",
        choices=("hybrid", "dense", "bm25"),
        help="ablation: which retriever (default hybrid)",
    )
    e.add_argument("-k", type=int, help="citations per answer (default 5)")
    e.add_argument("--generate", action="store_true",
                   help="generated answers (a configured language model); adds the verification rate")  # fmt: skip

    s = sub.add_parser("serve", help="the web app (same as python app.py)")
    s.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1, this machine only; "
                        "0.0.0.0 for all interfaces)")  # fmt: skip
    s.add_argument("--port", type=int, default=None, metavar="N",
                   help="port to listen on, 1-65535 (env ASSISTANT_PORT; default 7860)")  # fmt: skip
    s.add_argument("--auth", metavar="USER:PASSWORD", help="require a login (env ASSISTANT_AUTH)")
    s.add_argument("--no-mcp", action="store_true",
                   help="do not serve the MCP endpoint /mcp (served by default, behind the same logins)")  # fmt: skip
    s.add_argument("--inbox", metavar="DIR", help=INBOX_HELP)

    m = sub.add_parser(
        "mcp", help="serve the library to agents: a Model Context Protocol server on stdio"
    )
    m.add_argument("--allow-writes", action="store_true",
                   help="let clients add articles (add_article); off by default")  # fmt: skip

    w = sub.add_parser(
        "watch", help="keep the index in line with corpus/ (and an inbox) until stopped"
    )
    w.add_argument("--inbox", metavar="DIR", help=INBOX_HELP)
    w.add_argument("--poll", action="store_true",
                   help="look for changes every 2 s instead of file events (network file systems)")  # fmt: skip
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by global flags; InputError for a bad value,
    and for a corpus that does not exist unless the command creates one (``add``, ``feeds
    add``): a mistyped --corpus must not answer from, and build an index of, nothing."""
    s = Settings.from_env(corpus_dir=args.corpus, index_dir=args.index, chroma_url=args.chroma_url)
    for flag, path in (("--corpus", s.corpus_dir), ("--index", s.index_dir)):
        if path.exists() and not path.is_dir():
            raise InputError(f"{flag} {path} is a file, not a directory. Give a directory.")
    creates = args.command == "add" or getattr(args, "feeds_command", None) == "add"
    if not creates and not s.corpus_dir.exists():
        raise InputError(
            f"No library at {s.corpus_dir}/ (--corpus or ASSISTANT_CORPUS). Give the directory "
            "of an existing library, or start one with: assistant add FILE"
        )
    max_bytes = getattr(args, "max_bytes", None)
    if max_bytes is not None:
        if max_bytes < 1:
            raise InputError(f"--max-bytes must be a number of bytes above 0 (got {max_bytes}).")
        from dataclasses import replace

        s = replace(s, ingest=replace(s.ingest, max_bytes=max_bytes))
    if getattr(args, "inbox", None) or getattr(args, "poll", False):
        from dataclasses import replace

        inbox = Path(args.inbox) if getattr(args, "inbox", None) else s.watch.inbox
        mode = "poll" if getattr(args, "poll", False) else s.watch.mode
        s = replace(s, watch=replace(s.watch, inbox=inbox, mode=mode))
    if getattr(args, "max_entries", None) is not None:
        from dataclasses import replace

        if args.max_entries < 1:
            raise InputError("--max-entries must be 1 or more.")
        s = replace(s, ingest=replace(s.ingest, feed_max_entries=args.max_entries))
    return s


def _safe_streams() -> None:
    """Text that cannot be encoded (a lone surrogate from a file name) is escaped, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _json(obj: Any, **kw: Any) -> str:
    """JSON text that always parses and always prints (ASCII escapes when UTF-8 cannot hold it)."""
    text = json.dumps(obj, ensure_ascii=False, **kw)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, **kw)
    return text


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed arguments; an unknown option is reported by the command it was given to, with
    that command's usage ("assistant list: error: unrecognized arguments: --sort"), not by
    ``assistant`` with the list of commands."""
    args, extra = parser.parse_known_args(argv)
    given = list(sys.argv[1:] if argv is None else argv)
    named_at = given.index(args.command) if args.command in given else len(given)
    if extra and all(t in given[:named_at] for t in extra):  # before the command: assistant's own
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        command = parser
        for dest in ("command", "feeds_command"):
            sub = next((a for a in command._actions if isinstance(a, argparse._SubParsersAction)
                        and a.dest == dest), None)  # fmt: skip
            if sub is None or getattr(args, dest, None) not in sub.choices:
                break
            command = sub.choices[getattr(args, dest)]
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    if isinstance(getattr(args, "question", None), list):  # ask's words, quoted or not
        args.question = " ".join(args.question)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    _safe_streams()
    args = parse(build_parser(), argv)
    args.own_process = argv is None  # the `assistant` command itself: the process ends with us
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return COMMANDS[args.command](args, settings_from(args))
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: run `assistant index` to bring the index in line", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # a full or read-only disk is the user's to fix, not a bug
        from assistant.errors import disk_problem

        settings = settings_from(args)
        if problem := disk_problem(e, settings.library_dir, settings.index_dir):
            print(f"error: {problem}", file=sys.stderr)
            return 1
        raise


def _assistant(settings: Settings) -> Any:
    from assistant.api import Assistant

    return Assistant(settings, progress=_progress)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.api import Assistant
    from assistant.ingest.articles import summary_line
    from assistant.ingest.sources import read_sources

    reading = None if sys.stderr.isatty() else _reading_lines()

    def progress(total: int, desc: str) -> Any:
        if reading is not None:  # reading is over when indexing starts: one line at a time
            reading.close()
        return _progress(total, desc)

    a = Assistant(settings, progress=progress)
    flags = {k: getattr(args, k) for k in ("title", "author", "outlet", "published", "url")}
    results: list[Any] = []

    def report(r: Any) -> None:
        results.append(r)
        if reading is not None:
            reading.update(1)
        print(r.line(), flush=True)

    try:
        a.add(
            read_sources(args.sources, settings.ingest), flags, force=args.force, on_result=report
        )
    finally:  # the summary comes even when indexing failed after the articles were read
        if reading is not None:
            reading.close()
        if len(results) > 1:
            print(summary_line(results), file=sys.stderr)
    if not results:
        raise InputError("Nothing to add.")
    return 1 if any(r.status == "error" for r in results) else 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    a = _assistant(settings)
    a.ensure_index()
    rows = a.library.catalog.articles()
    fields = ("id", "title", "author", "outlet", "published", "n_passages")
    for problem in a.library.problems():  # on stderr: --json output stays one article a line
        print(f"problem: {problem}", file=sys.stderr)
    if args.json:
        for r in rows:
            print(_json({f: getattr(r, f) for f in fields}))
        return 0
    if not rows:
        print(
            f"The corpus in {settings.corpus_dir}/ is empty. Add articles with: assistant add FILE"
        )
        return 0
    for line in list_lines(rows):
        print(line)
    print(count(len(rows), "article"), file=sys.stderr)
    return 0


LIST_ID_WIDTH = 60  # ids from titles are at most 49 characters; longer ones (file names) are cut


def list_lines(rows: Sequence[Any]) -> list[str]:
    """``assistant list``'s lines, in columns: the id column as wide as the longest id (up to
    LIST_ID_WIDTH, beyond which an id is cut with "…"), then the title, then the byline."""
    width = min(max(len(r.id) for r in rows), LIST_ID_WIDTH)
    lines = []
    for r in rows:
        meta = ", ".join(x for x in (r.author, r.outlet, r.published) if x) or "—"
        lines.append(f"{_cut(r.id, width):<{width}}  {_cut(r.title or '(untitled)', 60):<60}  "
                     f"{meta}  ({count(r.n_passages, 'passage')})")  # fmt: skip
    return lines


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.ingest.corpus import Corpus

    print(Corpus(settings.corpus_dir).read_text(args.id), end="")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    _assistant(settings).remove(args.ids)
    for aid in args.ids:
        print(f"{aid} removed")
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    a = _assistant(settings)
    changed = [] if args.rebuild else a.library.changed_settings()
    if changed:  # after an upgrade: `make run` and a user bringing the index in line both mean it
        print(f"The index was built with other settings ({'; '.join(changed)}): rebuilding it "
              f"beside the old one.", file=sys.stderr)  # fmt: skip
    report = a.library.sync(rebuild=args.rebuild or bool(changed))
    a.library.settle()  # the newest vectors a small add left outside Chroma's written graph
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    n = len(a.library.catalog.articles())
    print(f"index in line with {count(n, 'article')}: {report.indexed} (re)indexed "
          f"({count(report.passages, 'passage')}), {report.removed} removed")  # fmt: skip
    return 1 if report.problems else 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.api import check_question
    from assistant.types import Filters

    # bad input is told before any work (on a fresh clone, building the index)
    if args.json and args.format not in (None, "json"):
        raise InputError(f"--json and --format {args.format} ask for two outputs: give one.")
    check_question(args.question, settings.answer.max_question_chars)
    filters = Filters.parse(args.outlet, args.author, args.since, args.until, args.as_of)
    history = _read_history(args.history) if args.history else []
    a = _assistant(settings)
    a.library.stores.prefetch()  # the model loads while the index is checked and opened
    a.ensure_index()
    if args.generate:
        a.chat_model()  # a clear error before any work when no model is configured
    answer = a.ask(args.question, history=history, filters=filters, k=args.k,
                   generate=args.generate, show_flagged=args.show_flagged,
                   mode="timeline" if args.timeline else None, by=args.by)  # fmt: skip
    if filters.active() and a.library.stores.allowed_articles(filters) == []:
        print(f"note: no article matches {_named(filters)}: nothing to answer from. "
              "See the outlets, authors and dates with: assistant list", file=sys.stderr)  # fmt: skip
    form = "json" if args.json else args.format or "text"
    if form == "json":
        print(_json(answer.to_dict(), indent=2))
    elif form == "markdown":
        from assistant.markdown import answer_markdown

        print(answer_markdown(answer.to_dict()), end="")
    else:
        print(format_answer(answer.to_dict()))
    if args.own_process and not a.library.wrote:
        _exit_now(0)
    return 0


def _exit_now(code: int) -> NoReturn:
    """End the process here, once the output is flushed, without tearing anything down.

    At exit Chroma frees the HNSW graph it read whole and Python every object it holds: ~0.4 s
    after the answer is printed at 100k articles, paid by every `assistant ask` and by scripts
    waiting on it. A process that wrote nothing has nothing to save, so nothing is lost.
    """
    with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _named(filters: Any) -> str:
    given = {"--outlet": filters.outlet, "--author": filters.author, "--since": filters.since,
             "--until": filters.until, "--as-of": filters.as_of}  # fmt: skip
    return " ".join(f"{k} {v!r}" for k, v in given.items() if v)


def _read_history(path: str) -> list[dict[str, Any]]:
    """Earlier answer objects from ``path``: one (what ``ask --json`` prints) or a list."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"--history {path}: cannot read JSON ({e}).") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(t, dict) and "question" in t for t in data):
        raise InputError(f'--history {path}: expected an answer object (ask --json) or a JSON '
                         'list of them, each with a "question".')  # fmt: skip
    return data


def format_answer(ans: dict[str, Any]) -> str:
    """The answer for people: how a follow-up was read (if it was rewritten), the text, then
    the sources it cites by their [n], then the further passages it does not cite (a refusal's:
    the nearest passages)."""
    width = min(100, max(60, os.get_terminal_size(0).columns if sys.stdout.isatty() else 100))
    out = []
    if understood := ans.get("resolved_question"):  # a follow-up, as it was read
        out += [textwrap.fill(f"Understood as: {understood}", width), ""]
    if "viewpoints" in ans and not ans["refused"]:
        from assistant.web.viewpoints_view import format_text

        out.append(format_text(ans, width))
    else:
        out.append(textwrap.fill(ans["answer"], width))
    if ans.get("generated"):
        out += _generated_notes(ans, width)
    if note := conflict_note(ans):
        out += ["", textwrap.fill(f"Note: {note}", width)]
    for head, cites in _citation_groups(ans):
        out += ["", head]
        for c in cites:
            meta = ", ".join(
                x for x in (c["author"], c["outlet"], c["published"] or "date unknown") if x
            )
            out.append(
                f"[{c['n']}] {c['title'] or c['article_id']} — {meta}, paragraph {c['paragraph']}"
            )
            out.append(
                textwrap.fill(
                    quoted(c["quote"]), width, initial_indent="    ", subsequent_indent="    "
                )
            )
    return "\n".join(out)


def _citation_groups(ans: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The citations under their headings: those the text cites by [n] are its sources, the
    rest (nearest passages, often from unrelated articles) only further reading. A text with no
    marker cannot tell them apart: all are listed as sources."""
    cites = ans["citations"]
    if ans["refused"]:
        return [("Nearest passages (none supports an answer):", cites)] if cites else []
    used = cited_numbers(ans) or {c["n"] for c in cites}
    groups = [("Sources:", [c for c in cites if c["n"] in used]),
              ("Further reading (not cited in the answer):", [c for c in cites if c["n"] not in used])]  # fmt: skip
    return [(head, group) for head, group in groups if group]


def _generated_notes(ans: dict[str, Any], width: int) -> list[str]:
    """What the verifier did to a generated answer, for people."""
    found = generated_notes(ans)
    notes = []
    if found.fallback == "extractive":
        notes.append("(The generated answer could not be verified against the passages; "
                     "this is the quoted answer instead.)")  # fmt: skip
    elif found.fallback == "refusal":
        notes.append("(No passage supports an answer, so no language model was asked.)")
    if n := len(found.removed):
        notes.append(f"({n} generated statement{'s' if n != 1 else ''} "
                     "removed: not supported by the passages they cite. --show-flagged shows them.)")  # fmt: skip
    return [""] + [textwrap.fill(n, width) for n in notes] if notes else []


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime

    from assistant.evaluation.metrics import (
        check_comparable,
        compare,
        failed_questions,
        run_eval,
        summary_table,
    )
    from assistant.evaluation.questions import load_questions

    questions = load_questions(Path(args.questions))
    out = Path(args.out) if args.out else Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file: name a folder (new or an earlier run).")
    if args.compare:  # a run that cannot be compared with is told before any work
        check_comparable(Path(args.compare), {q.id for q in questions}, args.questions)
    settings = settings.with_answer(retriever=args.retriever, k=args.k)
    a = _assistant(settings)
    if args.generate:
        a.chat_model()
    a.ensure_index()

    def ask(q: Any) -> dict[str, Any]:
        return a.ask(q.question, generate=args.generate, mode=q.mode, as_of=q.as_of).to_dict()

    described = settings.describe()
    if args.generate:
        described["generate"] = True
    bad_gold = _warn_of_gold_not_in_library(a, questions)
    try:
        summary = run_eval(ask, questions, out, described, progress=_progress,
                           gold_not_in_library=bad_gold)  # fmt: skip
    except KeyboardInterrupt:
        kept = f"the earlier run in {out}/ is as it was" if out.exists() else "nothing written"
        print(f"\ninterrupted: {kept}.", file=sys.stderr)
        return 130
    print(summary_table(summary))
    print(f"wrote {out}/results.jsonl, summary.json, report.html")
    if args.compare:
        print()
        print(compare(Path(args.compare), out))
    for qid, message in failed_questions(out):
        print(f"error: question {qid}: {message}", file=sys.stderr)
    return 1 if summary.get("errors") else 0


def _warn_of_gold_not_in_library(a: Any, questions: list[Any]) -> int:
    """A warning on stderr for each question whose gold evidence the library does not hold
    (it can only be missed: bad gold, not a bad answer); how many there are."""
    from assistant.evaluation.metrics import gold_problems

    def text(article_id: str) -> str | None:
        try:
            article = a.library.corpus.read(article_id)
        except AssistantError:
            return None
        return f"{article.title or ''}\n{article.body}"

    problems = gold_problems(
        questions, lambda aid: a.library.catalog.article(aid) is not None, text
    )
    for qid, said in problems.items():
        print(f"warning: {qid}: {'; '.join(said)}; check the question set", file=sys.stderr)
    return len(problems)


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.ingest import feeds

    corpus = settings.corpus_dir
    if args.feeds_command == "list":
        subs = feeds.load(corpus)
        if not subs:
            print(f"No feeds followed in {corpus}/. Follow one with: assistant feeds add URL")
        for sub in subs:
            print(f"{sub.url}  {sub.title or '(untitled)'}  "
                  f"last update {sub.last_update or 'never'}: {sub.last_result or '-'}")  # fmt: skip
        return 0
    if args.feeds_command == "remove":
        feeds.unfollow(corpus, args.url)
        print(f"{args.url.strip()} no longer followed (its articles stay)")
        return 0
    a = _assistant(settings)
    on_result = lambda r: print(r.line(), flush=True)  # noqa: E731
    limit = settings.ingest.feed_max_entries
    if args.feeds_command == "add":
        report = feeds.follow(settings, a.add, args.url, limit, on_result)
        print(f"following {report.url}: {report.summary()}", file=sys.stderr)
        return 1 if report.failed else 0

    def on_feed(report: Any) -> None:
        if report.error is not None:
            print(f"{report.url} error: {report.error}", flush=True)
        else:
            print(f"{report.url}: {report.summary()}", file=sys.stderr, flush=True)

    try:
        reports = feeds.update(settings, a.add, limit, on_result, on_feed)
    except feeds.FeedsBusy as e:
        print(f"note: {e}", file=sys.stderr)  # the running update does the work: not a failure
        return 0
    if not reports:
        print(f"No feeds followed in {corpus}/. Follow one with: assistant feeds add URL",
              file=sys.stderr)  # fmt: skip
    return 1 if any(r.failed for r in reports) else 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.web.launch import serve

    serve(settings, host=args.host, port=args.port, auth=args.auth, mcp=not args.no_mcp)
    return 0


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.mcp_server import run_stdio

    # stdout carries the protocol: the index is brought in line with no progress bar on it
    a = _assistant(settings)
    a.ensure_index()
    try:
        run_stdio(a, allow_writes=args.allow_writes)
    finally:
        a.close()
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading
    import time

    from assistant.index.watch import Watcher, check_mode

    if check_mode(settings) == "off":
        raise InputError("ASSISTANT_WATCH=off: unset it (or set auto or poll) to watch.")
    a = _assistant(settings)
    a.library.check_manifest()  # an index to rebuild is told now, not retried every few seconds
    a.library.vectors.count()  # and an unreachable Chroma server
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: at once (a sync cut short is repaired by the next)
            print("stopped at once: the next `assistant index` or watch completes the index",
                  file=sys.stderr, flush=True)  # fmt: skip
            os._exit(130)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def report(line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    w = settings.watch
    watcher = Watcher(a.library, w.inbox, w.mode, w.delay, report).start()
    inbox = f" and {w.inbox}/" if w.inbox else ""
    report(f"watching {settings.corpus_dir}/{inbox} ({watcher.how}); Ctrl-C to stop")
    while not stop.wait(1.0):
        pass
    report("stopping after the current step …")
    watcher.stop()
    a.close()
    report("stopped")
    return 0


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


COMMANDS = {
    "add": cmd_add, "list": cmd_list, "show": cmd_show, "remove": cmd_remove,
    "index": cmd_index, "ask": cmd_ask, "eval": cmd_eval, "serve": cmd_serve, "feeds": cmd_feeds,
    "mcp": cmd_mcp,
    "watch": cmd_watch,
}  # fmt: skip

if __name__ == "__main__":
    sys.exit(main())
