"""The evaluation report: one self-contained HTML file (inline CSS and SVG, no scripts, no URLs).

Every piece of text that comes from a question set, an answer or an article goes through
``html.escape``: articles are arbitrary web pages and may hold ``<script>``. Article URLs are
shown as text, never as links, so opening a report fetches nothing.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

METRICS = [
    ("hit@1", "answerable questions with gold evidence in the first citation"),
    ("hit@3", "… in the first 3 citations"),
    ("hit@5", "… in the first 5 citations"),
    ("mrr", "mean of 1 / rank of the first citation that finds gold"),
    ("recall@5", "share of a question's gold items found in the first 5 citations"),
    ("source_recall", "questions with gold in 2+ articles: share of those articles cited"),
    ("citation_precision", "share of citations, over answered questions, that find gold"),
    ("refusal_accuracy", "share of unanswerable questions refused"),
    ("false_refusals", "share of answerable questions refused (lower is better)"),
    ("answer_match", "reference answer in the answer text or a cited quote"),
    ("latency_ms_p50", "median time to answer (ms)"),
    ("latency_ms_p95", "95th percentile time to answer (ms)"),
]
GOOD, WARN, BAD, INFO, GREY = "#1a7f37", "#b35900", "#c62828", "#1f5fa8", "#6b7280"
CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1f2328;background:#f6f7f9;margin:0}
main{max-width:1080px;margin:0 auto;padding:24px 20px 60px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 12px;
 border-bottom:1px solid #d8dce1;padding-bottom:4px}h3{font-size:16px;margin:6px 0 8px}
.muted{color:#6b7280;font-size:13px}.card{background:#fff;border:1px solid #e1e4e8;
 border-radius:8px;padding:14px 18px;margin:12px 0}
table{border-collapse:collapse;width:100%}td,th{padding:5px 8px;text-align:left;
 border-bottom:1px solid #eef0f2;vertical-align:top}th{font-weight:600;color:#57606a;font-size:13px}
td.num{text-align:right;font-variant-numeric:tabular-nums;font-weight:600;width:90px}
.plots{display:grid;grid-template-columns:1fr 1fr;gap:12px}.wide{grid-column:1 / -1}
.plots .card{margin:0}.plots h3{margin-top:0}
.badge{display:inline-block;color:#fff;border-radius:10px;padding:1px 9px;font-size:12px;
 font-weight:600;white-space:nowrap}
.answer{background:#f6f8fa;border-left:3px solid #d0d7de;padding:8px 12px;margin:8px 0;
 white-space:pre-wrap}
.error{background:#fff1f0;border-left:3px solid #c62828;padding:8px 12px;white-space:pre-wrap}
ol.cites{padding-left:0;list-style:none;margin:8px 0}ol.cites li{padding:6px 10px;margin:4px 0;
 border-radius:6px;border:1px solid #eef0f2}ol.cites li.hit{background:#eefbf1;border-color:#a7e3b6}
blockquote{margin:4px 0 2px;padding-left:10px;border-left:2px solid #d0d7de;color:#353c44}
.gold li.found{color:#1a7f37}.gold li.missing{color:#b35900}
details summary{cursor:pointer;color:#57606a;font-size:13px}pre{white-space:pre-wrap;font-size:12px}
a{color:#1f5fa8;text-decoration:none}svg text{font:11px system-ui,sans-serif;fill:#57606a}
"""


def render_report(summary: dict[str, Any], results: list[dict[str, Any]]) -> str:
    """The whole report as one HTML document."""
    settings = summary.get("settings") or {}
    threshold = (settings.get("answer") or {}).get("refuse_below")
    errors = f" · {summary['errors']} errors" if summary.get("errors") else ""
    if bad := summary.get("gold_not_in_library"):
        errors += f" · {int(bad)} with gold evidence not in the library"
    head = (
        f"<h1>Evaluation report</h1><div class='muted'>{escape(str(summary.get('created', '')))}"
        f" · {summary.get('questions', 0)} questions, {summary.get('answerable', 0)} answerable"
        f"{errors}</div>"
    )
    parts = [head, "<h2>Summary</h2>", _summary_table(summary, results)]
    parts.append("<h2>Plots</h2><div class='plots'>")
    parts.append(_card("Hit@k", _hit_curve(results)))
    parts.append(_card("Latency", _latency_histogram(results)))
    parts.append(
        _card(
            "Answer score (support) and the refusal threshold",
            _support_strip(results, threshold),
            "wide",
        )
    )
    parts.append("</div><h2>Questions</h2>" + _index(results))
    parts += [_question(i, r) for i, r in enumerate(results)]
    settings_json = escape(json.dumps(settings, indent=2, ensure_ascii=False))
    parts.append(
        "<h2>Settings</h2><details><summary>settings of this run</summary>"
        f"<pre>{settings_json}</pre></details>"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Evaluation report</title><style>{CSS}</style></head><body><main>"
        + "\n".join(parts)
        + "</main></body></html>\n"
    )


