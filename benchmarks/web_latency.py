"""The web app end to end: question latency through its API, and how soon a dropped file answers.

    .venv/bin/python benchmarks/web_latency.py /tmp/assistant-perf/lib-100000
    .venv/bin/python benchmarks/web_latency.py /tmp/assistant-perf/lib-10000 --drop

Starts this checkout's `app.py` on the library (a directory holding corpus/ and indexes/, as
benchmarks/performance.py builds them), asks 20 real questions through `gradio_client` after
one warm-up, and prints p50 / p95 in ms (through the client, and through plain HTTP requests:
``http_p50_ms``); also the seconds from start until the warm-up question
was answered (`first_answer_s`, as `performance.py`'s cold_web) and the app's peak RSS then
(`rss_first_mb`) and after the 20 (`rss_peak_mb`). With --drop it then writes a new article into
corpus/ and asks until an answer cites it (the watcher's background sync), prints the seconds,
and deletes the file again. Prints one JSON line.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import ingest
from benchmarks.performance import ROOT, _free_port, env_for, questions

TRAMS = """---
title: Lisbon raises its tram fares
---

Lisbon's city council has raised the price of a single tram ticket bought on board to 3.10 euros,
the largest increase since the historic Line 28 was modernised.
"""


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def http_ask(h: Any, port: int, question: str) -> dict:
    """One answer through Gradio's HTTP API (POST the call, read its event stream to the end).

    ``gradio_client`` adds ~70 ms of its own to every call (a trivial function: 75 ms through it,
    5 ms over these two requests), so ``web_p50_ms`` measures the client library as much as the
    app; ``http_p50_ms`` is the app's end-to-end latency."""
    base = f"http://127.0.0.1:{port}/gradio_api/call/ask"
    # every input of /ask, the rest at their defaults (history, outlet, author, since, until, k,
    # generate, mode, by, as_of): plain HTTP gets no defaults filled in
    data = [question, None, None, None, None, None, None, False, None, None, None]
    event = h.post(base, json={"data": data}).json()["event_id"]
    stream = h.get(f"{base}/{event}").text
    if "event: complete" not in stream:
        raise SystemExit(f"the web app did not answer: {stream[:300]}")
    answer = stream.split("event: complete", 1)[1].split("data:", 1)[1].strip()
    return json.loads(answer)[0]


def main() -> None:
    import argparse

    import httpx
    from gradio_client import Client

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("library", type=Path, help="a folder holding corpus/ and indexes/")
    parser.add_argument("--drop", action="store_true", help="also time a dropped file's answer")
    args = parser.parse_args()
    lib, drop = args.library, args.drop
    if not (lib / "indexes").is_dir():
        raise SystemExit(f"{lib} holds no indexes/: give a library benchmarks/performance.py built")
    port = _free_port()
    log = (lib / "web-latency.log").open("w")
    started = time.perf_counter()
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
        cwd=ROOT, env=env_for(lib, ingest.MODEL_CACHE), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        while True:
            if p.poll() is not None:
                raise SystemExit(f"the web app exited; see {lib / 'web-latency.log'}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.2)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        qs = questions(20)
        client.predict(qs[0], api_name="/ask")
        first = time.perf_counter() - started
        rss_first = _peak_rss_mb(p.pid)
        times = []
        for q in qs:
            t0 = time.perf_counter()
            client.predict(q, api_name="/ask")
            times.append((time.perf_counter() - t0) * 1000)
        raw = []
        # the same questions through Gradio's HTTP API, on one kept-alive connection as a client
        # holds it (a new httpx.Client per question costs ~25 ms of its own set-up)
        with httpx.Client(timeout=60) as h:
            http_ask(h, port, qs[0])
            for q in qs:
                t0 = time.perf_counter()
                http_ask(h, port, q)
                raw.append((time.perf_counter() - t0) * 1000)
        out = {"web_p50_ms": statistics.median(times), "web_p95_ms": sorted(times)[18],
               "http_p50_ms": statistics.median(raw), "http_p95_ms": sorted(raw)[18],
               "first_answer_s": first, "rss_first_mb": rss_first, "rss_peak_mb": _peak_rss_mb(p.pid)}  # fmt: skip
        if drop:
            path = lib / "corpus" / "zz-dropped-trams.md"
            t0 = time.perf_counter()
            path.write_text(TRAMS)
            while True:
                a = client.predict("How much is a tram ticket bought on board in Lisbon?",
                                   api_name="/ask")  # fmt: skip
                if any(c["article_id"] == path.stem for c in a["citations"]):
                    break
                time.sleep(0.2)
            out["drop_to_answer_s"] = time.perf_counter() - t0
            path.unlink()
        print(json.dumps(out))
    finally:
        p.terminate()
        p.wait(30)
        log.close()


if __name__ == "__main__":
    main()
