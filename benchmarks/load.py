"""Load: 20 gradio_client clients asking at once while another process adds articles.

Starts ``assistant serve`` on a free loopback port over a small temp library (the test articles
plus records of a public corpus.jsonl), then runs CLIENTS threads, each with its own
``gradio_client.Client`` sending QUESTIONS questions, while ``assistant add`` (a separate
process) imports new articles in small batches. Afterwards every added article must be found
by the running app (its own first words, asked through /ask, cite it) and by a fresh process.

    python benchmarks/load.py                        # 20 clients x 25 questions, embedded Chroma
    python benchmarks/load.py --chroma-url http://127.0.0.1:8000   # against a Chroma server

Prints a table: requests, errors, latency p50/p95/max, throughput, and the article checks.
Nothing is written to the repository; loopback only; bounded by --clients x --questions.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SHARED = Path("/work/shared/data/hotpotqa_hipporag_train100")
BIN = Path(sys.executable).parent
SEED_QUESTIONS = [
    "What has Russia offered in return?",
    "Could Trump really walk away from the peace talks?",
    "Why are container dwell times rising in European ports?",
    "What did Ukraine reject?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def records(path: Path, start: int, n: int) -> list[dict[str, str]]:
    out = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i < start:
                continue
            r = json.loads(line)
            if len(r["text"].split()) >= 25:
                out.append({"id": r["id"], "title": r.get("title") or "", "text": r["text"]})
            if len(out) == n:
                break
    return out


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] if s else float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--questions", type=int, default=25, help="questions per client")
    p.add_argument("--base", type=int, default=100, help="public records in the library at start")
    p.add_argument("--add", type=int, default=20, help="articles added during the load")
    p.add_argument("--batches", type=int, default=4, help="the additions come in this many runs")
    p.add_argument("--chroma-url", help="use a Chroma server (its collection is rebuilt)")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               GRADIO_ANALYTICS_ENABLED="False", ASSISTANT_CORPUS=str(work / "corpus"),
               ASSISTANT_INDEX=str(work / "indexes"), ASSISTANT_MODEL_CACHE=str(work / "models"))  # fmt: skip
    if args.chroma_url:
        env["ASSISTANT_CHROMA_URL"] = args.chroma_url
    assistant = str(BIN / "assistant")

    base = records(SHARED / "corpus.jsonl", 0, args.base)
    extra = records(SHARED / "corpus.jsonl", 500, args.add)
    sources = [str(DATA / n) for n in ("000_7112adcedfa7c1bb.txt", "plain_globe.txt",
                                       "html_with_nav.html", "markdown_frontmatter.md")]  # fmt: skip
    subprocess.run([assistant, "add", *sources, str(write_jsonl(work / "base.jsonl", base))],
                   env=env, check=True, capture_output=True)  # fmt: skip
    if args.chroma_url:
        subprocess.run([assistant, "index", "--rebuild"], env=env, check=True, capture_output=True)
    questions = SEED_QUESTIONS + [
        json.loads(line)["question"] for line in (SHARED / "questions.jsonl").open()
    ]

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (work / "serve.log").open("w")
    server = subprocess.Popen([assistant, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(
                        f"the app exited: {(work / 'serve.log').read_text()}"
                    ) from None
                time.sleep(0.5)
        else:
            raise SystemExit("the app did not start within 180 s")
        from gradio_client import Client

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        start_gate = threading.Barrier(args.clients + 1)

        def client_run(c: int) -> None:
            try:
                client = Client(url, verbose=False)
            except Exception as e:
                with lock:
                    errors.append(f"client {c}: connect: {e}")
                start_gate.wait()
                return
            start_gate.wait()
            for i in range(args.questions):
                q = questions[(c * args.questions + i) % len(questions)]
                t = time.perf_counter()
                try:
                    ans = client.predict(q, api_name="/ask")
                    if isinstance(ans, str):
                        ans = json.loads(ans)
                    assert "answer" in ans and "citations" in ans
                except Exception as e:
                    with lock:
                        errors.append(f"client {c} q{i}: {type(e).__name__}: {e}"[:300])
                    continue
                with lock:
                    latencies.append(time.perf_counter() - t)

        threads = [threading.Thread(target=client_run, args=(c,)) for c in range(args.clients)]
        for t in threads:
            t.start()
        start_gate.wait()
        began = time.perf_counter()
        add_report = []
        per = max(1, len(extra) // args.batches)
        for b in range(0, len(extra), per):
            time.sleep(2)
            t = time.perf_counter()
            done = subprocess.run([assistant, "add", str(write_jsonl(work / f"add{b}.jsonl", extra[b : b + per]))],
                                  env=env, capture_output=True, text=True)  # fmt: skip
            add_report.append(
                (done.returncode, done.stdout.count(" added"), time.perf_counter() - t)
            )
        for t in threads:
            t.join()
        wall = time.perf_counter() - began

        # every added article: found by the running app, and by a fresh process
        client = Client(url, verbose=False)
        found_web = 0
        for r in extra:
            q = " ".join(r["text"].split()[:20])
            ans = client.predict(q, None, None, None, None, None, 10, api_name="/ask")
            found_web += any(c["article_id"] == r["id"] for c in ans["citations"])
        check = subprocess.run(
            [sys.executable, "-c", (
                "import json,sys\nfrom assistant.api import Assistant\nfrom assistant.settings import Settings\n"
                "a=Assistant(Settings.from_env()); rs=json.loads(sys.stdin.read())\n"
                "print(sum(any(p.article_id==r['id'] for p in a.passages(' '.join(r['text'].split()[:20]),k=10)) for r in rs))"
            )], input=json.dumps(extra), env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    n = len(latencies) + len(errors)
    mode = f"Chroma server {args.chroma_url}" if args.chroma_url else "embedded Chroma"
    print(f"library: {len(base) + 4} articles at start, {mode}; machine: {os.cpu_count()} cores")
    print(f"{'clients':>7} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'max ms':>7} {'req/s':>6} {'wall s':>6}")  # fmt: skip
    print(f"{args.clients:>7} {n:>8} {len(errors):>6} {1000 * pct(latencies, 50):>7.0f} "
          f"{1000 * pct(latencies, 95):>7.0f} {1000 * max(latencies or [0]):>7.0f} "
          f"{len(latencies) / wall:>6.1f} {wall:>6.1f}")  # fmt: skip
    if latencies:
        print(f"mean {1000 * statistics.mean(latencies):.0f} ms")
    for i, (rc, added, secs) in enumerate(add_report, 1):
        print(f"add run {i}: exit {rc}, {added} added, {secs:.1f} s (during the load)")
    print(f"added during the load: {len(extra)}; found afterwards by the running app: {found_web}; "
          f"by a fresh process: {check}")  # fmt: skip
    for e in errors[:10]:
        print("error:", e)
    ok = (
        not errors
        and found_web == len(extra) == int(check)
        and all(rc == 0 for rc, _, _ in add_report)
    )
    print("RESULT:", "load held, nothing lost" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
