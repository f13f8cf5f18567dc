"""Speed on a laptop, in one run: ingest against the LangChain tutorial recipe, `ask` latency,
cold starts and peak memory at 1k, 10k and 100k articles. Prints Markdown tables (the ones in
docs/performance.md).

    .venv/bin/python benchmarks/performance.py                  # full run (~30 min on 2 cores)
    .venv/bin/python benchmarks/performance.py --quick          # 1k and 10k, fewer articles
    .venv/bin/python benchmarks/performance.py --sizes 1000 --skip-ingest

Steps:
1. ingest: the same N real articles (../shared/data) into an empty library, this project vs the
   LangChain recipe, each in its own process (benchmarks/ingest.py), plus adding one more.
2. libraries of 1k/10k/100k synthetic articles (5 passages each, ~500k at 100k), built fast from
   the passages and vectors of step 1 (benchmarks/common.py: build_synthetic); reused between
   runs unless --fresh.
3. per size, in a fresh process: warm `ask` latency p50/p95 over real questions (retrieval,
   fusion, evidence selection, the answer), peak RSS, and which heavy modules got imported;
   the cold start of `assistant ask` (process start to answer printed); the web app's cold start
   (process start to its first answer through the API); adding and removing one article.
Work directories live under --work (default /tmp/assistant-perf), never in the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import ingest
from benchmarks.common import DATA, ROOT, build_synthetic, percentile

BIN = Path(sys.executable).parent
HEAVY = ("torch", "sentence_transformers", "transformers", "langchain_core", "gradio")
SYNTHETIC_VERSION = 3  # bump when build_synthetic changes what it builds


def env_for(lib: Path, cache: Path) -> dict[str, str]:
    return {
        **os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
        "ASSISTANT_CORPUS": str(lib / "corpus"), "ASSISTANT_INDEX": str(lib / "indexes"),
        "ASSISTANT_MODEL_CACHE": str(cache),
    }  # fmt: skip


def questions(n: int) -> list[str]:
    """``n`` real questions, alternating between the two public sets."""
    sets = []
    for folder in ingest.SETS:
        with (DATA / folder / "questions.jsonl").open() as f:
            sets.append([json.loads(line)["question"] for line in f])
    mixed = [q for pair in zip(*sets, strict=False) for q in pair]
    return mixed[:n]


# --- building --------------------------------------------------------------------------------


def source_passages(lib: Path) -> tuple[list[tuple[str, str]], Any]:
    """(title, passage) pairs and their stored vectors from a real library."""
    import numpy as np

    from assistant.index.sync import Library
    from assistant.settings import Settings

    library = Library(Settings.from_env(env_for(lib, ingest.MODEL_CACHE)))
    cat = library.catalog
    ids = cat.lexical_texts()[0]
    rows = cat.chunks(ids)
    titles = {r.id: r.title or "" for r in cat.articles()}
    got = library.vectors._call("get", ids=ids, include=["embeddings"])
    vec_of = dict(zip(got["ids"], got["embeddings"], strict=True))
    pairs = [(titles[rows[i].article_id], rows[i].text) for i in ids]
    vectors = np.array([vec_of[i] for i in ids], dtype=np.float32)
    library.close()
    return pairs, vectors


def build_size(size: int, source: Path, work: Path, fresh: bool) -> dict[str, Any]:
    """The synthetic library of ``size`` articles (reused when already built the same way)."""
    from assistant.settings import Settings

    lib = work / f"lib-{size}"
    stamp = lib / "built.json"
    if stamp.exists() and not fresh:
        info = json.loads(stamp.read_text())
        if info.get("version") == SYNTHETIC_VERSION:
            return {**info, "reused": True}
    shutil.rmtree(lib, ignore_errors=True)
    pairs, vectors = source_passages(source)
    settings = Settings.from_env(env_for(lib, ingest.MODEL_CACHE))
    _precreate_collection(settings)
    started = time.perf_counter()
    steps = build_synthetic(settings, size, pairs, vectors)
    info = {"version": SYNTHETIC_VERSION, "size": size, "seconds": time.perf_counter() - started,
            "steps": steps, "source_passages": len(pairs)}  # fmt: skip
    stamp.write_text(json.dumps(info))
    return {**info, "reused": False}


def _precreate_collection(settings: Any) -> None:
    """Create the library's Chroma collection with a cheaper HNSW construction (ef 16 instead of
    100) before the library opens it: building a 500k-vector graph with the default took over
    20 minutes on this shared 2-core machine, 4× longer. Search parameters stay Chroma's
    defaults, so query latency is measured as the app runs; the graph is a little coarser."""
    import chromadb

    from assistant.index.vectors import VectorIndex

    name = VectorIndex(settings, lambda texts: None).name  # type: ignore[arg-type,return-value]
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    client = chromadb.PersistentClient(
        str(path), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    client.get_or_create_collection(
        name,
        metadata={"hnsw:space": "cosine", "hnsw:construction_ef": 16},
        embedding_function=None,
    )


# --- measuring -------------------------------------------------------------------------------


def query_child(lib: Path, n: int) -> dict[str, Any]:
    """In this (fresh) process: first answer, then warm latencies and peak RSS."""
    import resource

    started = time.perf_counter()
    from assistant.api import Assistant
    from assistant.settings import Settings

    a = Assistant(Settings.from_env())
    a.ensure_index()
    qs = questions(n)
    a.ask(qs[0])
    first = time.perf_counter() - started
    a.ask(qs[1])  # warm
    times = []
    for q in qs:
        t0 = time.perf_counter()
        a.ask(q)
        times.append((time.perf_counter() - t0) * 1000)
    a.close()
    return {
        "first_answer_s": first,
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "mean_ms": statistics.mean(times),
        "queries": len(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "heavy_imports": [m for m in HEAVY if m in sys.modules],
    }


def add_remove_child(lib: Path) -> dict[str, Any]:
    """Seconds to add one real article to the library, then to remove it again."""
    from assistant.api import Assistant
    from assistant.ingest.sources import RawDoc
    from assistant.settings import Settings

    rec = ingest.articles(2355)[-1]
    a = Assistant(Settings.from_env())
    a.library.embedder  # noqa: B018  (model load is not part of the add)
    a.library.vectors.count()
    a.library.ensure_lexical()
    doc = RawDoc("bench:extra", rec["text"], "record", {"title": rec["title"]},
                 id="extra-article", id_given=True)  # fmt: skip
    t0 = time.perf_counter()
    (result,) = a.add([doc])
    added = time.perf_counter() - t0
    assert result.status == "added", result
    t0 = time.perf_counter()
    a.remove(["extra-article"])
    removed = time.perf_counter() - t0
    a.close()
    return {"add_one_s": added, "remove_one_s": removed}


def run_child(kind: str, lib: Path, *extra: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(lib), *extra],
        cwd=ROOT, env=env_for(lib, ingest.MODEL_CACHE), capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_cli(lib: Path, question: str, runs: int = 3) -> dict[str, Any]:
    """`assistant ask` from process start to exit (answer printed), median of ``runs``."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run(
            [str(BIN / "assistant"), "ask", question],
            env=env_for(lib, ingest.MODEL_CACHE), capture_output=True, text=True,
        )  # fmt: skip
        times.append(time.perf_counter() - t0)
        if out.returncode != 0:
            raise SystemExit(f"assistant ask failed: {out.stderr[-2000:]}")
    return {"cold_ask_s": statistics.median(times), "cold_ask_runs": times}


