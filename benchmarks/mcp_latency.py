"""Latency of an ``ask`` through the MCP server over stdio against the CLI, on one library.

    .venv/bin/python benchmarks/mcp_latency.py                 # 300 news articles + the seed
    .venv/bin/python benchmarks/mcp_latency.py --articles 50 --questions 5

The CLI pays its start-up (imports, model load, opening the index) on every question; the MCP
server pays it once, when the agent starts it, and then answers over its open pipe. Reported:
wall time per question seen by the caller (a new ``assistant ask --json`` process; one
``call_tool("ask")`` round trip), the library's own ``latency_ms`` inside each, and the
server's start-up until ``initialize`` returns. Questions: the seed's and the first of
../shared/data/realtimeqa_2022_dev/questions.jsonl (the library holds their articles).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATA, ROOT, SEED_RAW

WORK = Path("/tmp/assistant-bench/mcp-latency")
SEED_QUESTION = "What has Russia offered in return?"


def env_for(work: Path) -> dict[str, str]:
    return {
        **os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False", "ASSISTANT_CORPUS": str(work / "corpus"),
        "ASSISTANT_INDEX": str(work / "indexes"),
        "ASSISTANT_MODEL_CACHE": os.environ.get("ASSISTANT_MODEL_CACHE", "/tmp/assistant-perf/models"),
    }  # fmt: skip


def build(work: Path, n: int) -> list[str]:
    """The library (built once per size) and the questions to ask of it."""
    records = DATA / "realtimeqa_2022_dev" / "corpus.jsonl"
    lines = records.read_text(encoding="utf-8").splitlines()[:n]
    if not (work / "corpus").exists():
        work.mkdir(parents=True, exist_ok=True)
        (work / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        cmd = [
            sys.executable,
            "-m",
            "assistant.cli",
            "add",
            "--force",
            str(work / "articles.jsonl"),
            str(SEED_RAW),
        ]
        subprocess.run(cmd, env=env_for(work), check=False, stdout=subprocess.DEVNULL)
    ids = {json.loads(line).get("id") for line in lines}
    questions = [SEED_QUESTION]
    for line in (DATA / "realtimeqa_2022_dev" / "questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        gold = [e.get("article") if isinstance(e, dict) else e for e in q.get("evidence", [])]
        if any(g in ids for g in gold):
            questions.append(q["question"])
    return questions


def cli_ask(work: Path, question: str) -> tuple[float, float]:
    """(wall ms of ``assistant ask --json``, the answer's latency_ms)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", question, "--json"],
        env=env_for(work), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return (time.perf_counter() - started) * 1000, json.loads(out)["latency_ms"]


async def mcp_asks(work: Path, questions: list[str], reps: int) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "assistant.cli", "mcp"], env=env_for(work)
    )
    started = time.perf_counter()
    rounds: list[list[tuple[float, float]]] = []
    with open(work / "server.log", "w") as log:
        async with stdio_client(params, errlog=log) as (r, w), ClientSession(r, w) as session:
            await session.initialize()
            startup = (time.perf_counter() - started) * 1000
            for _ in range(reps):
                got = []
                for q in questions:
                    t = time.perf_counter()
                    result = await session.call_tool("ask", {"question": q})
                    assert not result.is_error, result.content
                    got.append(
                        ((time.perf_counter() - t) * 1000, result.structured_content["latency_ms"])
                    )
                rounds.append(got)
    return {"startup_ms": startup, "rounds": rounds}


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument(
        "--reps", type=int, default=2, help="MCP passes over the questions (first: cold)"
    )
    args = ap.parse_args()
    work = WORK / f"n{args.articles}"
    questions = build(work, args.articles)[: args.questions]
    mcp = asyncio.run(mcp_asks(work, questions, args.reps))
    cli = [cli_ask(work, q) for q in questions]
    first, warm = mcp["rounds"][0], [x for r in mcp["rounds"][1:] for x in r]
    rows = [
        (
            "CLI `assistant ask --json` (new process each)",
            [w for w, _ in cli],
            [lat for _, lat in cli],
        ),
        ("MCP stdio, first pass (model warming)", [w for w, _ in first], [lat for _, lat in first]),
        ("MCP stdio, later passes", [w for w, _ in warm], [lat for _, lat in warm]),
    ]
    print(f"library: {args.articles} articles + the seed; {len(questions)} questions; "
          f"MCP server start-up to initialize: {mcp['startup_ms']:.0f} ms")  # fmt: skip
    print(
        "\n| caller | asks | wall p50 ms | wall p95 ms | latency_ms p50 (inside) | wall − inside p50 ms |"
    )
    print("|---|---|---|---|---|---|")
    for name, wall, inside in rows:
        if wall:
            extra = [w - i for w, i in zip(wall, inside, strict=True)]
            print(f"| {name} | {len(wall)} | {p(wall, 50):.0f} | {p(wall, 95):.0f} | "
                  f"{p(inside, 50):.0f} | {p(extra, 50):.0f} |")  # fmt: skip
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")


if __name__ == "__main__":
    main()
