"""Where a cold `assistant ask` spends its time: each part of the library opened in turn, timed.

    ASSISTANT_CORPUS=/tmp/assistant-perf/lib-100000/corpus \\
    ASSISTANT_INDEX=/tmp/assistant-perf/lib-100000/indexes \\
    ASSISTANT_MODEL_CACHE=/tmp/assistant-perf/models \\
        .venv/bin/python benchmarks/coldstart.py "What has Russia offered in return?"

Run it in a fresh process each time (the point is what a new process pays); the steps are the
ones `Assistant.ask` takes on its first question, forced one by one so each is measured alone.
Prints one line per step (seconds, and the process's RSS after it).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    question = sys.argv[1] if len(sys.argv) > 1 else "What has Russia offered in return?"
    started = last = time.perf_counter()
    rows: list[tuple[str, float]] = []

    def lap(step: str) -> None:
        nonlocal last
        now = time.perf_counter()
        rows.append((step, now - last))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{now - last:7.2f} s  {rss:7.0f} MB  {step}", flush=True)
        last = now

    from assistant.api import Assistant
    from assistant.settings import Settings

    lap("import assistant.api")
    a = Assistant(Settings.from_env())
    lib = a.library
    lap("Assistant()")
    lib.check_manifest()
    lap("catalog: open, manifest check")
    a.ensure_index()
    lap("ensure_index: has the corpus changed?")
    lib.stores.load_lexical(lib.catalog.generation())
    lap("BM25: both indexes loaded (memory-mapped)")
    lib.vectors.count()
    lap("Chroma: client and collection opened")
    dim = lib.embedder.dim
    lap("embedding model loaded")
    import numpy as np

    lib.vectors.query(np.ones(dim, dtype=np.float32) / dim**0.5, 1)
    lap("Chroma: first query (HNSW graph loaded)")
    lib.ensure_lexical()
    lap("ensure_lexical (reader follows other processes)")
    a.ask(question)
    lap("first answer")
    a.ask(question)
    lap("second answer (warm)")
    print(f"{time.perf_counter() - started:7.2f} s  total", flush=True)


if __name__ == "__main__":
    main()
