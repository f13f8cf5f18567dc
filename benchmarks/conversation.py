"""Follow-up resolution: standalone questions asked mid-conversation stay as typed, and real
follow-ups borrow their context.

    .venv/bin/python benchmarks/conversation.py
    .venv/bin/python benchmarks/conversation.py --standalone ../shared/data/realtimeqa_2022_dev/questions.jsonl

The set is ``benchmarks/questions/conversation.jsonl``: ``history`` rows (earlier turns, each a
question and the author its answer cited first), ``standalone`` questions — each asked after
every history, and the question as understood must be the question as typed — and
``follow_up`` questions with their own history, whose question as understood must contain every
``context`` string (the earlier question, or the writer "he" stands for) and none of ``not``
(the byline of an answer about someone else). ``--standalone FILE`` adds the questions of any
question set (JSONL with a ``question``) as standalone ones. Only the resolver runs: no library,
no model, a second or so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer.conversation import resolve
from assistant.types import Turn

SET = Path(__file__).parent / "questions" / "conversation.jsonl"


def turns(rows: list[dict[str, Any]]) -> list[Turn]:
    return [Turn(r["question"], author=r.get("author"), articles=("a",)) for r in rows]


def understood(question: str, history: list[Turn]) -> str:
    """The question as the pipeline understands it, as ``Assistant.ask`` calls the resolver."""
    last = history[-1] if history else None
    return resolve(
        question, history, last.author if last else None, last.articles if last else ()
    ).query


def run(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and the failures of the set's standalone and follow-up questions."""
    histories = [turns(i["turns"]) for i in items if i["kind"] == "history"]
    changed, standalone = [], 0
    for item in (i for i in items if i["kind"] == "standalone"):
        for history in histories:
            standalone += 1
            got = understood(item["question"], history)
            if got != item["question"]:
                changed.append((item["id"], history[-1].question, got))
    follow_ups = [i for i in items if i["kind"] == "follow_up"]
    wrong = []
    for item in follow_ups:
        got = understood(item["question"], turns(item["history"]))
        if not all(c in got for c in item["context"]) or any(n in got for n in item.get("not", ())):
            wrong.append((item["id"], item["question"], got))
    return {"standalone": standalone, "changed": changed, "follow_ups": len(follow_ups),
            "wrong": wrong, "histories": len(histories)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--set", type=Path, default=SET, help="the conversation set (JSONL)")
    p.add_argument("--standalone", type=Path, action="append", default=[],
                   help="a question set whose questions are asked as standalone ones too")  # fmt: skip
    args = p.parse_args(argv)
    items = [json.loads(line) for line in args.set.read_text().splitlines() if line.strip()]
    for path in args.standalone:
        for n, line in enumerate(path.read_text().splitlines()):
            if line.strip():
                q = json.loads(line)["question"]
                items.append({"id": f"{path.stem}:{n + 1}", "kind": "standalone", "question": q})
    r = run(items)
    n_alone = r["standalone"] // max(r["histories"], 1)
    print(f"| set | questions | after histories | result |\n|---|---|---|---|\n"
          f"| standalone: changed | {n_alone} | {r['histories']} ({r['standalone']} asked) | "
          f"{len(r['changed'])} |\n"
          f"| follow-ups: resolved as written | {r['follow_ups']} | own | "
          f"{r['follow_ups'] - len(r['wrong'])} of {r['follow_ups']} |")  # fmt: skip
    for qid, after, got in r["changed"]:
        print(f"changed {qid} after {after!r}: {got!r}")
    for qid, question, got in r["wrong"]:
        print(f"not resolved as written {qid} {question!r}: {got!r}")
    return 1 if r["changed"] or r["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
