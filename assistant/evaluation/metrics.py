"""Batch evaluation: run a question set, score every answer, summarise, compare runs.

Per question (``question_metrics``) and over the set (``summarise``), following docs/interfaces.md:

- a gold item is **found** by a citation when the citation is from that article (id-only items) or
  the normalised quote occurs in the citation's normalised ``passage`` (items with a quote);
- ``rank`` is the 1-based place of the first citation that finds any gold item;
- ``hit@k``, ``mrr`` and ``recall@5`` are averaged over answerable questions that have gold
  evidence, counting the citations even when the answer was refused (a refused answer still shows
  its nearest passages, so these stay pure retrieval measures; ``false_refusals`` measures refusal);
- ``source_recall``: for questions whose gold evidence lies in two or more articles, the share of
  those articles found among the citations (a citation from the article, or one whose passage
  holds one of the article's gold quotes), averaged;
- ``citation_precision`` pools the citations of all answered (not refused) questions;
- ``answer_match``: a normalised reference answer occurs in the normalised answer text (citation
  markers removed) or in one of the cited quotes; a refused answer never matches.

A question whose ``ask`` raised is kept with verdict ``error`` and counted as a miss (and, if it
was unanswerable, as not refused), so a crashing system never scores better than a wrong one.

Gold evidence the library cannot hold — an article id it does not have, or a quote that is not in
the article the same item names — can never be found: ``gold_problems`` names it before a run, so
that bad gold data is told apart from misses (the metrics are scored as always).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import random
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError, InputError, NotFoundError
from assistant.evaluation.questions import Gold, Question
from assistant.text import normalise
from assistant.types import MARKER

SHARE_KEYS = ("hit@1", "hit@3", "hit@5", "mrr", "recall@5", "source_recall", "citation_precision",
              "refusal_accuracy", "false_refusals", "answer_match")  # fmt: skip
LATENCY_KEYS = ("latency_ms_p50", "latency_ms_p95")
GENERATION_KEYS = ("verification_rate", "fallback_rate")  # only in runs of generated answers


def finds(gold: Gold, citation: dict[str, Any]) -> bool:
    """True when ``citation`` finds the gold item (the contract's "found" rule).

    An item with a quote is found by its quote alone, even when it also names an article:
    article ids can differ between corpora (the same text imported twice, or re-imported with
    another id), while the quote is what actually supports the answer.
    """
    if gold.quote:
        return normalise(gold.quote) in normalise(citation.get("passage") or "")
    return gold.article is not None and citation.get("article_id") == gold.article


def source_recall(q: Question, citations: list[dict[str, Any]]) -> float | None:
    """Share of the question's gold articles found among the citations; None under two articles.

    Gold items are grouped by article (an item without one is a source of its own); an article
    is found by a citation from it, or by a citation whose passage holds one of its quotes.
    """
    sources: dict[str, list[Gold]] = {}
    for g in q.evidence:
        sources.setdefault(g.article or f"quote:{g.quote}", []).append(g)
    if len(sources) < 2:
        return None
    found = sum(
        any(
            (g.article is not None and c.get("article_id") == g.article) or finds(g, c)
            for g in items
            for c in citations
        )
        for items in sources.values()
    )
    return found / len(sources)


def question_metrics(q: Question, answer: dict[str, Any]) -> dict[str, Any]:
    """The per-question metrics and verdict for one answer object (see the module docstring)."""
    citations = list(answer.get("citations") or [])
    refused = bool(answer.get("refused"))
    hits = [[finds(g, c) for g in q.evidence] for c in citations]  # hits[citation][gold item]
    found_by = [c.get("n", i + 1) for i, c in enumerate(citations) if any(hits[i])]
    rank = next((i + 1 for i, h in enumerate(hits) if any(h)), None)
    scored = q.answerable and bool(q.evidence)  # retrieval metrics need gold to look for

    m: dict[str, Any] = {"rank": rank, "found_by": found_by, "n_citations": len(citations)}
    m["refused"] = refused
    m["gold_found"] = [any(h[j] for h in hits) for j in range(len(q.evidence))]
    for k in (1, 3, 5):
        m[f"hit@{k}"] = (rank is not None and rank <= k) if scored else None
    m["rr"] = (1 / rank if rank else 0.0) if scored else None
    if scored:
        top = hits[:5]
        found = sum(any(h[j] for h in top) for j in range(len(q.evidence)))
        m["recall@5"] = found / len(q.evidence)
    else:
        m["recall@5"] = None
    m["source_recall"] = source_recall(q, citations) if scored else None
    gold_known = bool(q.evidence) or not q.answerable
    if refused or not citations or not gold_known:
        m["citation_precision"] = None
    else:
        m["citation_precision"] = len(found_by) / len(citations)
    m["answer_match"] = _answer_match(q, answer, refused) if q.answerable and q.answer else None
    m["verdict"] = _verdict(q, refused, rank)
    return m


def _answer_match(q: Question, answer: dict[str, Any], refused: bool) -> bool:
    """True when a reference answer occurs in the answer text or in a cited quote."""
    if refused:
        return False
    texts = [MARKER.sub(" ", answer.get("answer") or "")]
    texts += [c.get("quote") or "" for c in answer.get("citations") or []]
    haystacks = [normalise(t) for t in texts]
    return any(normalise(ref) in h for ref in q.answer for h in haystacks)


def _verdict(q: Question, refused: bool, rank: int | None) -> str:
    """One of: found at rank r, missed, wrongly refused, wrongly answered, correctly refused."""
    if not q.answerable:
        return "correctly refused" if refused else "wrongly answered"
    if refused:
        return "wrongly refused"
    if not q.evidence:
        return "answered (no gold)"
    return f"found at rank {rank}" if rank else "missed"


def gold_problems(
    questions: Iterable[Question],
    has_article: Callable[[str], bool],
    article_text: Callable[[str], str | None],
) -> dict[str, list[str]]:
    """What each question's gold evidence names that the library does not hold, by question id
    (questions without such gold left out): an article id not in it, and a quote not in the
    article its item names. ``has_article`` and ``article_text`` (None when it cannot be read)
    are asked once per article; quotes without an article are not looked for (that would mean
    reading the whole library)."""
    has = functools.cache(has_article)
    text_of = functools.cache(
        lambda aid: None if (t := article_text(aid)) is None else normalise(t)
    )
    problems: dict[str, list[str]] = {}
    for q in questions:
        said = [p for g in q.evidence if (p := _gold_problem(g, has, text_of)) is not None]
        if said:
            problems[q.id] = list(dict.fromkeys(said))
    return problems


def _gold_problem(
    g: Gold, has_article: Callable[[str], bool], text_of: Callable[[str], str | None]
) -> str | None:
    """Why the library cannot hold gold item ``g``, or None when it can (or cannot tell)."""
    if g.article is None:
        return None
    if not has_article(g.article):
        return f"gold article {g.article!r} is not in the library"
    text = text_of(g.article) if g.quote else None
    if g.quote is None or text is None or normalise(g.quote) in text:
        return None  # an article in the index that cannot be read is the library's to report
    return f"gold quote {_short(g.quote)!r} is not in article {g.article!r}"


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def summarise(
    results: list[dict[str, Any]],
    settings_description: dict[str, Any],
    gold_not_in_library: int | None = None,
) -> dict:
    """The summary.json object: the contract's metrics, ``errors``, ``settings`` and ``created``
    (and ``gold_not_in_library`` when the gold was checked against the library)."""
    ms = [r["metrics"] for r in results]
    answerable = [r["metrics"] for r in results if r["answerable"]]
    # answerable with gold evidence, and every question that failed: a failure is a miss
    scored = [m for m in answerable if m.get("gold_found") or m["verdict"] == "error"]
    unanswerable = [r["metrics"] for r in results if not r["answerable"]]
    s: dict[str, Any] = {"questions": len(results), "answerable": len(answerable)}
    s["errors"] = sum(m["verdict"] == "error" for m in ms)
    if gold_not_in_library is not None:
        s["gold_not_in_library"] = gold_not_in_library
    for k in ("hit@1", "hit@3", "hit@5"):
        s[k] = _mean(bool(m[k]) for m in scored)
    s["mrr"] = _mean(m["rr"] or 0.0 for m in scored)
    s["recall@5"] = _mean(m["recall@5"] or 0.0 for m in scored)
    s["source_recall"] = _mean(m["source_recall"] for m in ms if m.get("source_recall") is not None)
    answered = [m for m in ms if m["citation_precision"] is not None]
    cited = sum(m["n_citations"] for m in answered)
    s["citation_precision"] = (
        _round(sum(len(m["found_by"]) for m in answered) / cited) if cited else None
    )
    s["refusal_accuracy"] = _mean(m["refused"] for m in unanswerable)
    s["false_refusals"] = _mean(m["refused"] for m in answerable)
    s["answer_match"] = _mean(m["answer_match"] for m in ms if m["answer_match"] is not None)
    latencies = sorted(r["latency_ms"] for r in results if r.get("latency_ms") is not None
                       and "error" not in r)  # fmt: skip
    s["latency_ms_p50"] = _percentile(latencies, 50)
    s["latency_ms_p95"] = _percentile(latencies, 95)
    s.update(generation_summary(results))
    s["settings"] = settings_description
    s["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return s


def generation_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """For generated answers: how much of what the model wrote survived verification.

    ``verification_rate``: share of generated statements verified; ``fallback_rate``: share of
    answers that fell back (to the extractive answer, or to the refusal without asking the
    model). Empty when no answer was generated, so extractive runs keep their summary as is.
    """
    gen = [r for r in results if r.get("generated")]
    if not gen:
        return {}
    statements = [s for r in gen for s in r.get("statements") or []]
    return {
        "generated_answers": len(gen),
        "generated_statements": len(statements),
        "verification_rate": _mean(bool(s.get("verified")) for s in statements),
        "fallback_rate": _mean(r.get("fallback") is not None for r in gen),
        "fallback_extractive": sum(r.get("fallback") == "extractive" for r in gen),
        "fallback_refusal": sum(r.get("fallback") == "refusal" for r in gen),
    }


def _round(x: float) -> float:
    return round(x, 4)


def _mean(values: Iterable[float | bool]) -> float | None:
    """The mean rounded to 4 places, or None for no values."""
    vals = [float(v) for v in values]
    return _round(sum(vals) / len(vals)) if vals else None


def _percentile(sorted_values: list[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation (numpy's default), or None for no values."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return round(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo), 1)


def run_eval(
    ask: Callable[[Question], dict[str, Any]],
    questions: list[Question],
    out_dir: Path,
    settings_description: dict[str, Any],
    progress: Callable[[int, str], Any] | None = None,
    gold_not_in_library: int | None = None,
) -> dict[str, Any]:
    """The summary of a run; writes results.jsonl (as it goes), summary.json and report.html.

    ``progress(total, desc)`` may return a tqdm-like bar (``update(n)``, ``close()``);
    ``gold_not_in_library``: how many questions ``gold_problems`` found, for the summary.
    """
    from assistant.evaluation.report import render_report

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} is a file: name a folder (new or an earlier run).")
    # written to a temporary folder and moved into place at the end: an interrupted run leaves
    # nothing half-written, and an earlier run in the same folder stays whole until then
    if out_dir.is_dir():
        work = Path(tempfile.mkdtemp(dir=out_dir, prefix=".partial-"))
    else:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.partial-"))
    bar = progress(len(questions), "Evaluating") if progress else None
    results = []
    try:
        with (work / "results.jsonl").open("w", encoding="utf-8") as f:
            for q in questions:
                results.append(_run_one(ask, q))
                f.write(json_line(results[-1]) + "\n")
                f.flush()
                if bar:
                    bar.update(1)
        summary = summarise(results, settings_description, gold_not_in_library)
        text = json.dumps(summary, indent=2) + "\n"
        (work / "summary.json").write_text(text, encoding="utf-8")
        (work / "report.html").write_text(render_report(summary, results), encoding="utf-8")
        _swap_in(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if bar:
            bar.close()
    return summary


def _swap_in(work: Path, out_dir: Path) -> None:
    """Put the finished run ``work`` at ``out_dir``: the folder renamed when new, else its
    files, one atomic rename each (other files in the folder are left alone), summary last."""
    if work.parent != out_dir:
        os.replace(work, out_dir)
        return
    for name in ("results.jsonl", "report.html", "summary.json"):
        os.replace(work / name, out_dir / name)
    shutil.rmtree(work, ignore_errors=True)


def json_line(record: dict[str, Any]) -> str:
    """One JSON line that any file takes: ASCII escapes when the text holds what UTF-8 cannot
    (a lone surrogate from a question set's "\\udcff"), so a line is never half-written."""
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record)
    return line


def failed_questions(run_dir: Path) -> list[tuple[str, str]]:
    """(id, error message) of every question of a run that failed with an error."""
    _, results = _load_run(run_dir)
    return [(qid, r["error"]["message"]) for qid, r in results.items() if r.get("error")]


def _run_one(ask: Callable[[Question], dict[str, Any]], q: Question) -> dict[str, Any]:
    """One results.jsonl record: id, the answer object, answerable, gold, references, metrics."""
    started = time.perf_counter()
    try:
        answer = ask(q)
        if hasattr(answer, "to_dict"):
            answer = answer.to_dict()
        error = None
    except AssistantError as e:
        error, answer = {"message": str(e), "type": type(e).__name__}, {}
    except Exception as e:  # a bug: keep the traceback in the results, go on with the rest
        error = {"message": f"{type(e).__name__}: {e}", "type": type(e).__name__,
                 "traceback": traceback.format_exc()}  # fmt: skip
        answer = {}
    if error:
        answer = {"question": q.question, "answer": "", "refused": False, "citations": [],
                  "latency_ms": round((time.perf_counter() - started) * 1000, 1)}  # fmt: skip
    # fields of the question set the format does not define come along (defined ones win)
    record = {**q.extra, "id": q.id, "question": q.question, **answer, "answerable": q.answerable}
    record["gold"] = [asdict(g) for g in q.evidence]
    if q.answer:
        record["reference_answers"] = list(q.answer)
    metrics = question_metrics(q, answer)
    if error:
        record["error"] = error
        metrics.update(verdict="error", citation_precision=None, answer_match=None)
        if q.answer and q.answerable:
            metrics["answer_match"] = False
    record["metrics"] = metrics
    return record


def _load_run(run: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(summary, results by id) of a run directory (or of its summary.json)."""
    run = Path(run)
    run_dir = run.parent if run.is_file() else run
    summary_path, results_path = run_dir / "summary.json", run_dir / "results.jsonl"
    if not summary_path.is_file():
        raise NotFoundError(f"No summary.json in {run_dir}: is it an `assistant eval` output?")
    redo = "it is not a whole run; run `assistant eval` again"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"{summary_path} cannot be read ({e}): {redo}.") from None
    results: dict[str, dict[str, Any]] = {}
    if results_path.is_file():
        lines = results_path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    r = json.loads(line)
                    results[str(r["id"])] = r
                except (ValueError, KeyError, TypeError):
                    raise InputError(
                        f"{results_path} line {number} is cut off or not a result: {redo}."
                    ) from None
    if not isinstance(summary, dict) or len(results) != summary.get("questions"):
        raise InputError(
            f"{run_dir} holds {len(results)} results but its summary counts "
            f"{summary.get('questions') if isinstance(summary, dict) else 'none'}: {redo}."
        )
    return summary, results


def check_comparable(run: Path, ids: set[str], other: str) -> None:
    """Nothing when ``run`` is a whole run of (mostly) the questions ``ids``; InputError saying
    why not otherwise (incomplete, cut off, or a run of another question set)."""
    _, results = _load_run(run)
    shared = len(results.keys() & ids)
    if shared * 2 < max(len(results), len(ids)):  # an edited set still compares
        raise InputError(
            f"{run} is a run of another question set than {other} ({shared} of their "
            f"{len(results)} and {len(ids)} question ids are shared). Compare runs of one set."
        )


def _fmt(value: Any, latency: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if latency else f"{value:.3f}"


# The per-question value behind each metric the interval is given for: (which questions, value)
_PER_QUESTION: dict[str, tuple[str, Callable[[dict[str, Any]], float]]] = {
    "hit@1": ("scored", lambda m: float(bool(m["hit@1"]))),
    "hit@5": ("scored", lambda m: float(bool(m["hit@5"]))),
    "mrr": ("scored", lambda m: float(m["rr"] or 0.0)),
    "refusal_accuracy": ("unanswerable", lambda m: float(m["refused"])),
    "false_refusals": ("answerable", lambda m: float(m["refused"])),
}
BOOTSTRAP_DRAWS = 2000


def _counts_in(kind: str, record: dict[str, Any]) -> bool:
    m = record["metrics"]
    if kind == "unanswerable":
        return not record["answerable"]
    if kind == "answerable":
        return bool(record["answerable"])
    return bool(record["answerable"]) and (bool(m.get("gold_found")) or m["verdict"] == "error")


def paired_interval(
    key: str, old: dict[str, dict], new: dict[str, dict]
) -> tuple[float, float] | None:
    """A 95% paired-bootstrap interval of metric ``key``'s change from run ``old`` to ``new``,
    over the questions both runs scored (None when the metric has no per-question value or
    fewer than 10 questions share it). Resampled questions, fixed seed: the same runs always
    give the same interval. An interval holding 0 says the change may be chance."""
    if key not in _PER_QUESTION:
        return None
    kind, value = _PER_QUESTION[key]
    diffs = [value(new[q]["metrics"]) - value(old[q]["metrics"]) for q in sorted(old.keys() & new.keys())
             if _counts_in(kind, old[q]) and _counts_in(kind, new[q])]  # fmt: skip
    if len(diffs) < 10:
        return None
    return bootstrap_interval([[d] for d in diffs])


def bootstrap_interval(
    groups: Sequence[Sequence[float]], draws: int = BOOTSTRAP_DRAWS
) -> tuple[float, float]:
    """The 95% bootstrap interval of the mean of the values, resampling whole groups (questions
    on one piece rise and fall together; one value a group resamples questions). Fixed seed."""
    rng, means = random.Random(0), []
    for _ in range(draws):
        pick = rng.choices(groups, k=len(groups))
        means.append(sum(sum(g) for g in pick) / max(1, sum(len(g) for g in pick)))
    means.sort()
    return means[int(0.025 * draws)], means[int(0.975 * draws) - 1]


def compare(run_a: Path, run_b: Path) -> str:
    """Text: each metric old → new with its change (and, for the per-question metrics, a 95%
    paired-bootstrap interval of the change), then the questions whose verdict changed."""
    (sa, ra), (sb, rb) = _load_run(run_a), _load_run(run_b)
    check_comparable(run_a, set(rb), str(run_b))
    lines = [f"{'metric':<20}{'old':>10}{'new':>10}{'change':>10}   95% interval of the change"]
    for key in ("questions", "answerable", *SHARE_KEYS, *LATENCY_KEYS):
        a, b, lat = sa.get(key), sb.get(key), key in LATENCY_KEYS
        interval = ""
        if key in ("questions", "answerable"):
            old, new = str(a), str(b)
            change = f"{b - a:+d}" if isinstance(a, int) and isinstance(b, int) and a != b else ""
        else:
            old, new = _fmt(a, lat), _fmt(b, lat)
            change = "" if a is None or b is None else (f"{b - a:+.1f}" if lat else f"{b - a:+.3f}")
            if (ci := paired_interval(key, ra, rb)) is not None:
                interval = f"   {ci[0]:+.3f} to {ci[1]:+.3f}"
        lines.append(f"{key:<20}{old:>10}{new:>10}{change:>10}{interval}".rstrip())
    changed = []
    for qid, new_r in rb.items():
        old_r = ra.get(qid)
        old_v = old_r["metrics"]["verdict"] if old_r else "(not in old run)"
        if old_v != new_r["metrics"]["verdict"]:
            new_v = new_r["metrics"]["verdict"]
            changed.append(f"  {qid}: {old_v} → {new_v}  {new_r['question']}")
    changed += [f"  {qid}: {r['metrics']['verdict']} → (not in new run)  {r['question']}"
                for qid, r in ra.items() if qid not in rb]  # fmt: skip
    lines.append("")
    lines.append(
        "(An interval that holds 0 means the change may be chance on this many questions.)"
    )
    lines.append(f"Verdict changes: {len(changed)} of {len(rb)} questions")
    return "\n".join(lines + changed)


def summary_table(summary: dict[str, Any]) -> str:
    """A fixed-width terminal table of a summary's metrics."""
    head = f"{summary['questions']} questions, {summary['answerable']} answerable"
    if summary.get("errors"):
        head += f", {summary['errors']} FAILED with an error (see results.jsonl)"
    if bad := summary.get("gold_not_in_library"):
        head += f", {bad} with gold evidence not in the library (see the warnings)"
    rows = [(k, _fmt(summary.get(k))) for k in SHARE_KEYS]
    rows += [(k, _fmt(summary.get(k))) for k in GENERATION_KEYS if k in summary]
    rows += [(k, _fmt(summary.get(k), latency=True)) for k in LATENCY_KEYS]
    width = max(len(k) for k, _ in rows)
    rule = "─" * (width + 12)
    body = [f"{k:<{width}}  {v:>10}" for k, v in rows]
    return "\n".join([head, rule, *body, rule])