def cold_web(lib: Path, question: str, timeout: float = 120) -> dict[str, Any]:
    """`python app.py` from process start until its API returned the first answer."""
    from gradio_client import Client  # imported before the clock starts

    port = _free_port()
    log = open(lib / "web.log", "w")  # noqa: SIM115
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
        cwd=ROOT, env=env_for(lib, ingest.MODEL_CACHE), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        while time.perf_counter() - t0 < timeout:
            if p.poll() is not None:
                raise SystemExit(f"the web app exited; see {lib / 'web.log'}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        listening = time.perf_counter() - t0
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        answer = client.predict(question, api_name="/ask")
        answered = time.perf_counter() - t0
        assert answer, answer
        rss = _proc_rss_mb(p.pid)
    finally:
        p.terminate()
        p.wait(timeout=30)
        log.close()
    return {"web_listening_s": listening, "web_first_answer_s": answered, "web_rss_mb": rss}


def _proc_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the int8 quality gate -------------------------------------------------------------------


def quality_gate(work: Path, sets: list[str]) -> str:
    """int8 against fp32 ONNX: cosine on the real passages of the public sets, then retrieval
    and answer metrics of the whole pipeline on each set (benchmarks/quality.py's builders)."""
    import numpy as np

    from assistant.index.embedding import load_embedder
    from benchmarks import quality
    from benchmarks.common import load_set, table

    lines = []
    texts = [f"{r.get('title') or ''}\n{r['text']}" for r in ingest.articles(2355)][:1500]
    fp32 = load_embedder("onnx-fp32", ingest.MODEL_CACHE).embed(texts)
    int8 = load_embedder("onnx-int8", ingest.MODEL_CACHE).embed(texts)
    cos = np.sum(fp32 * int8, axis=1)
    top5 = []
    rng = np.random.default_rng(0)
    for i in rng.choice(len(texts), 200, replace=False):  # each text as a query over the rest
        a = set(np.argsort(-(fp32 @ fp32[i]))[1:6])
        b = set(np.argsort(-(int8 @ int8[i]))[1:6])
        top5.append(len(a & b) / 5)
    lines.append(
        f"Cosine int8 vs fp32 over {len(texts)} real articles (title + text, as embedded): "
        f"mean {cos.mean():.4f}, min {cos.min():.4f}, 1st percentile {np.percentile(cos, 1):.4f}; "
        f"top-5 neighbour overlap {np.mean(top5):.3f}.\n"
    )
    print(lines[0], flush=True)
    rows = []
    for name in sets:
        es = load_set(name)
        for runtime in ("onnx-fp32", "onnx-int8"):
            os.environ["ASSISTANT_EMBEDDING_RUNTIME"] = runtime
            os.environ["ASSISTANT_MODEL_CACHE"] = str(ingest.MODEL_CACHE)
            print(f"quality: {name} / {runtime} ...", file=sys.stderr, flush=True)
            summary = quality.run_ours(es, work / f"quality-{runtime}" / name, {}, [])
            rows.append((f"{name} ({len(es.questions)} q)", runtime, summary))
    lines.append(table(rows))
    return "\n".join(lines)


# --- reporting -------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    load = os.getloadavg()
    return (f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}; load average at the end "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")  # fmt: skip


