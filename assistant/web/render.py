"""HTML for the web app, built by hand with every value escaped (no gradio here).

Article text comes from outside, so no piece of it reaches the page as markup: every value
goes through ``esc`` (HTML) or ``plain_markdown`` (chat messages), and links must be http(s).
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.answer.pipeline import FILTER_ADVICE
from assistant.ingest.corpus import blocks
from assistant.ingest.sources import PRIVATE_URL_ADVICE
from assistant.text import PARAGRAPH_BREAK, count
from assistant.types import cited_numbers, conflict_note, generated_notes
from assistant.web.viewpoints_view import chat_markdown, table_html

if TYPE_CHECKING:
    from assistant.index.catalog import ArticleRow
    from assistant.types import Article

SEED_ID = "000_7112adcedfa7c1bb"
SEED_EXAMPLES = (
    "What has Russia offered in return?",
    "Could Trump really walk away from the peace talks?",
)
TABLE_HEADERS = ["title", "author", "outlet", "published", "passages", "id"]

# --- rendering: every value escaped ------------------------------------------------------------

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~=$:])")


def esc(value: object) -> str:
    """``value`` as HTML text (quotes escaped too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


def plain_markdown(text: str) -> str:
    """Markdown that displays ``text`` character for character: nothing in it becomes markup.

    >>> plain_markdown("<b>*hi*</b> [1]")
    '&lt;b&gt;\\\\*hi\\\\*&lt;/b&gt; \\\\[1\\\\]'
    """
    # backslash escapes first (they are all ASCII punctuation), then the HTML characters
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text), quote=False)


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) link (never ``javascript:`` and the like), else None."""
    return url if url and re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE) else None


def meta_line(author: str | None, outlet: str | None, published: str | None) -> str:
    """``Author · Outlet · date`` as HTML; a missing date reads "date unknown"."""
    parts = [p for p in (author, outlet) if p] + [published or "date unknown"]
    return " · ".join(esc(p) for p in parts)


def highlight(passage: str, quote: str | None) -> str:
    """The passage as HTML with the quoted sentence in ``<mark>``, its paragraphs kept apart.

    >>> highlight("A <b>.\\n\\nB. C.", "B.")
    'A &lt;b&gt;.<br><br><mark>B.</mark> C.'
    """
    at = passage.find(quote) if quote else -1
    if quote is None or at < 0:
        return _paragraphs(esc(passage))
    end = at + len(quote)
    return _paragraphs(f"{esc(passage[:at])}<mark>{esc(quote)}</mark>{esc(passage[end:])}")


def _paragraphs(html: str) -> str:
    """Blank lines (between a passage's paragraphs) as a visible break."""
    return PARAGRAPH_BREAK.sub("<br><br>", html)


def sources_html(answer: dict[str, Any] | None, position: int | None = None) -> str:
    """The sources panel: one card per citation of ``answer`` (the ``position``-th answer of the
    conversation, 0-based: its ``[n]`` links find their cards by it), and "Copy answer"."""
    if not answer:
        return (
            '<div class="ca-empty">Ask a question: the passages that support the answer '
            "appear here, each with its author, outlet, date and paragraph.</div>"
        )
    cites = answer.get("citations") or []
    if answer.get("refused"):
        head = "No supporting passage. The nearest passages, for your curiosity:"
        body = "".join(citation_card(c, True) for c in cites)
    else:
        used = cited_numbers(answer)
        cited = [c for c in cites if c.get("n") in used]
        further = [c for c in cites if c.get("n") not in used]
        head = f"{len(cited)} source{'s' if len(cited) != 1 else ''} cited in the answer"
        body = "".join(citation_card(c) for c in cited)
        if answer.get("viewpoints"):  # who says what: the table first, the cards below it
            body = table_html(answer) + body
        if further:
            body += (
                '<div class="ca-sources-head ca-further-head">'
                "More passages on the question, not cited in the answer:</div>"
            ) + "".join(citation_card(c, True) for c in further)
    at = f' data-answer="{position}"' if position is not None else ""
    if not cites:
        return f'<div class="ca-empty"{at}>{esc(head)}</div>{copy_tool(answer)}'
    return (
        f'<div class="ca-sources"{at}>{copy_tool(answer)}'
        f'<div class="ca-sources-head">{esc(head)}</div>{body}</div>'
    )


def copy_tool(answer: dict[str, Any]) -> str:
    """ "Copy answer": the answer as Markdown (answer, sources, quotes) for the clipboard, held in
    a hidden textarea (escaped: text, never markup) that the page's script copies."""
    from assistant.markdown import answer_markdown

    return (
        '<div class="ca-tools"><button class="ca-copy" type="button" '
        'title="Copy this answer with its sources as Markdown">Copy answer</button>'
        f'<textarea class="ca-md" hidden readonly>{esc(answer_markdown(answer))}</textarea></div>'
    )


def citation_card(c: dict[str, Any], muted: bool = False) -> str:
    """One source card: title, author, outlet, date, paragraph, passage with the quote marked."""
    title = c.get("title") or c.get("article_id") or "(untitled)"
    link = safe_url(c.get("url"))
    original = (
        f'<a class="ca-link" href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow">'
        "original ↗</a>"
        if link
        else ""
    )
    score = c.get("score")
    score_html = (
        f'<span class="ca-score">match {float(score):.2f}</span>' if score is not None else ""
    )
    return (
        f'<div class="ca-card{" ca-muted" if muted else ""}" data-n="{esc(c.get("n", ""))}">'
        f'<div class="ca-card-head"><span class="ca-n">[{esc(c.get("n", "?"))}]</span>'
        f'<span class="ca-title">{esc(title)}</span></div>'
        f'<div class="ca-meta">{meta_line(c.get("author"), c.get("outlet"), c.get("published"))}'
        f" · paragraph {esc(c.get('paragraph', '?'))}</div>"
        f'<blockquote class="ca-passage">{highlight(c.get("passage") or "", c.get("quote"))}</blockquote>'
        f'<div class="ca-actions"><button class="ca-open" type="button" data-n="{esc(c.get("n", ""))}">'
        f"Open article at ¶{esc(c.get('paragraph', '?'))}</button>{original}{score_html}</div>"
        "</div>"
    )


def article_html(
    article: Article, paragraph: int | None = None, quote: str | None = None, prefix: str = "art"
) -> str:
    """The whole article; paragraph ``paragraph`` (1-based) marked, with ``quote`` highlighted."""
    link = safe_url(article.url)
    parts = [
        '<div class="ca-article">',
        f'<h3 class="ca-article-title">{esc(article.title or "(untitled)")}</h3>',
        f'<div class="ca-meta">{meta_line(article.author, article.outlet, article.published)}'
        f" · <code>{esc(article.id)}</code>"
        + (
            f' · <a class="ca-link" href="{esc(link)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">original ↗</a>'
            if link
            else ""
        )
        + "</div>",
    ]
    for b in blocks(article.body):
        if b.kind == "heading":
            parts.append(f'<h4 class="ca-heading">{esc(b.text)}</h4>')
            continue
        cited = b.paragraph == paragraph
        body = highlight(b.text, quote) if cited else esc(b.text)
        parts.append(
            f'<p id="{esc(prefix)}-p{b.paragraph}" class="ca-para{" ca-cited" if cited else ""}">'
            f'<span class="ca-pn">{b.paragraph}</span>{body}</p>'
        )
    parts.append("</div>")
    return "".join(parts)


def chat_messages(answers: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The conversation for the Chatbot, every text escaped."""
    out = []
    for a in answers:
        out.append({"role": "user", "content": plain_markdown(a["question"])})
        text = cite_links(plain_markdown(a["answer"]))
        if a.get("viewpoints") and not a.get("refused"):
            text = cite_links(chat_markdown(a))
        if a.get("refused"):
            text = f"**No answer in the corpus.** {text}"
        if understood := a.get("resolved_question"):  # a follow-up, read with its context
            text = f"*Understood as: {plain_markdown(understood)}*\n\n{text}"
        if a.get("generated"):
            text += generated_note(a)
        if note := conflict_note(a):
            text += f"\n\n⚠ *{plain_markdown(note)}*"
        out.append({"role": "assistant", "content": text})
    return out


_ESCAPED_MARKER = re.compile(r"\\\[(\d+)\\\]")


def cite_links(markdown: str) -> str:
    """Escaped Markdown whose ``[n]`` markers link to their source cards (the page's script
    shows the answer's sources and scrolls to card n)."""
    return _ESCAPED_MARKER.sub(r"[\\[\1\\]](#ca-cite-\1)", markdown)


def generated_note(a: dict[str, Any]) -> str:
    """Markdown under a generated answer: how it was checked, and what was removed (escaped)."""
    found = generated_notes(a)
    if found.fallback == "refusal":
        return ""
    if found.fallback == "extractive":
        lines = ["*The language model's answer could not be checked against the passages: "
                 "this is the quoted answer instead.*"]  # fmt: skip
    else:
        lines = ["*Written by a language model; each sentence was checked against the passage "
                 "it cites.*"]  # fmt: skip
    if n := len(found.removed):
        lines.append(f"⚠ Removed {n} generated statement{'s' if n != 1 else ''} "
                     "the cited passages do not support:")  # fmt: skip
        lines += [f"- ~~{plain_markdown(s.get('text', ''))}~~ ({plain_markdown(s.get('reason') or '')})"
                  for s in found.removed]  # fmt: skip
    return "\n\n" + "\n\n".join(lines[:1]) + ("\n\n" + "\n".join(lines[1:]) if lines[1:] else "")


def draft_message(draft: str) -> dict[str, str]:
    """The chat message while a language model is still writing (not checked yet, escaped)."""
    return {"role": "assistant",
            "content": f"*Drafting (not yet checked against the sources)…*\n\n{plain_markdown(draft)}"}  # fmt: skip


def example_questions(rows: Sequence[ArticleRow], limit: int = 4) -> list[str]:
    """A few questions the corpus can answer: fixed ones for the seed, one per recent article."""
    out = list(SEED_EXAMPLES) if any(r.id == SEED_ID for r in rows) else []
    for r in sorted(rows, key=lambda r: r.added or "", reverse=True):
        if len(out) >= limit:
            break
        if r.id == SEED_ID or not r.title:
            continue
        title = re.sub(r"^(commentary|opinion|analysis)\s*:\s*", "", r.title, flags=re.I).strip()
        if len(title) > 70:
            title = title[:69].rstrip() + "…"
        out.append(
            title
            if title.endswith("?")
            else f"What does {r.author or 'the article'} say in “{title}”?"
        )
    return out


SORTS = ("Newest first", "Oldest first", "Title A–Z", "Author A–Z", "Outlet A–Z",
         "Most passages")  # fmt: skip
PAGE_SIZE = 50


def table_rows(
    rows: Sequence[ArticleRow], search: str = "", sort: str = SORTS[0],
    first_lines: dict[str, str] | None = None,
) -> list[list[Any]]:  # fmt: skip
    """The article list: rows holding every word of ``search`` as a whole word (any field,
    case-insensitive: "Roe" finds Roe v. Wade, not Monroe), in the order ``sort`` names.
    An untitled article shows its first line of text (``first_lines``), marked "(untitled)"."""
    needles = [re.compile(rf"(?<!\w){re.escape(w)}(?!\w)", re.I) for w in search.split()]
    firsts = first_lines or {}
    out = []
    for r in _sorted(rows, sort):
        title = r.title or (f"“{firsts[r.id]}” (untitled)" if r.id in firsts else "(untitled)")
        row = [title, r.author or "", r.outlet or "", r.published or "", r.n_passages, r.id]
        text = " ".join(str(v) for v in row)
        if all(n.search(text) for n in needles):
            out.append(row)
    return out


def _sorted(rows: Sequence[ArticleRow], sort: str) -> list[ArticleRow]:
    """``rows`` in the order ``sort`` names; undated articles come after dated ones (by the
    time they were added), and empty fields after filled ones."""
    title = lambda r: ((r.title or "~").casefold().lstrip("\"'“‘([").strip(), r.id)  # noqa: E731
    if sort in (SORTS[0], SORTS[1]):
        dated = sorted((r for r in rows if r.published), key=lambda r: (r.published, r.added or ""),
                       reverse=sort == SORTS[0])  # fmt: skip
        undated = sorted((r for r in rows if not r.published), key=lambda r: r.added or "",
                         reverse=True)  # fmt: skip
        return dated + undated
    if sort == SORTS[3]:
        return sorted(rows, key=lambda r: ((r.author or "~").casefold(), title(r)))
    if sort == SORTS[4]:
        return sorted(rows, key=lambda r: ((r.outlet or "~").casefold(), title(r)))
    if sort == SORTS[5]:
        return sorted(rows, key=lambda r: (-r.n_passages, title(r)))
    return sorted(rows, key=title)


def table_page(matched: list[list[Any]], total: int, search: str, page: int) -> tuple[
    list[list[Any]], int, str
]:  # fmt: skip
    """The ``page``-th page of the matched rows (clamped), the page shown, and the count line:
    "1,201 articles · page 1 of 25" or "12 of 1,201 articles match “roe” · page 1 of 1"."""
    pages = max(1, -(-len(matched) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = matched[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    words = " ".join(search.split())
    head = (
        f"{len(matched):,} of {count(total, 'article')} match “{words}”"
        if words
        else count(total, "article")
    )
    first, last = page * PAGE_SIZE + 1, page * PAGE_SIZE + len(shown)
    where = f"{first:,}–{last:,} shown, page {page + 1} of {pages}" if shown else "none shown"
    return shown, page, f"{head} · {where}"


def header_html(n_articles: int | None, n_passages: int | None, changed: str | None = None) -> str:
    """The page header: the library's size and, when known, when it last changed (``changed``:
    an ISO time in UTC, as the catalog records it)."""
    line = (
        f"Answers from {count(n_articles, 'article')} ({count(n_passages, 'passage')}); every "
        "sentence is quoted from an article and cited."
        if n_articles is not None and n_passages is not None
        else "Answers quoted from a library of news commentary, each with its source."
    )
    when = ""
    if changed:
        with contextlib.suppress(ValueError):
            t = datetime.fromisoformat(changed)
            when = f'<p class="ca-changed">Library last changed {esc(t.strftime("%-d %b %Y, %H:%M UTC"))}</p>'
    return f'<div class="ca-header"><h1>Commentary Assistant</h1><p>{esc(line)}</p>{when}</div>'


def article_placeholder(where: str = "chat") -> str:
    hint = (
        "Open an article from a source card to read it whole, the cited paragraph marked."
        if where == "chat"
        else "Pick an article in the list to read it."
    )
    return f'<div class="ca-empty">{esc(hint)}</div>'


def problems_html(problems: Sequence[str]) -> str:
    """The corpus files that cannot be read, each with the fix (empty when there are none)."""
    if not problems:
        return ""
    n = len(problems)
    head = f"{n} file{'s' if n != 1 else ''} in the corpus cannot be read"
    items = "".join(f"<li>{esc(p)}</li>" for p in problems)
    return f'<div class="ca-problems"><strong>{esc(head)}:</strong><ul>{items}</ul></div>'


# advice that the shared messages give to CLI users and to the server's administrator, and what
# to tell a web user instead (the first text of each pair is the one the message holds)
_WEB_ADVICE = (
    (FILTER_ADVICE, "(the Corpus tab lists the outlets, authors and dates)"),
    (PRIVATE_URL_ADVICE,
     "the server does not fetch such addresses (its administrator can allow them)."),
)  # fmt: skip


def web_advice(message: str) -> str:
    """``message`` with its advice for the command line or the server's administrator replaced
    by what a web user can do.

    >>> web_advice("Widen them (assistant list shows the outlets, authors and dates).")
    'Widen them (the Corpus tab lists the outlets, authors and dates).'
    """
    for cli, web in _WEB_ADVICE:
        message = message.replace(cli, web)
    return message


_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])(/(?:[^\s/'\"]+/)+)([^\s/'\"]*[^\s/'\".,;:)])?")


def public_message(message: str) -> str:
    """An error message fit for web users: an absolute path on the server is cut to its last
    part (``/srv/news/corpus/`` -> ``corpus/``, ``/tmp/gradio/8f2/up.txt`` -> ``up.txt``).

    >>> public_message("No article 'x' in /srv/news/corpus/. See: assistant list")
    "No article 'x' in corpus/. See: assistant list"
    """

    def last_part(m: re.Match[str]) -> str:
        return m.group(2) or m.group(1).rstrip("/").rsplit("/", 1)[-1] + "/"

    return _ABSOLUTE_PATH.sub(last_part, message)