def _verdict_colour(verdict: str) -> str:
    if verdict.startswith("found") or verdict == "correctly refused":
        return GOOD
    return {"missed": WARN, "wrongly refused": WARN, "wrongly answered": BAD, "error": BAD}.get(
        verdict, GREY
    )


def _badge(verdict: str) -> str:
    colour = _verdict_colour(verdict)
    return f"<span class='badge' style='background:{colour}'>{escape(verdict)}</span>"


def _card(title: str, body: str, cls: str = "") -> str:
    return f"<div class='card {cls}'><h3>{escape(title)}</h3>{body}</div>"


def _summary_table(summary: dict[str, Any], results: list[dict[str, Any]]) -> str:
    """The metrics table and a count of each verdict."""
    rows = []
    for key, meaning in METRICS:
        v = summary.get(key)
        shown = "n/a" if v is None else (f"{v:.1f}" if key.startswith("latency") else f"{v:.3f}")
        rows.append(
            f"<tr><th>{key}</th><td class='num'>{shown}</td><td class='muted'>{meaning}</td></tr>"
        )
    counts: dict[str, int] = {}
    for r in results:
        v = r["metrics"]["verdict"]
        v = "found" if v.startswith("found") else v
        counts[v] = counts.get(v, 0) + 1
    badges = " ".join(f"{_badge(v)} {n}" for v, n in sorted(counts.items(), key=lambda x: -x[1]))
    return f"<div class='card'><table>{''.join(rows)}</table><p>{badges}</p></div>"


def _el(tag: str, text: str = "", **attrs: Any) -> str:
    """An SVG element; ``stroke_width`` becomes ``stroke-width``, floats get one decimal."""
    pairs = " ".join(
        f"{k.replace('_', '-')}='{f'{v:.1f}' if isinstance(v, float) else v}'"
        for k, v in attrs.items()
    )
    return f"<{tag} {pairs}>{text}</{tag}>"


def _svg(width: int, height: int, body: str, label: str) -> str:
    return _el("svg", body, viewBox=f"0 0 {width} {height}", width="100%", role="img",
               aria_label=escape(label))  # fmt: skip


def _hit_curve(results: list[dict[str, Any]]) -> str:
    """Share of answerable questions with gold among the first k citations, k = 1..5."""
    ranks = [r["metrics"]["rank"] for r in results if r["answerable"] and r.get("gold")]
    if not ranks:
        return "<p class='muted'>No answerable questions with gold evidence.</p>"
    ys = [sum(1 for x in ranks if x is not None and x <= k) / len(ranks) for k in range(1, 6)]
    left, top, pw, ph = 40.0, 24.0, 400.0, 170.0  # room above 1.00 for its label
    pts = [(left + 20 + i * (pw - 40) / 4, top + ph * (1 - y)) for i, y in enumerate(ys)]
    body = _y_grid(left, top, pw, ph)
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    body += _el("polyline", points=line, fill="none", stroke=INFO, stroke_width=2.5)
    for k, ((x, y), v) in enumerate(zip(pts, ys, strict=True), start=1):
        body += _el("circle", cx=x, cy=y, r=4, fill=INFO)
        body += _el("text", f"{v:.2f}", x=x, y=y - 8, text_anchor="middle")
        body += _el("text", f"k={k}", x=x, y=top + ph + 18, text_anchor="middle")
    return _svg(460, 220, body, "hit at k curve")


def _y_grid(left: float, top: float, pw: float, ph: float) -> str:
    """Horizontal grid lines at 0, 0.25, ..., 1 with labels."""
    out = ""
    for i in range(5):
        y = top + ph * (1 - i / 4)
        out += _el("line", x1=left, x2=left + pw, y1=y, y2=y, stroke="#e5e7eb")
        out += _el("text", f"{i / 4:.2f}", x=left - 6, y=y + 4, text_anchor="end")
    return out


