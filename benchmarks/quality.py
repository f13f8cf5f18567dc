"""Retrieval and answer quality, side by side in one run: this pipeline, the LangChain tutorial
recipe and BM25 alone, on seed-dev (the seed among 500 distractors) and the public sets.

    .venv/bin/python benchmarks/quality.py                  # all sets, all systems
    .venv/bin/python benchmarks/quality.py --sets seed --systems ours

The LangChain recipe: RecursiveCharacterTextSplitter(1000, 200) + Chroma + HuggingFaceEmbeddings
(the same MiniLM), top-k similarity. BM25 alone: bm25s over those same chunks. Neither refuses.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.api import Assistant
from assistant.evaluation.metrics import bootstrap_interval
from assistant.ingest.sources import RawDoc, read_jsonl
from assistant.settings import Settings
from benchmarks.common import EvalSet, load_set, passages_answer, score, table

K = 5
MIN_PIECES = 5  # fewer pieces than this give no interval worth printing


def build_ours(es: EvalSet, work: Path, settings_kw: dict[str, Any]) -> Assistant:
    """Our library for the set, built once per settings fingerprint and reused.

    Articles go in as ``assistant add`` takes them: the seed as a raw text file, the records as
    JSONL (``--force``, so syndicated near-copies keep their gold ids).
    """
    base = Settings.from_env(corpus_dir=work / "corpus", index_dir=work / "indexes", **settings_kw)
    a = Assistant(base)
    if not (work / "corpus").exists():
        docs: list[Any] = [RawDoc(str(p), p.read_text(), "text", id=p.stem) for p in es.raw_files]
        if es.jsonl is not None:
            docs += list(read_jsonl(es.jsonl, base.ingest))
        else:
            docs += [
                RawDoc(f"{es.name}:{r['id']}", r["text"], "record", {"title": r["title"]} if r.get("title") else {},
                       id=r["id"], id_given=True)
                for r in es.records
            ]  # fmt: skip
        started = time.perf_counter()
        results = a.add(docs, force=es.jsonl is not None)
        bad = [r for r in results if r.status != "added"]
        print(f"  built {es.library}: {len(results) - len(bad)} articles in {time.perf_counter() - started:.0f} s"
              f" ({len(bad)} not added)", file=sys.stderr)  # fmt: skip
    a.ensure_index()
    return a


def run_ours(
    es: EvalSet, work: Path, answer_kw: dict[str, Any], sweep: list[tuple[bool, float]]
) -> dict[str, Any]:
    """Our summary; ``sweep`` receives (answerable, support) per question for the trade-off table."""
    # the answer settings go in before the library opens: its stores keep the settings they were
    # built with, and retrieval reads its fusion weights there
    a = build_ours(es, work, {"answer": Settings().with_answer(**answer_kw).answer})
    a.ask("warm up")

    def ask(q: Any) -> dict[str, Any]:
        d = a.ask(q.question, k=K, mode=q.mode, as_of=q.as_of).to_dict()
        sweep.append((q.answerable, d["support"]))
        if "viewpoints" in d:  # an entry lacks support when its best quote is under the threshold
            entries.extend(d["citations"][v["citations"][0] - 1]["score"] for v in d["viewpoints"])
        return d

    entries: list[float] = []
    s = score(es.questions, ask, a.settings.describe())
    if entries:
        s["entries"] = len(entries)
        s["entries_without_support"] = sum(x < a.settings.answer.refuse_below for x in entries)
        print(f"  {len(entries)} viewpoint entries, {s['entries_without_support']} without support",
              file=sys.stderr)  # fmt: skip
    return s


def tradeoff(name: str, sweep: list[tuple[bool, float]], current: float) -> str:
    """False refusals vs unsupported answers for each refusal threshold (support < t refuses)."""
    pos = [s for ok, s in sweep if ok]
    neg = [s for ok, s in sweep if not ok]
    lines = [
        f"refusal threshold on {name} ({len(pos)} answerable, {len(neg)} unanswerable):",
        "| refuse below | false refusals | unanswerable answered | |",
        "|---|---|---|---|",
    ]
    for t in (0.30, 0.35, 0.40, 0.45, 0.50, 0.55):
        fr = sum(s < t for s in pos) / max(1, len(pos))
        ua = sum(s >= t for s in neg) / max(1, len(neg))
        mark = "← current" if abs(t - current) < 1e-9 else ""
        lines.append(f"| {t:.2f} | {fr:.3f} | {ua:.3f} | {mark} |")
    return "\n".join(lines)


def split_gap(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """Each system's MRR and hit@5 on the commentary tune and check splits, and the gap (check
    minus tune): a change chosen on tune that does not carry to check shows here. "" when the
    run lacks either split."""
    by = {(name.split(" (")[0], system): s for name, system, s in rows}
    systems = [sy for (n, sy) in by if n == "commentary-tune" and ("commentary-check", sy) in by]
    if not systems:
        return ""
    lines = ["tune / check split (commentary_dev): MRR and hit@5, gap = check - tune",
             "| system | tune MRR | check MRR | gap | tune hit@5 | check hit@5 | gap |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for sy in systems:
        t, c = by[("commentary-tune", sy)], by[("commentary-check", sy)]
        cells = [f"{t['mrr']:.3f}", f"{c['mrr']:.3f}", f"{c['mrr'] - t['mrr']:+.3f}",
                 f"{t['hit@5']:.3f}", f"{c['hit@5']:.3f}", f"{c['hit@5'] - t['hit@5']:+.3f}"]  # fmt: skip
        lines.append(f"| {sy} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def versus(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """Ours against each baseline, set by set: the MRR difference over the questions both scored,
    with its 95% interval (pieces resampled). An interval holding 0: no difference shown."""
    by = {(name, system): s for name, system, s in rows}
    lines = ["ours minus each baseline, MRR, 95% interval (pieces resampled, 2,000 draws):",
             "| set | baseline | ours - baseline | interval |", "|---|---|---|---|"]  # fmt: skip
    for (name, system), s in by.items():
        ours = by.get((name, "ours"))
        if system == "ours" or ours is None or "per_question" not in s:
            continue
        theirs = {r["id"]: r for r in s["per_question"] if r["scored"]}
        diffs: dict[str, list[float]] = {}
        for r in ours["per_question"]:
            if r["scored"] and r["id"] in theirs:
                diffs.setdefault(r["piece"], []).append(r["rr"] - theirs[r["id"]]["rr"])
        if diffs:
            mean = sum(map(sum, diffs.values())) / sum(map(len, diffs.values()))
            if len(diffs) < MIN_PIECES:  # seed-news asks of one piece: no spread to resample
                shown = f"— ({len(diffs)} {'piece' if len(diffs) == 1 else 'pieces'}: too few)"
            else:
                low, high = bootstrap_interval(list(diffs.values()))
                shown = f"{low:+.3f} to {high:+.3f}"
            lines.append(f"| {name} | {system} | {mean:+.3f} | {shown} |")
    return "\n".join(lines) if len(lines) > 3 else ""


def _langchain_chunks(es: EvalSet) -> list[Any]:
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = [
        Document(page_content=p.read_text(), metadata={"article_id": p.stem}) for p in es.raw_files
    ]
    docs += [Document(page_content=r["text"], metadata={"article_id": r["id"]}) for r in es.records]
    return RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)


Search = Callable[[str, int], list[tuple[str, str, float]]]  # (article id, text, score)


def langchain_search(es: EvalSet, work: Path) -> Search:
    """The LangChain tutorial recipe over the set's articles (built once under ``work``)."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from assistant.index.embedding import model_dir

    emb = HuggingFaceEmbeddings(model_name=str(model_dir()), model_kwargs={"device": "cpu"})
    client = chromadb.PersistentClient(
        str(work / "langchain"), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    store = Chroma(collection_name="tutorial", embedding_function=emb, client=client)
    if store._collection.count() == 0:
        chunks = _langchain_chunks(es)
        for i in range(0, len(chunks), 2000):
            store.add_documents(chunks[i : i + 2000])
    store.similarity_search("warm up", k=1)

    def search(question: str, k: int) -> list[tuple[str, str, float]]:
        hits = store.similarity_search_with_score(question, k=k)
        return [(d.metadata["article_id"], d.page_content, 1 - s) for d, s in hits]

    return search


def bm25_search(es: EvalSet) -> Search:
    """bm25s over the recipe's 1,000-character chunks."""
    from assistant.index.lexical import LexicalIndex

    chunks = _langchain_chunks(es)
    tmp = Path("/tmp/assistant-bench-bm25")
    shutil.rmtree(tmp, ignore_errors=True)
    index = LexicalIndex(tmp)
    ids = [str(i) for i in range(len(chunks))]
    index.build(
        ids, [c.metadata["article_id"] for c in chunks], [c.page_content for c in chunks], 0
    )

    def search(question: str, k: int) -> list[tuple[str, str, float]]:
        return [
            (chunks[int(i)].metadata["article_id"], chunks[int(i)].page_content, s)
            for i, s in index.search(question, k)
        ]

    return search


def rrf_search(a: Search, b: Search, k_rrf: int = 60, depth: int = 40) -> Search:
    """Reciprocal-rank fusion of two searches over the same chunks (keyed by chunk text)."""

    def search(question: str, k: int) -> list[tuple[str, str, float]]:
        fused: dict[str, float] = {}
        hit_of: dict[str, tuple[str, str]] = {}
        for hits in (a(question, depth), b(question, depth)):
            for rank, (aid, text, _) in enumerate(hits):
                fused[text] = fused.get(text, 0.0) + 1 / (k_rrf + rank + 1)
                hit_of[text] = (aid, text)
        top = sorted(fused, key=lambda t: -fused[t])[:k]
        return [(*hit_of[t], fused[t]) for t in top]

    return search


def run_search(es: EvalSet, search: Search, system: str) -> dict[str, Any]:
    """A retrieval-only baseline: the top ``K`` chunks as citations, never a refusal."""
    search("warm up", K)
    return score(
        es.questions,
        lambda q: passages_answer(q.question, search(q.question, K)),
        {"system": system},
    )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--sets",
        default="news,commentary-tune,commentary-check,commentary,seed-news,seed,hotpotqa,rgb,conversation",
    )
    p.add_argument("--systems", default="ours,langchain,bm25,rrf")
    p.add_argument(
        "--work", default="/tmp/assistant-bench", help="where libraries are built and reused"
    )
    p.add_argument(
        "--answer",
        default="{}",
        help="answer settings to try, as JSON, e.g. '{\"refuse_below\": 0.4}'",
    )
    p.add_argument("--json", help="also write the summaries to this file")
    args = p.parse_args()
    rows = []
    answer_kw = json.loads(args.answer)
    sweeps: dict[str, list[tuple[bool, float]]] = {}
    searches: dict[tuple[str, str], Search] = {}  # (library, system) -> search, built once

    def baseline(es: EvalSet, system: str, work: Path) -> Search:
        key = (es.library, system)
        if key not in searches:
            if system == "langchain":
                searches[key] = langchain_search(es, work)
            elif system == "bm25":
                searches[key] = bm25_search(es)
            else:
                searches[key] = rrf_search(
                    baseline(es, "bm25", work), baseline(es, "langchain", work)
                )
        return searches[key]

    for name in args.sets.split(","):
        if name == "conversation":  # follow-up resolution only: no library, no systems
            from benchmarks import conversation

            print("conversation (benchmarks/conversation.py):", file=sys.stderr)
            conversation.main([])
            continue
        es = load_set(name)
        work = Path(args.work) / es.library
        for system in args.systems.split(","):
            print(f"{name} / {system} ...", file=sys.stderr)
            if system == "ours":
                s = run_ours(es, work / "ours", answer_kw, sweeps.setdefault(name, []))
            else:
                s = run_search(es, baseline(es, system, work), system)
            rows.append((f"{name} ({len(es.questions)} q)", system, s))
    print(table(rows))
    for extra in (split_gap(rows), versus(rows)):
        if extra:
            print()
            print(extra)
    current = float(answer_kw.get("refuse_below", Settings().answer.refuse_below))
    for name, sweep in sweeps.items():
        print()
        print(tradeoff(name, sweep, current))
    if args.json:
        Path(args.json).write_text(
            json.dumps([{"set": a, "system": b, **c} for a, b, c in rows], indent=2)
        )


if __name__ == "__main__":
    main()
