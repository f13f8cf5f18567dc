"""Answers as Markdown to keep and share: what the web's Copy and "Export conversation" give and
``assistant ask --format markdown`` prints. Pure functions of answer objects (docs/interfaces.md).

The text is the answer's own (it is meant to be pasted into notes or a document), with its
citations listed under it: title, author, outlet, date, paragraph, URL, and the quote. Only what
HTML would read is escaped: ``<`` and ``>`` become ``&lt;`` and ``&gt;``, and an ``&`` that
would start a character reference (``&lt;``, ``&#60;``) ``&amp;``, so a question such as
``<script>…`` shows as text in a viewer that renders HTML in Markdown; "AT&T" stays as it is.

>>> print(answer_markdown({"question": "Why?", "answer": "Because [1].", "refused": False,
...     "citations": [{"n": 1, "title": "T", "author": "A", "outlet": None, "published": None,
...     "paragraph": 2, "url": None, "quote": "Because.", "article_id": "t"}]}), end="")
### Why?
<BLANKLINE>
Because [1].
<BLANKLINE>
Sources:
<BLANKLINE>
1. **T** — A, date unknown, paragraph 2
   > “Because.”
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from assistant.text import quoted
from assistant.types import cited_numbers, conflict_note


def answer_markdown(answer: dict[str, Any]) -> str:
    """One answer: the question as a heading, the answer, then its sources (ends with a newline)."""
    out = [f"### {_one_line(answer.get('question') or '')}", ""]
    if understood := answer.get("resolved_question"):
        out += [f"*Understood as: {_one_line(understood)}*", ""]
    text = _escaped((answer.get("answer") or "").strip())
    if answer.get("refused"):
        text = f"**No answer in the corpus.** {text}"
    out += [text, ""]
    if note := conflict_note(answer):
        out += [f"⚠ {_escaped(note)}", ""]
    cites = answer.get("citations") or []
    if cites:
        used = cited_numbers(answer)
        refused = bool(answer.get("refused"))
        out += ["Nearest passages (none supports an answer):" if refused else "Sources:", ""]
        for c in cites:
            if not refused and used and c.get("n") not in used:
                continue  # further passages stay in the app: the Markdown keeps what is cited
            out.append(f"{c.get('n')}. {_source_line(c)}")
            out.append(f"   > {quoted(_one_line(c.get('quote') or ''))}")
        out.append("")
    return "\n".join(out)


def conversation_markdown(answers: Sequence[dict[str, Any]], title: str = "Conversation") -> str:
    """Every answer of a conversation, oldest first, each with its sources."""
    parts = [f"# {title}", ""]
    for a in answers:
        parts += [answer_markdown(a), "---", ""]
    return "\n".join(parts)


def _source_line(c: dict[str, Any]) -> str:
    title = _one_line(c.get("title") or c.get("article_id") or "(untitled)")
    meta = [x for x in (c.get("author"), c.get("outlet")) if x]
    meta.append(c.get("published") or "date unknown")
    meta.append(f"paragraph {c.get('paragraph', '?')}")
    line = f"**{title}** — {', '.join(_one_line(str(m)) for m in meta)}"
    url = c.get("url")
    if url and re.match(r"^https?://[^\s<>]+$", url):
        line += f" <{url}>"  # an autolink: its text is not read as HTML
    return line


_CHARACTER_REFERENCE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]*;)")


def _escaped(text: str) -> str:
    """``text`` with what HTML would read as markup written as character references.

    >>> _escaped("<script>alert(1)</script> & AT&T &amp; Q&A")
    '&lt;script&gt;alert(1)&lt;/script&gt; & AT&T &amp;amp; Q&A'
    """
    text = _CHARACTER_REFERENCE.sub("&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _one_line(text: str) -> str:
    """``text`` on one line, escaped (every user-given text in the Markdown passes here)."""
    return _escaped(" ".join(str(text).split()))