def _latency_histogram(results: list[dict[str, Any]]) -> str:
    """Counts of answers per latency bin (errors left out), with the median marked."""
    vals = sorted(r["latency_ms"] for r in results if r.get("latency_ms") is not None
                  and "error" not in r)  # fmt: skip
    if not vals:
        return "<p class='muted'>No latencies recorded.</p>"
    bins, top_v = 12, max(vals[-1], 1e-9) * 1.0001
    counts = [0] * bins
    for v in vals:
        counts[min(int(v / top_v * bins), bins - 1)] += 1
    left, top, pw, ph, bw = 34.0, 14.0, 410.0, 170.0, 410.0 / bins
    body = ""
    for i, c in enumerate(counts):
        bh, x = ph * c / max(counts), left + i * bw
        body += _el("rect", x=x + 1, y=top + ph - bh, width=bw - 2, height=bh, fill="#8fb3de", rx=2)
        if c:
            body += _el("text", str(c), x=x + bw / 2, y=top + ph - bh - 4, text_anchor="middle")
    for i in range(0, bins + 1, 3):
        label = f"{top_v * i / bins:.0f}"
        body += _el("text", label, x=left + i * bw, y=top + ph + 18, text_anchor="middle")
    median = vals[len(vals) // 2]
    mx = left + pw * median / top_v
    body += _el("line", x1=mx, x2=mx, y1=top, y2=top + ph, stroke=BAD, stroke_dasharray="4 3")
    body += _el("text", f"median {median:.0f} ms", x=mx + 4, y=top + 10, style=f"fill:{BAD}")
    body += _el("line", x1=left, x2=left + pw, y1=top + ph, y2=top + ph, stroke="#9ca3af")
    return _svg(460, 210, body, "latency histogram") + "<div class='muted'>ms per question</div>"


def _support_strip(results: list[dict[str, Any]], threshold: float | None) -> str:
    """A dot per question at its support score, in four rows, with the refusal threshold line."""
    groups = [
        ("answerable, answered", True, False, GOOD),
        ("answerable, refused", True, True, WARN),
        ("unanswerable, answered", False, False, BAD),
        ("unanswerable, refused", False, True, INFO),
    ]
    left, pw, row = 190.0, 780.0, 44.0
    bottom = row * len(groups) + 8
    body = ""
    for i in range(11):
        x = left + pw * i / 10
        body += _el("line", x1=x, x2=x, y1=6, y2=bottom, stroke="#eef0f2")
        body += _el("text", f"{i / 10:.1f}", x=x, y=bottom + 16, text_anchor="middle")
    for g, (name, answerable, refused, colour) in enumerate(groups):
        members = [
            r
            for r in results
            if "error" not in r
            and r["answerable"] == answerable
            and bool(r.get("refused")) == refused
            and r.get("support") is not None
        ]
        cy = 6 + row * g + row / 2
        body += _el("text", f"{name} ({len(members)})", x=left - 10, y=cy + 4, text_anchor="end")
        for j, r in enumerate(members):
            s = min(max(float(r["support"]), 0.0), 1.0)
            jitter = ((j * 0.6180339) % 1 - 0.5) * (row - 16)
            tip = _el(
                "title", escape(f"{r['id']}: support {float(r['support']):.3f} — {r['question']}")
            )
            body += _el("circle", tip, cx=left + pw * s, cy=cy + jitter, r=4.5, fill=colour,
                        fill_opacity=0.7)  # fmt: skip
    if threshold is not None:
        tx = left + pw * min(max(float(threshold), 0.0), 1.0)
        body += _el("line", x1=tx, x2=tx, y1=2, y2=bottom, stroke="#111827", stroke_width=1.5,
                    stroke_dasharray="6 4")  # fmt: skip
        label = f"refuse below {float(threshold):.2f}"
        body += _el("text", label, x=tx + 5, y=bottom - 2, style="fill:#111827")
    note = ("<div class='muted'>Each dot is a question at its support score (hover for the "
            "question). Answerable questions should sit right of the dashed threshold, "
            "unanswerable ones left of it.</div>")  # fmt: skip
    return _svg(1000, int(bottom) + 24, body, "support strip plot") + note


def _index(results: list[dict[str, Any]]) -> str:
    """A compact table of every question linking to its card."""
    rows = "".join(
        f"<tr><td><a href='#q-{i}'>{escape(str(r['id']))}</a></td>"
        f"<td>{_badge(r['metrics']['verdict'])}</td>"
        f"<td>{escape(r['question'])}</td></tr>"
        for i, r in enumerate(results)
    )
    head = "<tr><th>id</th><th>verdict</th><th>question</th></tr>"
    return f"<div class='card'><table>{head}{rows}</table></div>"


def _question(i: int, r: dict[str, Any]) -> str:
    """One question's card: verdict, answer, citations (gold-finding ones highlighted), gold."""
    m = r["metrics"]
    facts = ["answerable" if r["answerable"] else "unanswerable"]
    if r.get("refused"):
        facts.append("refused")
    if r.get("support") is not None:
        facts.append(f"support {float(r['support']):.3f}")
    if r.get("latency_ms") is not None:
        facts.append(f"{float(r['latency_ms']):.0f} ms")
    out = [f"<article class='card' id='q-{i}'><div>{_badge(m['verdict'])} "
           f"<span class='muted'>{escape(str(r['id']))} · {' · '.join(facts)}</span></div>"
           f"<h3>{escape(r['question'])}</h3>"]  # fmt: skip
    if r.get("error"):
        out.append(f"<div class='error'>{escape(r['error'].get('message', ''))}</div>")
        if r["error"].get("traceback"):
            out.append(
                "<details><summary>traceback</summary>"
                f"<pre>{escape(r['error']['traceback'])}</pre></details>"
            )
    else:
        out.append(f"<div class='answer'>{escape(r.get('answer') or '')}</div>")
    out.append(_citations(r.get("citations") or [], set(m.get("found_by") or [])))
    out.append(_gold(r, m))
    return "".join(out) + "</article>"


def _citations(citations: list[dict[str, Any]], found_by: set[int]) -> str:
    if not citations:
        return "<div class='muted'>No citations.</div>"
    items = []
    for c in citations:
        meta = [c.get("author"), c.get("outlet"), c.get("published")]
        line = " · ".join(escape(str(v)) for v in meta if v)
        where = f"¶ {escape(str(c.get('paragraph')))}" if c.get("paragraph") is not None else ""
        score = f"score {float(c['score']):.2f}" if c.get("score") is not None else ""
        url = f"<div class='muted'>{escape(str(c['url']))}</div>" if c.get("url") else ""
        hit = c.get("n") in found_by
        gold = f" <strong style='color:{GOOD}'>✓ finds gold</strong>" if hit else ""
        items.append(
            f"<li class='{'hit' if hit else ''}'><strong>[{escape(str(c.get('n')))}]</strong> "
            f"{escape(str(c.get('title') or c.get('article_id') or ''))}{gold}"
            f"<div class='muted'>{' · '.join(x for x in (line, where, score) if x)}</div>{url}"
            f"<blockquote>{escape(c.get('quote') or '')}</blockquote>"
            "<details><summary>whole passage</summary>"
            f"{escape(c.get('passage') or '')}</details></li>"
        )
    return f"<ol class='cites'>{''.join(items)}</ol>"


def _gold(r: dict[str, Any], m: dict[str, Any]) -> str:
    """The gold evidence (found or not) and reference answers of one question."""
    out = ""
    found = m.get("gold_found") or [False] * len(r.get("gold") or [])
    if r.get("gold"):
        items = ""
        for g, ok in zip(r["gold"], found, strict=False):
            label = "✓ found" if ok else "✗ not found"
            art = (
                f" <span class='muted'>article {escape(g['article'])}</span>"
                if g.get("article")
                else ""
            )
            quote = f"<blockquote>{escape(g['quote'])}</blockquote>" if g.get("quote") else ""
            items += f"<li class='{'found' if ok else 'missing'}'>{label}{art}{quote}</li>"
        out += f"<div class='gold'><strong>Gold evidence</strong><ul>{items}</ul></div>"
    if r.get("reference_answers"):
        refs = " | ".join(escape(a) for a in r["reference_answers"])
        match = {True: "matches", False: "does not match", None: ""}[m.get("answer_match")]
        out += f"<div><strong>Reference answer</strong> ({match}): {refs}</div>"
    return out
