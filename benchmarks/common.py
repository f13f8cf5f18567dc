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

from assistant.evaluation.metrics import question_metrics, summarise
from assistant.evaluation.questions import Question, load_questions

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
    library: str = ""  # sets with the same library name share one built library
    jsonl: Path | None = None  # the records' file, added as `assistant add --force FILE` would

    def __post_init__(self) -> None:
        self.library = self.library or self.name


# Sets that share one library: the 1,200 real news articles of realtimeqa_2022_dev with the seed
# commentary among them. Questions: the news quiz (+ our unanswerables), our questions about the
# opinion pieces' arguments, and the seed's questions asked among the news.
NEWS_SETS = {
    "news": ("realtimeqa_2022_dev/questions.jsonl", "news_unanswerable.jsonl"),
    "commentary": ("news_commentary.jsonl",),
    "seed-news": ("seed-dev", "seed_more.jsonl"),
    "evidence": ("news_evidence.jsonl",),  # "what evidence does the piece give": held out
    "advice": ("news_advice.jsonl",),  # "what does the piece recommend": held out
    "viewpoints": ("news_viewpoints.jsonl",),  # asked in their "mode" (viewpoints or timeline)
    # written outside the team, split by piece: tune on the first, only confirm on the second
    "commentary-tune": ("commentary_dev/questions_tune.jsonl",),
    "commentary-check": ("commentary_dev/questions_check.jsonl",),
}


def load_set(name: str, distractors: int = 500, limit: int | None = None) -> EvalSet:
    """``seed`` (seed-dev + the seed among distractors), ``hotpotqa``, ``rgb``, or one of the
    news sets (``news``, ``commentary``, ``seed-news``: one library of real news + the seed)."""
    if not DATA.exists():
        raise SystemExit(f"The public sets are not here: {DATA} (they live in ../shared/data).")
    if name in NEWS_SETS:
        qs = []
        for part in NEWS_SETS[name]:
            if part == "seed-dev":
                path = SHARED / "questions" / "seed-dev.jsonl"
            elif "/" in part:
                path = DATA / part
            else:
                path = QUESTIONS / part
            if path.exists():
                qs += load_questions(path)
        folder = DATA / "realtimeqa_2022_dev"
        return EvalSet(
            name, _records(folder.name), qs[:limit], [SEED_RAW], "news", folder / "corpus.jsonl"
        )
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
    summary = summarise(results, description)
    # what the paired comparisons of quality.py resample: per question, its piece (first gold
    # article: questions on one piece rise and fall together) and its reciprocal rank
    summary["per_question"] = [
        {"id": q.id, "piece": next((g.article for g in q.evidence if g.article), q.id),
         "answerable": q.answerable, "scored": r["metrics"]["rr"] is not None,
         "rr": r["metrics"]["rr"] or 0.0, "refused": r["metrics"]["refused"]}
        for q, r in zip(questions, results, strict=True)
    ]  # fmt: skip
    return summary


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
    "source_recall",
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


# --- synthetic libraries for the performance benchmark (appended; used by performance.py) ---


def build_synthetic(
    settings: Any,
    n_articles: int,
    paragraphs: list[tuple[str, str]],
    vectors: Any,
    per_article: int = 5,
    seed: int = 0,
    noise: float = 0.15,
) -> dict[str, float]:
    """Fill an empty library with ``n_articles`` synthetic articles, fast, through the library's
    own stores, so that it is consistent (``needs_sync()`` is False) and every query path is real.

    Each article is ``per_article`` real passages (``paragraphs``: (title, text) pairs, with their
    embeddings ``vectors``) drawn at random, each with a tenth of its words dropped; a passage's
    vector is its source's vector plus Gaussian noise (``noise`` per unit norm), renormalised, so
    no model runs. Corpus files are written without fsync and MinHash signatures are random bytes
    (near-duplicate checks then find nothing, as for distinct articles). Returns seconds per step.
    """
    import numpy as np

    from assistant.index.chunking import chunk_article
    from assistant.index.sync import Library
    from assistant.ingest.corpus import content_hash, render
    from assistant.text import sentence_spans
    from assistant.types import Article

    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    lib = Library(settings)
    lib.settings.corpus_dir.mkdir(parents=True, exist_ok=True)
    times = {"files+catalog": 0.0, "vectors": 0.0, "bm25": 0.0}
    dim = vectors.shape[1]
    with lib.write_lock():
        lib.check_manifest()
        for lo in range(0, n_articles, 2000):
            t0 = time.perf_counter()
            indexed = []
            ids: list[str] = []
            rows: list[Any] = []
            metas: list[dict[str, Any]] = []
            for i in range(lo, min(lo + 2000, n_articles)):
                sources = [pick.randrange(len(paragraphs)) for _ in range(per_article)]
                body = "\n\n".join(_drop_words(paragraphs[s][1], pick) for s in sources)
                aid = f"syn-{i:06d}"
                article = Article(
                    id=aid, body=body, title=f"{paragraphs[sources[0]][0]} ({i})",
                    author=f"Author {i % 997}", outlet=f"Outlet {i % 23}",
                    published=f"20{10 + i % 16}-{1 + i % 12:02d}-{1 + i % 28:02d}", url=None,
                    added="2026-11-25T00:00:00+00:00", content_hash=content_hash(body),
                    source="synthetic",
                )  # fmt: skip
                path = lib.corpus.path_for(aid)
                path.write_text(render(article), encoding="utf-8")
                lib._catalog_row(aid, path, article, rng.bytes(8 * 64))
                chunks = chunk_article(article, settings.chunks)
                row = lib.catalog.article(aid)
                assert row is not None
                indexed.append((aid, row.file_sha, chunks))
                for c in chunks:
                    ids.append(c.id)
                    rows.append(sources[min(c.paragraph - 1, per_article - 1)])  # 1-based
                    metas.append({"article_id": aid, "paragraph": c.paragraph})
            times["files+catalog"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            vecs = vectors[rows] + rng.standard_normal((len(rows), dim)).astype(np.float32) * (
                noise / np.sqrt(dim)
            )
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            lib.vectors.upsert(ids, vecs.astype(np.float32), metas)
            # sentence vectors as indexing stores them: one per sentence, near the passage's;
            # an article's vector (title + lede): its first passage's
            position = {cid: k for k, cid in enumerate(ids)}
            article_vectors = {aid: vecs[position[chunks[0].id]] for aid, _, chunks in indexed}
            sentence_vectors = {}
            for _, _, chunks in indexed:
                for c in chunks:
                    n = len(sentence_spans(c.text))
                    sv = vecs[position[c.id]] + rng.standard_normal((n, dim)).astype(np.float32) * (
                        noise / np.sqrt(dim)
                    )
                    sentence_vectors[c.id] = sv / np.linalg.norm(sv, axis=1, keepdims=True)
            times["vectors"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            lib.catalog.record_indexed(indexed, sentence_vectors, article_vectors)
            times["files+catalog"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        lib._build_lexical(lib.catalog.generation())  # passages and whole articles
        times["bm25"] = time.perf_counter() - t0
        lib._write_manifest()
    lib.close()
    return times


def _drop_words(text: str, pick: random.Random, share: float = 0.1) -> str:
    words = text.split()
    kept = [w for w in words if pick.random() >= share]
    return " ".join(kept or words)
