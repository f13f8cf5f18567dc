"""Ingest throughput, side by side in one run: this project and the LangChain tutorial recipe
adding the same N articles (from ../shared/data/*/corpus.jsonl) into an empty library, plus the
cost of adding one more article to the library of N.

    .venv/bin/python benchmarks/ingest.py                      # 1000 articles, both systems
    .venv/bin/python benchmarks/ingest.py --articles 200 --systems ours
    .venv/bin/python benchmarks/ingest.py --articles 300 --set news   # real news (realtimeqa)

Each system runs in its own process (so neither pays for the other's imports or threads) and
reports: start-up (imports and model load, not counted in the rates), the seconds to add the N
articles (cleaning, chunking, embedding, Chroma, catalog, BM25 for ours; splitting, embedding and
Chroma for the recipe), chunks/s, articles/min and peak RSS. The recipe is
RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings (the same packaged MiniLM,
sentence-transformers fp32) + Chroma, as in the LangChain RAG tutorial.

``--set public`` (the default) draws short articles from the two public sets; ``--set news``
draws real news articles (``realtimeqa_2022_dev``: long, many short paragraphs, boilerplate).
Records with no text are left out for both systems; ours adds with ``force`` there, so
syndicated near-copies are kept as the recipe keeps them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, _records

SETS = ("hotpotqa_hipporag_train100", "rgb_en_fact")
ARTICLE_SETS = {"public": SETS, "news": ("realtimeqa_2022_dev",)}
# One ONNX export for every benchmark library (the first run pays the export in its start-up).
MODEL_CACHE = Path("/tmp/assistant-perf/models")


def articles(n: int, seed: int = 0, kind: str = "public") -> list[dict[str, Any]]:
    """``n`` real articles with text from the ``kind`` sets (shuffled; at most the 2,355 of the
    public sets, the 1,200 of the news set)."""
    pool = [r for name in ARTICLE_SETS[kind] for r in _records(name) if r["text"].strip()]
    random.Random(seed).shuffle(pool)
    if n > len(pool):
        raise SystemExit(f"--articles {n}: the {kind} set holds only {len(pool)} articles.")
    return pool[:n]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def ingest_ours(
    recs: list[dict[str, Any]], work: Path, runtime: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Add ``recs`` to an empty library under ``work``; the timings of that."""
    started = time.perf_counter()
    from assistant.api import Assistant
    from assistant.ingest.sources import RawDoc
    from assistant.settings import Settings

    shutil.rmtree(work, ignore_errors=True)
    settings = Settings.from_env(corpus_dir=work / "corpus", index_dir=work / "indexes")
    if runtime:
        from dataclasses import replace

        settings = replace(settings, embedding=replace(settings.embedding, runtime=runtime))
    a = Assistant(settings)
    a.library.embedder  # noqa: B018  (model load and opening Chroma are start-up, as for the recipe)
    a.library.vectors.count()
    startup = time.perf_counter() - started
    docs = [
        RawDoc(f"bench:{r['id']}", r["text"], "record", {"title": r["title"]} if r.get("title") else {},
               id=r["id"], id_given=True)
        for r in recs
    ]  # fmt: skip
    t0 = time.perf_counter()
    results = a.add(docs, force=force)
    seconds = time.perf_counter() - t0
    added = sum(r.status == "added" for r in results)
    chunks = a.library.catalog.count_chunks()
    tokens = sum(min(t, 256) for t in a.library.embedder.count_tokens(_dense_texts(a)))
    a.close()
    return _row(f"ours ({settings.embedding.runtime})", added, chunks, tokens, seconds, startup)


def _dense_texts(a: Any) -> list[str]:
    """What the embedder read for each stored passage (title + passage)."""
    cat = a.library.catalog
    titles = {r.id: r.title for r in cat.articles()}
    rows = cat.chunks(cat.lexical_texts()[0]).values()
    return [
        f"{titles[r.article_id]}\n{r.text}" if titles.get(r.article_id) else r.text for r in rows
    ]