def size_table(rows: list[dict[str, Any]]) -> str:
    head = ("| articles | passages | build s | ask p50 ms | ask p95 ms | first answer in-process s "
            "| `assistant ask` cold s | web app first answer s | peak RSS MB (ask) | RSS MB (web) "
            "| add 1 s | remove 1 s | heavy imports on ask |")  # fmt: skip
    lines = [head, "|" + "---|" * 13]

    def f(v: Any, fmt: str) -> str:
        return "—" if v is None else format(v, fmt)

    for r in rows:
        lines.append(
            f"| {r['size']:,} | {f(r.get('passages'), ',')} | {f(r.get('build_s'), '.0f')} "
            f"| {f(r.get('p50_ms'), '.1f')} | {f(r.get('p95_ms'), '.1f')} "
            f"| {f(r.get('first_answer_s'), '.2f')} | {f(r.get('cold_ask_s'), '.2f')} "
            f"| {f(r.get('web_first_answer_s'), '.1f')} | {f(r.get('peak_rss_mb'), '.0f')} "
            f"| {f(r.get('web_rss_mb'), '.0f')} | {f(r.get('add_one_s'), '.2f')} "
            f"| {f(r.get('remove_one_s'), '.2f')} | {', '.join(r.get('heavy_imports', [])) or 'none'} |"
        )
    return "\n".join(lines)


def _passages(lib: Path) -> int | None:
    try:
        return int(json.loads((lib / "indexes" / "manifest.json").read_text())["passages"])
    except (OSError, ValueError, KeyError):
        return None


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, lib = sys.argv[2], Path(sys.argv[3])
        if kind == "query":
            print(json.dumps(query_child(lib, int(sys.argv[4]))))
        elif kind == "add-remove":
            print(json.dumps(add_remove_child(lib)))
        return
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="1000,10000,100000", help="library sizes in articles")
    p.add_argument("--quick", action="store_true", help="sizes 1000,10000; 200 articles ingested")
    p.add_argument("--ingest-articles", type=int, default=1000)
    p.add_argument("--queries", type=int, default=100, help="warm questions per size")
    p.add_argument("--skip-ingest", action="store_true", help="reuse the last ingest library")
    p.add_argument("--skip-web", action="store_true")
    p.add_argument("--fresh", action="store_true", help="rebuild the synthetic libraries")
    p.add_argument("--work", default="/tmp/assistant-perf")
    p.add_argument("--json", help="also write every measurement to this file")
    p.add_argument(
        "--quality",
        action="store_true",
        help="only the int8-vs-fp32 quality gate (cosine, then metrics on the public sets)",
    )
    args = p.parse_args()
    if args.quick:
        args.sizes, args.ingest_articles, args.queries = "1000,10000", 200, 40
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.quality:
        print(quality_gate(work, ["hotpotqa", "rgb"]))
        return
    started = time.perf_counter()
    report: dict[str, Any] = {"command": " ".join(["benchmarks/performance.py", *sys.argv[1:]])}

    source = work / "ingest" / "ours"
    if not args.skip_ingest or not source.exists():
        rows = ingest.compare(args.ingest_articles, ["ours", "langchain"], work / "ingest")
        report["ingest"] = rows
        print("\n## Ingest\n")
        print(ingest.table(rows), flush=True)

    sizes = [int(s) for s in args.sizes.split(",") if s]
    question = questions(1)[0]
    size_rows = []
    for size in sizes:
        print(f"size {size:,}: building ...", file=sys.stderr, flush=True)
        built = build_size(size, source, work, args.fresh)
        lib = work / f"lib-{size}"
        row: dict[str, Any] = {"size": size, "passages": _passages(lib),
                               "build_s": None if built["reused"] else built["seconds"],
                               "build_steps": built["steps"]}  # fmt: skip
        print(f"size {size:,}: queries ...", file=sys.stderr, flush=True)
        row.update(run_child("query", lib, str(args.queries)))
        row.update(cold_cli(lib, question))
        if not args.skip_web:
            print(f"size {size:,}: web app ...", file=sys.stderr, flush=True)
            row.update(cold_web(lib, question))
        print(f"size {size:,}: add and remove one ...", file=sys.stderr, flush=True)
        row.update(run_child("add-remove", lib))
        size_rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    report["sizes"] = size_rows
    print("\n## Query latency, cold start and memory\n")
    print(size_table(size_rows))
    report["machine"] = machine()
    report["minutes"] = (time.perf_counter() - started) / 60
    print(f"\nMachine: {report['machine']}. Run took {report['minutes']:.0f} min.")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
