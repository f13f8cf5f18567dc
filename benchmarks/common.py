"""Shared by the benchmarks: the public evaluation sets, the baselines, the metric table.

The public sets live in ../shared/data (never copied into this repo). Each benchmark builds its
libraries under a work directory (default /tmp/assistant-bench) and reuses them between runs
when nothing that shapes them changed, so re-running to compare settings is quick.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation import question_metrics, summarise
from assistant.questions import Question, load_questions

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
QUESTIONS = Path(__file__).parent / "questions"
SEED_RAW = ROOT / "tests" / "data" / "000_7112adcedfa7c1bb.txt"


@dataclass
class EvalSet:
    """A corpus (JSONL records) and its questions."""

    name: str
    records: list[dict[str, Any]]
    questions: list[Question]
    raw_files: list[Path]  # articles added from raw files (the seed)


def load_set(name: str, distractors: int = 500, limit: int | None = None) -> EvalSet:
    """``seed`` (seed-dev + the seed among distractors), ``hotpotqa`` or ``rgb``."""
    if not DATA.exists():
        raise SystemExit(f"The public sets are not here: {DATA} (they live in ../shared/data).")
    if name == "seed":
        pool = _records("hotpotqa_hipporag_train100") + _records("rgb_en_fact")
        random.Random(0).shuffle(pool)
        qs = load_questions(SHARED / "questions" / "seed-dev.jsonl")
        return EvalSet("seed", pool[:distractors], qs, [SEED_RAW])
    folder = {"hotpotqa": "hotpotqa_hipporag_train100", "rgb": "rgb_en_fact"}[name]
    qs = load_questions(DATA / folder / "questions.jsonl")[:limit]
    extra = QUESTIONS / f"{name}_unanswerable.jsonl"
    if extra.exists():
        qs += load_questions(extra)
    return EvalSet(name, _records(folder), qs, [])


def _records(folder: str) -> list[dict[str, Any]]:
    with (DATA / folder / "corpus.jsonl").open() as f:
        return [json.loads(line) for line in f]


def score(
    questions: list[Question],
    ask: Callable[[Question], dict[str, Any]],
    description: dict[str, Any],
) -> dict[str, Any]:
    """The contract summary for one system on one set (answers timed per question)."""
    results = []
    for q in questions:
        started = time.perf_counter()
        answer = ask(q)
        answer.setdefault("latency_ms", (time.perf_counter() - started) * 1000)
        results.append(
            {
                **answer,
                "id": q.id,
                "answerable": q.answerable,
                "metrics": question_metrics(q, answer),
            }
        )
    return summarise(results, description)


def passages_answer(question: str, hits: list[tuple[str, str, float]]) -> dict[str, Any]:
    """An answer object for a retrieval-only baseline: every hit a citation, never a refusal."""
    citations = [
        {"n": i + 1, "article_id": aid, "quote": text[:200], "passage": text, "score": s,
         "title": None, "author": None, "outlet": None, "published": None, "url": None, "paragraph": 0}
        for i, (aid, text, s) in enumerate(hits)
    ]  # fmt: skip
    return {"question": question, "answer": "", "refused": False, "citations": citations}


COLUMNS = (
    "hit@1",
    "hit@5",
    "mrr",
    "recall@5",
    "refusal_accuracy",
    "false_refusals",
    "latency_ms_p50",
)


def table(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """A Markdown table: set, system, then the metrics."""
    head = "| set | system | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for set_name, system, s in rows:
        cells = []
        for c in COLUMNS:
            v = s.get(c)
            cells.append(
                "—" if v is None else (f"{v:.0f}" if c.startswith("latency") else f"{v:.3f}")
            )
        lines.append(f"| {set_name} | {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]