def ingest_langchain(recs: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    """The LangChain tutorial recipe over the same records."""
    started = time.perf_counter()
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.index.embedding import model_dir

    shutil.rmtree(work, ignore_errors=True)
    emb = HuggingFaceEmbeddings(model_name=str(model_dir()), model_kwargs={"device": "cpu"})
    emb.embed_query("warm up")
    client = chromadb.PersistentClient(
        str(work), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    store = Chroma(collection_name="tutorial", embedding_function=emb, client=client)
    startup = time.perf_counter() - started
    t0 = time.perf_counter()
    docs = [Document(page_content=r["text"], metadata={"article_id": r["id"]}) for r in recs]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    for i in range(0, len(splits), 5000):  # Chroma takes at most 5,461 records per call
        store.add_documents(splits[i : i + 5000])
    seconds = time.perf_counter() - t0
    tokenizer = emb._client.tokenizer
    tokens = sum(
        min(len(ids), 256)
        for ids in tokenizer([d.page_content for d in splits], truncation=False)["input_ids"]
    )
    return _row("langchain tutorial", len(recs), len(splits), tokens, seconds, startup)


def incremental_add(work: Path, rec: dict[str, Any]) -> float:
    """Seconds to add one more article to the library already under ``work`` (cold process
    excluded: the model is loaded first)."""
    from assistant.api import Assistant
    from assistant.ingest.sources import RawDoc
    from assistant.settings import Settings

    settings = Settings.from_env(corpus_dir=work / "corpus", index_dir=work / "indexes")
    a = Assistant(settings)
    a.library.embedder  # noqa: B018
    a.library.vectors.count()  # opens Chroma
    doc = RawDoc("bench:extra", rec["text"], "record", {"title": rec.get("title") or "extra"},
                 id=f"extra-{rec['id']}"[:100], id_given=True)  # fmt: skip
    t0 = time.perf_counter()
    (result,) = a.add([doc])
    seconds = time.perf_counter() - t0
    assert result.status == "added", result
    a.close()
    return seconds


def _row(
    system: str, n: int, chunks: int, tokens: int, seconds: float, startup: float
) -> dict[str, Any]:
    return {
        "system": system,
        "articles": n,
        "chunks": chunks,
        "tokens": tokens,
        "seconds": seconds,
        "startup_s": startup,
        "chunks_per_s": chunks / seconds,
        "tokens_per_s": tokens / seconds,
        "articles_per_min": n * 60 / seconds,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run_child(args: list[str]) -> dict[str, Any]:
    """Run ``benchmarks/ingest.py --child ...`` in a fresh interpreter; its JSON result."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false",
           "ASSISTANT_MODEL_CACHE": os.environ.get("ASSISTANT_MODEL_CACHE") or str(MODEL_CACHE)}  # fmt: skip
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"ingest child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(n: int, systems: list[str], work: Path, kind: str = "public") -> list[dict[str, Any]]:
    """Ingest the same ``n`` articles with each system (each in its own process), then time an
    incremental add of one article to our library of ``n``."""
    rows = []
    for system in systems:
        print(f"ingest: {system}, {n} {kind} articles ...", file=sys.stderr, flush=True)
        rows.append(run_child([system, str(n), str(work / system), kind]))
    if "ours" in systems:
        inc = run_child(["incremental", str(n), str(work / "ours"), kind])
        rows[systems.index("ours")]["incremental_add_s"] = inc["seconds"]
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of ingest rows, with each system's chunks/s relative to the last row's
    (the LangChain recipe, when it ran)."""
    base = next((r for r in rows if r["system"].startswith("langchain")), None)
    head = ("| system | articles | chunks | seconds | chunks/s | articles/min | tokens/s "
            "| × recipe (chunks/s) | × recipe (articles/min) | start-up s | add 1 more s | peak RSS MB |")  # fmt: skip
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        ratio_c = f"{r['chunks_per_s'] / base['chunks_per_s']:.2f}" if base else "—"
        ratio_a = f"{r['articles_per_min'] / base['articles_per_min']:.2f}" if base else "—"
        inc = f"{r['incremental_add_s']:.2f}" if "incremental_add_s" in r else "—"
        lines.append(
            f"| {r['system']} | {r['articles']} | {r['chunks']} | {r['seconds']:.1f} "
            f"| {r['chunks_per_s']:.1f} | {r['articles_per_min']:.0f} | {r['tokens_per_s']:.0f} "
            f"| {ratio_c} | {ratio_a} | {r['startup_s']:.1f} | {inc} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def _child(argv: list[str]) -> None:
    what, n, work = argv[0], int(argv[1]), Path(argv[2])
    kind = argv[3] if len(argv) > 3 else "public"
    recs = articles(n, kind=kind)
    if what == "ours" or what.startswith("ours:"):
        row = ingest_ours(recs, work, what.partition(":")[2] or None, force=kind == "news")
    elif what == "langchain":
        row = ingest_langchain(recs, work)
    elif what == "incremental":
        try:
            extra = articles(n + 1, kind=kind)[-1]
        except SystemExit:  # every article of the set is in the library already
            extra = {"id": "x", "title": "x", "text": "Extra."}
        row = {"seconds": incremental_add(work, extra)}
    else:
        raise SystemExit(f"unknown child {what!r}")
    print(json.dumps(row))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--articles", type=int, default=1000, help="how many real articles (≤ 2355)")
    p.add_argument(
        "--systems",
        default="ours,langchain",
        help="comma-separated: ours, ours:onnx-fp32, ours:torch-fp32, langchain",
    )
    p.add_argument("--set", default="public", choices=sorted(ARTICLE_SETS), dest="kind",
                   help="public: short articles of the public sets; news: realtimeqa_2022_dev")  # fmt: skip
    p.add_argument("--work", default="/tmp/assistant-perf/ingest")
    args = p.parse_args()
    rows = compare(args.articles, args.systems.split(","), Path(args.work), args.kind)
    print(table(rows))


if __name__ == "__main__":
    main()
