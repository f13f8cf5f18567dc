"""Fit the support model (assistant/support_model.json): when does the evidence answer?

    .venv/bin/python benchmarks/fit_support.py            # collect signals, cross-validate, write
    .venv/bin/python benchmarks/fit_support.py --dry-run  # report only

Every development set is asked through the real pipeline (libraries as benchmarks/quality.py
builds them, reused); for each question the signals of the evidence the answer would rest on
are recorded (support.py lists them). A logistic regression separates answerable questions
from unanswerable ones; its threshold is chosen on cross-validated predictions so that at most
``--max-false-refusals`` of the answerable questions are refused, then folded into the bias
(``support >= 0.5`` answers). Sets are weighted equally, so the 100-question public sets do not
drown the news.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer import support
from assistant.answer.metadata import metadata_kind
from benchmarks.common import load_set
from benchmarks.quality import build_ours

SETS = ("news", "commentary", "commentary-tune", "seed-news", "hotpotqa", "rgb")
MODEL = Path(__file__).resolve().parent.parent / "assistant" / "answer" / "support_model.json"


def collect(work: Path, sets: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per question: set, id, answerable, the decisive evidence's signals."""
    seen: list[dict[str, float]] = []
    original = support.SupportModel.support

    def recording(self: support.SupportModel, signals: dict[str, float]) -> float:
        seen.append(dict(signals))
        return original(self, signals)

    support.SupportModel.support = recording  # type: ignore[method-assign]
    rows = []
    try:
        for name in sets:
            es = load_set(name)
            a = build_ours(es, work / es.library / "ours", {})
            for q in es.questions:
                if metadata_kind(q.question) or q.mode:
                    continue  # answered from the article's metadata, or one entry per article
                seen.clear()
                answer = a.ask(q.question, k=5, mode="answer" if q.mode else None, as_of=q.as_of)
                if not seen or answer.support == 0.0:
                    continue  # nothing retrieved, or vetoed: a year that clashes (support.py)
                rows.append(
                    {"set": name, "id": q.id, "answerable": q.answerable, "signals": seen[0],
                     "support": answer.support}
                )  # fmt: skip
            a.close()
    finally:
        support.SupportModel.support = original  # type: ignore[method-assign]
    return rows


def fit(rows: list[dict[str, Any]], c: float) -> tuple[list[float], float]:
    from sklearn.linear_model import LogisticRegression

    x = [[r["signals"][f] for f in support.FEATURES] for r in rows]
    y = [int(r["answerable"]) for r in rows]
    # both classes weigh the same in total (unanswerable questions are the fewer); weights average 1
    n_pos = sum(y)
    w = [len(y) / (2 * n_pos) if label else len(y) / (2 * (len(y) - n_pos)) for label in y]
    model = LogisticRegression(C=c, max_iter=2000).fit(x, y, sample_weight=w)
    return [float(v) for v in model.coef_[0]], float(model.intercept_[0])


def score(weights: list[float], bias: float, signals: dict[str, float]) -> float:
    z = bias + sum(w * signals[f] for w, f in zip(weights, support.FEATURES, strict=True))
    return z


def cross_validated(rows: list[dict[str, Any]], c: float, folds: int = 5) -> list[float]:
    """Each question's score from a model fitted without its fold."""
    out = [0.0] * len(rows)
    for k in range(folds):
        train = [r for i, r in enumerate(rows) if i % folds != k]
        weights, bias = fit(train, c)
        for i, r in enumerate(rows):
            if i % folds == k:
                out[i] = score(weights, bias, r["signals"])
    return out


def report(rows: list[dict[str, Any]], z: list[float], threshold: float) -> str:
    lines = ["| set | answerable refused | unanswerable refused |", "|---|---|---|"]
    for name in sorted({r["set"] for r in rows}):
        pos = [s for r, s in zip(rows, z, strict=True) if r["set"] == name and r["answerable"]]
        neg = [s for r, s in zip(rows, z, strict=True) if r["set"] == name and not r["answerable"]]
        fr = sum(s < threshold for s in pos) / len(pos) if pos else math.nan
        ur = sum(s < threshold for s in neg) / len(neg) if neg else math.nan
        lines.append(f"| {name} | {fr:.3f} ({len(pos)}) | {ur:.3f} ({len(neg)}) |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--work", default="/tmp/assistant-bench")
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    p.add_argument("--max-false-refusals", type=float, default=0.02)
    p.add_argument("--signals", help="read (or write, when missing) the collected signals here")
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args()
    cache = Path(args.signals) if args.signals else None
    if cache and cache.exists():
        rows = json.loads(cache.read_text())
    else:
        rows = collect(Path(args.work), tuple(args.sets.split(",")))
        if cache:
            cache.write_text(json.dumps(rows))
    rows = [r for r in rows if not r["signals"].get("clash")]  # vetoed (support.py): not fitted
    for r in rows:
        r["signals"] = {f: r["signals"].get(f, 0.0) for f in support.FEATURES}
    z = cross_validated(rows, args.c)
    pos = sorted(s for r, s in zip(rows, z, strict=True) if r["answerable"])
    threshold = pos[int(args.max_false_refusals * len(pos))]  # refuse below
    print(f"{len(rows)} questions; cross-validated, refusing below {threshold:.3f}:")
    print(report(rows, z, threshold))
    weights, bias = fit(rows, args.c)
    print("weights:", dict(zip(support.FEATURES, [round(w, 3) for w in weights], strict=True)),
          "bias", round(bias, 3))  # fmt: skip
    final = [score(weights, bias, r["signals"]) for r in rows]
    print("fitted on everything, same threshold:")
    print(report(rows, final, threshold))
    if not args.dry_run:
        MODEL.write_text(
            json.dumps(
                {
                    "fitted_by": "benchmarks/fit_support.py",
                    "sets": sorted({r["set"] for r in rows}),
                    "questions": len(rows),
                    "c": args.c,
                    "max_false_refusals": args.max_false_refusals,
                    "weights": dict(zip(support.FEATURES, weights, strict=True)),
                    "bias": bias - threshold,  # support >= 0.5 answers
                },
                indent=2,
            )
            + "\n"
        )
        print(f"wrote {MODEL}")


if __name__ == "__main__":
    main()
