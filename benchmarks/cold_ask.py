"""`assistant ask` from process start to exit, several checkouts taking turns on one library.

    .venv/bin/python benchmarks/cold_ask.py /tmp/assistant-perf/lib-100000 --runs 5 \\
        --checkout . --checkout ../main

Each run is a fresh `python -m assistant.cli ask QUESTION` with PYTHONPATH at the checkout (its
code, this interpreter's packages) and the library's corpus/ and indexes/; the checkouts take
turns so each meets the same load. Prints each run (seconds, peak RSS, 1-minute load average
before it), then the median per checkout. The library is read, never changed, unless the corpus
changed since its index was last brought in line (then the first ask syncs it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import ingest
from benchmarks.performance import env_for


def one_ask(checkout: Path, lib: Path, question: str, cache: Path) -> tuple[float, float]:
    """Seconds from start to exit and peak RSS in MB, as `/usr/bin/time` sees them."""
    env = {**env_for(lib, cache), "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-m", "assistant.cli", "ask", question],
        cwd=checkout, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"assistant ask failed in {checkout}: {out.stderr[-2000:]}")
    _, seconds, kb = out.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kb) / 1024


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("library", type=Path, help="a directory holding corpus/ and indexes/")
    p.add_argument("--checkout", type=Path, action="append", help="repeat to compare (default: .)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--question", default="What has Russia offered in return?")
    p.add_argument("--model-cache", type=Path, default=ingest.MODEL_CACHE)
    args = p.parse_args()
    checkouts = [c.resolve() for c in args.checkout or [Path(".")]]
    times: dict[Path, list[float]] = {c: [] for c in checkouts}
    for run in range(args.runs):
        for c in checkouts:
            load = os.getloadavg()[0]
            seconds, rss = one_ask(c, args.library, args.question, args.model_cache)
            times[c].append(seconds)
            print(f"run {run + 1} {c}: {seconds:.2f} s, peak RSS {rss:.0f} MB, load {load:.2f}",
                  flush=True)  # fmt: skip
    for c in checkouts:
        runs = ", ".join(f"{t:.2f}" for t in times[c])
        print(f"{c}: median {statistics.median(times[c]):.2f} s ({runs})")


if __name__ == "__main__":
    main()
