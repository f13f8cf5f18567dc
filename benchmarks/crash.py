"""Crash safety: kill -9 the importer at random moments of a bulk import, then check nothing is lost.

Each trial starts from an empty library, runs ``assistant add import.jsonl`` (N articles) as a
separate process, kills it with SIGKILL at a random moment — half the trials after a random
number of ``ID added`` lines (the writing phase), half after a random delay (mostly the
indexing phase) — and on every other trial kills the repairing ``assistant index`` once too.
Then ``assistant index`` runs to completion and the library is checked:

- every article in corpus/ is in the catalog, indexed from its current file, and retrievable
  (its own first sentence finds it among the top 5 passages);
- the vector store holds exactly the catalog's passages (no stray vector, none missing), and
  every passage belongs to an article in corpus/;
- every article the importer acknowledged (printed ``ID added``) before it died is there.

    python benchmarks/crash.py --trials 20 --articles 200          # ~15 min on 2 busy cores
    python benchmarks/crash.py --trials 3 --articles 30            # a quick look

Articles come from a corpus.jsonl (default: the HotpotQA sample in /work/shared/data), copied
into a temp directory; nothing is written to the repository. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_SOURCE = Path("/work/shared/data/hotpotqa_hipporag_train100/corpus.jsonl")
ASSISTANT = str(Path(sys.executable).parent / "assistant")


@dataclass
class Trial:
    n: int
    mode: str  # "after-acks" or "after-delay"
    killed_at_s: float
    phase: str  # what the importer was doing: "starting", "writing" or "indexing"
    acked: int  # "ID added" lines printed before the kill
    repair_killed: bool
    repair_s: float
    articles: int
    passages: int
    vectors: int
    unindexed: int
    not_retrievable: int
    stray_vectors: int
    missing_vectors: int
    lost_acks: int

    @property
    def ok(self) -> bool:
        return not (self.unindexed or self.not_retrievable or self.stray_vectors
                    or self.missing_vectors or self.lost_acks) and self.articles >= self.acked  # fmt: skip


def make_import(source: Path, n: int, dest: Path) -> list[dict[str, str]]:
    """The first ``n`` usable records of ``source`` as an import file at ``dest``."""
    records = []
    with source.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if len((r.get("text") or "").split()) < 12:
                continue
            records.append({"id": r["id"], "title": r.get("title") or "", "text": r["text"]})
            if len(records) == n:
                break
    dest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return records


def run_importer(
    env: dict[str, str], jsonl: Path, rng: random.Random, total: int, full_s: float | None
) -> tuple[str, float, str, list[str]]:
    """Start the import, kill it at a random moment; (mode, seconds, phase, acked ids)."""
    proc = subprocess.Popen([ASSISTANT, "add", str(jsonl)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    acked: list[str] = []
    started = time.monotonic()
    target_acks = rng.randint(1, total - 1) if full_s is not None and rng.random() < 0.5 else None
    delay = rng.uniform(0.5, full_s or 1e9) if target_acks is None and full_s else None
    enough = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 2 and parts[1] == "added":
                acked.append(parts[0])
                if target_acks is not None and len(acked) >= target_acks:
                    enough.set()
        enough.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if full_s is None:  # the calibration run: no kill
        proc.wait()
        reader.join()
        return "none", time.monotonic() - started, "finished", acked
    enough.wait(timeout=delay if delay is not None else 600)
    killed_at = time.monotonic() - started
    finished = proc.poll() is not None
    n_acked = len(acked)  # what the importer had acknowledged when the kill was sent
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join(timeout=5)
    phase = ("finished" if finished else "starting" if n_acked == 0
             else "writing" if n_acked < total else "indexing")  # fmt: skip
    return (
        ("after-acks" if target_acks is not None else "after-delay"),
        killed_at,
        phase,
        acked[:n_acked],
    )


def repair(env: dict[str, str], rng: random.Random, kill_first: bool) -> tuple[bool, float]:
    """``assistant index`` to completion (killed once at a random moment first, if asked)."""
    started = time.monotonic()
    killed = False
    if kill_first:
        proc = subprocess.Popen([ASSISTANT, "index"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            proc.wait(timeout=rng.uniform(1.0, 6.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed = True
    done = subprocess.run([ASSISTANT, "index"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"assistant index failed after a crash: {done.stderr.strip()}")
    return killed, time.monotonic() - started


def check(root: Path, chroma_url: str | None, acked: list[str]) -> dict[str, int]:
    """The agreement checks, run in this process against the repaired library."""
    from assistant.api import Assistant
    from assistant.settings import Settings

    s = Settings.from_env(
        {"ASSISTANT_MODEL_CACHE": str(root.parent / "models")},
        corpus_dir=root / "corpus",
        index_dir=root / "indexes",
        chroma_url=chroma_url,
    )
    a = Assistant(s)
    lib = a.library
    files = set(lib.corpus.scan())
    rows = {r.id: r for r in lib.catalog.articles()}
    unindexed = len(files - set(rows)) + sum(
        1 for aid in files & set(rows) if rows[aid].indexed_sha != rows[aid].file_sha
    )
    chunk_ids, chunk_articles, _ = lib.catalog.lexical_texts()
    stored = set(lib.vectors.ids())
    stray = len(stored - set(chunk_ids)) + sum(1 for aid in chunk_articles if aid not in files)
    missing = len(set(chunk_ids) - stored)
    not_found = 0
    for aid in sorted(files):
        body = lib.corpus.read(aid).body
        query = " ".join(body.split()[:25])
        if aid not in {p.article_id for p in a.passages(query, k=5)}:
            not_found += 1
    result = {
        "articles": len(files), "passages": len(chunk_ids), "vectors": len(stored),
        "unindexed": unindexed, "not_retrievable": not_found, "stray_vectors": stray,
        "missing_vectors": missing, "lost_acks": len(set(acked) - files),
    }  # fmt: skip
    a.close()
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--articles", type=int, default=200)
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--chroma-url", help="run against a Chroma server instead of embedded")
    p.add_argument("--out", type=Path, help="also write the trials as JSON here")
    args = p.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="crash-"))
    jsonl = work / "import.jsonl"
    records = make_import(args.source, args.articles, jsonl)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    base_env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
                    ASSISTANT_MODEL_CACHE=str(work / "models"))  # fmt: skip
    if args.chroma_url:
        base_env["ASSISTANT_CHROMA_URL"] = args.chroma_url

    def env_for(name: str) -> tuple[Path, dict[str, str]]:
        root = work / name
        if args.chroma_url:  # one collection on the server: start each trial from empty
            from urllib.parse import urlparse

            import chromadb

            u = urlparse(args.chroma_url)
            client = chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000)
            for c in client.list_collections():
                client.delete_collection(c.name)
        return root, {**base_env, "ASSISTANT_CORPUS": str(root / "corpus"),
                      "ASSISTANT_INDEX": str(root / "indexes")}  # fmt: skip

    print(f"{len(records)} articles from {args.source}; work directory {work}", flush=True)
    for name in ("warm-up", "calibration"):  # the first run also exports the ONNX model
        _, env = env_for(name)
        _, full_s, _, acked = run_importer(env, jsonl, rng, len(records), None)
    print(f"uninterrupted import: {full_s:.1f} s, {len(acked)} added", flush=True)

    trials: list[Trial] = []
    header = (f"{'trial':>5} {'kill':>11} {'at s':>6} {'phase':>9} {'acked':>5} {'repair':>8} "
              f"{'articles':>8} {'passages':>8} {'vectors':>7} {'unidx':>5} {'unfound':>7} "
              f"{'stray':>5} {'missing':>7} {'lost':>4}")  # fmt: skip
    print(header)
    started = time.monotonic()
    for n in range(1, args.trials + 1):
        root, env = env_for(f"trial{n:02d}")
        mode, at, phase, acked = run_importer(env, jsonl, rng, len(records), full_s)
        repair_killed, repair_s = repair(env, rng, kill_first=n % 2 == 0)
        r = check(root, args.chroma_url, acked)
        t = Trial(n, mode, round(at, 2), phase, len(acked), repair_killed, round(repair_s, 1), **r)
        trials.append(t)
        print(f"{n:>5} {mode:>11} {at:>6.1f} {phase:>9} {len(acked):>5} "
              f"{repair_s:>6.1f}{'*' if repair_killed else ' ':1} {t.articles:>9} {t.passages:>8} "
              f"{t.vectors:>7} {t.unindexed:>5} {t.not_retrievable:>7} {t.stray_vectors:>5} "
              f"{t.missing_vectors:>7} {t.lost_acks:>4}{'' if t.ok else '  FAIL'}", flush=True)  # fmt: skip
    phases = {
        ph: sum(t.phase == ph for t in trials)
        for ph in ("starting", "writing", "indexing", "finished")
    }
    print(f"\n{len(trials)} trials in {time.monotonic() - started:.0f} s; killed while {phases}; "
          f"repair itself killed in {sum(t.repair_killed for t in trials)}; "
          f"{sum(t.ok for t in trials)}/{len(trials)} restored full agreement; "
          f"{sum(t.acked for t in trials)} acknowledged articles, "
          f"{sum(t.lost_acks for t in trials)} lost.  (* = repair killed once first)")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps([asdict(t) for t in trials], indent=1) + "\n")
    return 0 if all(t.ok for t in trials) else 1


if __name__ == "__main__":
    sys.exit(main())
