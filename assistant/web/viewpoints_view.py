"""Showing a viewpoints answer: text for the terminal, Markdown for the chat, an HTML table for
the web's sources panel. Pure functions of the answer object (no Gradio), every value escaped.

A row is one entry of ``answer["viewpoints"]``: author · outlet · date · the quotes with their
``[n]``. In the HTML table each quote carries ``data-n`` so a click opens its passage, as the
source cards' "Open article at ¶n" buttons do.
"""

from __future__ import annotations

import html
import re
import textwrap
from typing import Any

from assistant.text import quoted

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~=$:<>&])")


def _md(text: str) -> str:
    """Markdown that shows ``text`` as it is (one line: a table cell cannot break)."""
    flat = " ".join(str(text).split())
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", flat), quote=False)


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per entry, in display order: its metadata and its (n, quote) pairs."""
    by_n = {c.get("n"): c for c in answer.get("citations") or []}
    out = []
    for v in answer.get("viewpoints") or []:
        quotes = [(n, by_n[n].get("quote") or "") for n in v.get("citations") or [] if n in by_n]
        out.append({**v, "quotes": quotes})
    return out


def chat_markdown(answer: dict[str, Any]) -> str:
    """The chat message of a viewpoints answer: a lead line and a compact two-column table
    (who · where · when, then what they say: narrow columns would break names mid-word; the
    style sheet gives the first column room, and stacks the rows on a narrow screen)."""
    lead = (answer.get("answer") or "").split("\n", 1)[0]
    lines = [_md(lead), "", "| who · where · when | what they say |", "|---|---|"]
    for r in rows(answer):
        said = " ".join(f"{_md(quoted(q))} \\[{n}\\]" for n, q in r["quotes"])
        who = " · ".join(
            _md(x)
            for x in (r.get("author") or "unknown author", r.get("outlet") or "unknown outlet",
                      r.get("published") or "date unknown")
        )  # fmt: skip
        lines.append(f"| {who} | {said} |")
    return "\n".join(lines)


def table_html(answer: dict[str, Any]) -> str:
    """The table for the sources panel; clicking a row opens its first quote's passage."""
    body = []
    for r in rows(answer):
        first = r["quotes"][0][0] if r["quotes"] else ""
        quotes = "".join(
            f'<span class="ca-vp-quote" data-open="1" data-n="{_esc(n)}">{_esc(quoted(q))} '
            f'<span class="ca-n">[{_esc(n)}]</span></span> '
            for n, q in r["quotes"]
        )
        title = _esc(r.get("title") or r.get("article_id") or "")
        who = _esc(r.get("author") or "unknown author")
        outlet = _esc(r.get("outlet") or "unknown outlet")
        date = r.get("published")
        body.append(
            f'<tr class="ca-vp-row" data-open="1" data-n="{_esc(first)}" title="{title}">'
            f'<td class="ca-vp-who">{who}</td><td class="ca-vp-outlet">{outlet}</td>'
            f'<td class="ca-vp-date">{_esc(date) if date else "<em>date unknown</em>"}</td>'
            f'<td class="ca-vp-said">{quotes}</td></tr>'
        )
    head = _esc((answer.get("answer") or "").split("\n", 1)[0])
    return (
        f'<div class="ca-vp"><div class="ca-sources-head">{head}</div>'
        '<table class="ca-vp-table"><thead><tr><th>author</th><th>outlet</th><th>date</th>'
        f"<th>what they say</th></tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def format_text(answer: dict[str, Any], width: int = 100) -> str:
    """The answer for the terminal: the lead line, then each entry wrapped under its bullet."""
    lines = (answer.get("answer") or "").split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        out.append(textwrap.fill(line, width, subsequent_indent="  "))
    return "\n".join(out)
