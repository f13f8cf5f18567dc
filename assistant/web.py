"""The web app: a chat whose answers cite their passages, and the corpus behind it.

``build_app(settings)`` gives the Gradio Blocks; ``serve(settings)`` brings the index in line,
warms the model and launches it on http://127.0.0.1:7860. The named endpoint ``/ask`` returns
the answer object of CONTRACTS.md::

    >>> from gradio_client import Client                                        # doctest: +SKIP
    >>> Client("http://127.0.0.1:7860").predict("What has Russia offered in return?",
    ...                                           api_name="/ask")["citations"][0]["author"]
    'Stefan Wolff'

Article text comes from outside, so no piece of it reaches the page as markup: the HTML here
is built by hand with every value escaped, and text shown in the chat is escaped for Markdown.
Gradio is imported inside the functions, so importing this module costs nothing.
"""

import html
import ipaddress
import json
import os
import re
import sys
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.corpus import blocks
from assistant.errors import AssistantError, InputError
from assistant.settings import Settings
from assistant.viewpoints_view import chat_markdown, table_html

if TYPE_CHECKING:
    import gradio as gr

    from assistant.api import Assistant
    from assistant.catalog import ArticleRow
    from assistant.sources import Failure, RawDoc
    from assistant.types import Article, Filters

SEED_ID = "000_7112adcedfa7c1bb"
SEED_EXAMPLES = (
    "What has Russia offered in return?",
    "Could Trump really walk away from the peace talks?",
)
ANY_OUTLET = "Any outlet"
UPLOAD_TYPES = (".txt", ".md", ".html", ".jsonl")
TABLE_HEADERS = ["title", "author", "outlet", "published", "passages", "id"]
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

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
    """The passage as HTML with the quoted sentence in ``<mark>``."""
    at = passage.find(quote) if quote else -1
    if quote is None or at < 0:
        return esc(passage)
    end = at + len(quote)
    return f"{esc(passage[:at])}<mark>{esc(quote)}</mark>{esc(passage[end:])}"


def sources_html(answer: dict[str, Any] | None) -> str:
    """The sources panel: one card per citation of ``answer``."""
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
        used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.get("answer") or "")}
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
    if not cites:
        return f'<div class="ca-empty">{esc(head)}</div>'
    return f'<div class="ca-sources"><div class="ca-sources-head">{esc(head)}</div>{body}</div>'


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
    article: "Article", paragraph: int | None = None, quote: str | None = None, prefix: str = "art"
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
        text = plain_markdown(a["answer"])
        if a.get("viewpoints") and not a.get("refused"):
            text = chat_markdown(a)
        if a.get("refused"):
            text = f"**No answer in the corpus.** {text}"
        if a.get("generated"):
            text += generated_note(a)
        out.append({"role": "assistant", "content": text})
    return out


def generated_note(a: dict[str, Any]) -> str:
    """Markdown under a generated answer: how it was checked, and what was removed (escaped)."""
    if a.get("fallback") == "refusal":
        return ""
    if a.get("fallback") == "extractive":
        lines = ["*The language model's answer could not be checked against the passages: "
                 "this is the quoted answer instead.*"]  # fmt: skip
    else:
        lines = ["*Written by a language model; each sentence was checked against the passage "
                 "it cites.*"]  # fmt: skip
    flagged = [s for s in a.get("statements") or [] if not s.get("verified")]
    if flagged and "⚠" not in a.get("answer", ""):
        lines.append(f"⚠ Removed {len(flagged)} generated statement{'s' if len(flagged) != 1 else ''} "
                     "the cited passages do not support:")  # fmt: skip
        lines += [f"- ~~{plain_markdown(s.get('text', ''))}~~ ({plain_markdown(s.get('reason') or '')})"
                  for s in flagged]  # fmt: skip
    return "\n\n" + "\n\n".join(lines[:1]) + ("\n\n" + "\n".join(lines[1:]) if lines[1:] else "")


def draft_message(draft: str) -> dict[str, str]:
    """The chat message while a language model is still writing (not checked yet, escaped)."""
    return {"role": "assistant",
            "content": f"*Drafting (not yet checked against the sources)…*\n\n{plain_markdown(draft)}"}  # fmt: skip


def example_questions(rows: Sequence["ArticleRow"], limit: int = 4) -> list[str]:
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


def table_rows(rows: Sequence["ArticleRow"], search: str = "") -> list[list[Any]]:
    """The article list, filtered by ``search`` (any field, case-insensitive)."""
    needle = (search or "").strip().casefold()
    out = []
    for r in sorted(rows, key=lambda r: ((r.title or r.id).casefold(), r.id)):
        row = [r.title or "", r.author or "", r.outlet or "", r.published or "", r.n_passages, r.id]
        if needle and not any(needle in str(v).casefold() for v in row):
            continue
        out.append(row)
    return out


# --- the app -----------------------------------------------------------------------------------

CSS = """
.ca-header h1 { margin: 0; font-size: 1.6rem; }
.ca-header p { margin: .2rem 0 0; color: var(--body-text-color-subdued); }
.ca-empty { color: var(--body-text-color-subdued); padding: 1rem; border: 1px dashed var(--border-color-primary); border-radius: 8px; }
.ca-sources { display: flex; flex-direction: column; gap: .75rem; max-height: 70vh; overflow-y: auto; padding-right: .25rem; }
.ca-sources-head { font-weight: 600; color: var(--body-text-color-subdued); }
.ca-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .75rem .9rem; background: var(--background-fill-primary); }
.ca-card.ca-muted { opacity: .8; border-style: dashed; }
.ca-card.ca-muted mark { background: #fef3c7; }
.ca-further-head { margin-top: 1rem; }
.ca-card-head { display: flex; gap: .5rem; align-items: baseline; }
.ca-n { font-weight: 700; color: var(--color-accent); }
.ca-title { font-weight: 600; }
.ca-meta { font-size: .85rem; color: var(--body-text-color-subdued); margin: .2rem 0 .4rem; }
.ca-passage { margin: .3rem 0; padding: .2rem 0 .2rem .7rem; border-left: 3px solid var(--border-color-accent); font-size: .92rem; line-height: 1.45; }
.ca-passage mark, .ca-para mark { background: #fde68a; color: #1f2937; padding: 0 .1rem; border-radius: 2px; }
.ca-actions { display: flex; gap: .75rem; align-items: center; font-size: .85rem; }
.ca-open { font-size: .8rem; font-weight: 500; border: 1px solid var(--border-color-accent); color: var(--color-accent); background: transparent; border-radius: 6px; padding: .15rem .6rem; cursor: pointer; }
.ca-open:hover { background: var(--color-accent-soft); }
.ca-score { margin-left: auto; color: var(--body-text-color-subdued); }
.ca-article { max-height: 70vh; overflow-y: auto; padding-right: .5rem; line-height: 1.55; }
.ca-article-title { margin: 0 0 .2rem; }
.ca-heading { margin: 1rem 0 .3rem; text-transform: none; }
.ca-para { margin: .5rem 0; padding: .3rem .5rem; border-radius: 6px; }
.ca-para.ca-cited { background: var(--color-accent-soft); outline: 2px solid var(--border-color-accent); }
.ca-pn { display: inline-block; min-width: 2rem; font-size: .75rem; color: var(--body-text-color-subdued); }
#ca-table table, #ca-table table *, #ca-table .cell-wrap, #ca-table .cell-wrap * { font-family: var(--font) !important; font-size: .9rem; }
.ca-vp-table { width: 100%; border-collapse: collapse; font-size: .88rem; margin-bottom: .5rem; }
.ca-vp-table th { text-align: left; font-weight: 600; color: var(--body-text-color-subdued); padding: .25rem .4rem; }
.ca-vp-table td { padding: .35rem .4rem; border-top: 1px solid var(--border-color-primary); vertical-align: top; }
.ca-vp-row { cursor: pointer; } .ca-vp-row:hover { background: var(--color-accent-soft); }
.ca-vp-who, .ca-vp-date { white-space: nowrap; }
.ca-mono textarea { font-family: var(--font-mono); font-size: .85rem; }
"""

# Clicks on "Open article" buttons inside the sources panel become a Gradio event carrying n.
_OPEN_JS = """
element.addEventListener('click', (e) => {
  const b = e.target.closest('button.ca-open, [data-open]');
  if (b) trigger('click', {n: Number(b.dataset.n)});
});
"""
# Bring the cited paragraph into view once the article has been rendered.
_SCROLL_JS = """
() => {
  let tries = 0;
  const go = () => {
    const el = document.querySelector('#ca-chat-article .ca-cited');
    if (el && el.offsetParent !== null) { el.scrollIntoView({block: 'center'}); }
    else if (tries++ < 40) { setTimeout(go, 50); }
  };
  go();
}
"""


class _ProgressRelay:
    """The library's progress factory, reporting to the gr.Progress of the request at hand."""

    def __init__(self) -> None:
        self.local = threading.local()

    def __call__(self, total: int, desc: str) -> Any:
        return _Bar(getattr(self.local, "progress", None), total, desc)


class _Bar:
    def __init__(self, target: Any, total: int, desc: str) -> None:
        self.target, self.total, self.desc, self.done = target, max(total, 1), desc, 0

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.target is not None:
            self.target(self.done / self.total, desc=f"{self.desc} {self.done}/{self.total}")

    def close(self) -> None:
        pass


def web_settings(settings: Settings, env: dict[str, str] | None = None) -> Settings:
    """The settings for the web app: no fetching of private addresses unless allowed by env."""
    env = dict(os.environ) if env is None else env
    allow = env.get("ASSISTANT_ALLOW_PRIVATE_URLS", "").strip().lower() in ("1", "true", "yes")
    return replace(settings, ingest=replace(settings.ingest, allow_private_urls=allow))


def parse_filters(
    outlet: str | None, author: str | None, since: str | None, until: str | None
) -> "Filters":
    """Filters from the form (blank means no restriction); InputError for a bad date."""
    from assistant.library import cleaning_date
    from assistant.types import Filters

    def blank(v: str | None) -> str | None:
        return v.strip() if isinstance(v, str) and v.strip() else None

    outlet = blank(outlet)
    return Filters(
        outlet=None if outlet == ANY_OUTLET else outlet,
        author=blank(author),
        since=cleaning_date(s) if (s := blank(since)) else None,
        until=cleaning_date(u) if (u := blank(until)) else None,
    )


def _history(value: Any) -> list[dict[str, Any]]:
    """The conversation so far from the API: a list (or JSON text of one) of objects."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError("history: expected a JSON list of earlier answer objects.") from None
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise InputError('history: expected a list of objects with "question" and "answer".')
    return value


def build_app(
    settings: Settings, assistant: "Assistant | None" = None, editors: frozenset[str] | None = None
) -> "gr.Blocks":
    """The Gradio app over the library in ``settings`` (launch it with ``launch_options``).

    ``editors``: when given, only these logged-in users may add or remove articles; everyone
    else who can open the app may only ask.
    """
    import gradio as gr

    from assistant.api import Assistant

    relay = _ProgressRelay()
    if assistant is None:
        assistant = Assistant(settings, progress=relay)
    else:
        assistant.library.progress = relay
    a = assistant
    ingest = settings.ingest

    def fail(e: AssistantError | str) -> "gr.Error":
        # the toast renders its message as HTML, and messages may quote the user's input
        return gr.Error(html.escape(str(e), quote=False), print_exception=False)

    def may_edit(request: "gr.Request | None") -> None:
        if editors is None:
            return
        user = getattr(request, "username", None)
        if user not in editors:
            who = f"you are logged in as {user!r}" if user else "you are not logged in"
            raise fail(f"Only editors may add or remove articles, and {who}. "
                       "Ask an editor, or log in as one (ASSISTANT_EDITORS lists them).")  # fmt: skip

    def ask(
        question: str, history: Any, outlet: Any, author: Any, since: Any, until: Any, k: Any,
        generate: Any = False, mode: Any = None, by: Any = None,
    ) -> dict[str, Any]:  # fmt: skip
        try:
            filters = parse_filters(outlet, author, since, until)
            kk = int(k) if k not in (None, "") else None
            return a.ask(question, history=_history(history), filters=filters, k=kk,
                         generate=bool(generate), mode=mode or None, by=by or None).to_dict()  # fmt: skip
        except AssistantError as e:
            raise fail(e) from None
        except (TypeError, ValueError) as e:
            raise fail(f"Invalid input: {e}") from None

    # -- the API endpoint: the question alone is enough ----------------------------------------
    def api_ask(
        question: str,
        history: list[dict[str, Any]] | None = None,
        outlet: str | None = None,
        author: str | None = None,
        since: str | None = None,
        until: str | None = None,
        k: int | None = None,
        generate: bool = False,
        mode: str | None = None,
        by: str | None = None,
    ) -> dict[str, Any]:
        """The answer object for ``question`` (history: earlier answer objects, oldest first;
        generate: a configured language model writes it, checked against the sources; mode:
        "viewpoints", "timeline" or "answer", by: "article", "author" or "outlet")."""
        return ask(question, history, outlet, author, since, until, k, generate, mode, by)

    # -- chat ------------------------------------------------------------------------------------
    def chat(
        question: str, answers: list[dict[str, Any]], outlet: str, author: str,
        since: str, until: str, k: float, generate: bool = False,
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        if generate and a.can_generate:
            ans = yield from drafts(question, answers, outlet, author, since, until, k)
        else:
            ans = ask(question, answers, outlet, author, since, until, k)
        answers = [*answers, ans]
        yield (
            "",
            chat_messages(answers),
            answers,
            ans,
            sources_html(ans),
            gr.Tabs(selected="sources"),
        )

    def drafts(
        question: str, answers: list[dict[str, Any]], outlet: str, author: str,
        since: str, until: str, k: float,
    ) -> "Generator[tuple[Any, ...], None, dict[str, Any]]":  # fmt: skip
        """Streams the model's draft into the chat; returns the checked answer object."""
        so_far = [*chat_messages(answers), {"role": "user", "content": plain_markdown(question)}]
        skip = (gr.skip(),) * 4
        text, final = "", None
        try:
            filters = parse_filters(outlet, author, since, until)
            kk = int(k) if k not in (None, "") else None
            for item in a.ask_stream(question, _history(answers), filters, kk):
                if isinstance(item, str):
                    text += item
                    yield (gr.skip(), [*so_far, draft_message(text)], *skip)
                else:
                    final = item.to_dict()
        except AssistantError as e:
            raise fail(e) from None
        except (TypeError, ValueError) as e:
            raise fail(f"Invalid input: {e}") from None
        assert final is not None
        return final

    def new_conversation() -> tuple[Any, ...]:
        return [], [], None, sources_html(None), _article_placeholder(), ""

    def pick_message(answers: list[dict[str, Any]], evt: gr.SelectData) -> tuple[Any, ...]:
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not isinstance(index, int) or not 0 <= index // 2 < len(answers):
            return gr.skip(), gr.skip(), gr.skip()
        ans = answers[index // 2]
        return ans, sources_html(ans), gr.Tabs(selected="sources")

    def open_cited(shown: dict[str, Any] | None, evt: gr.EventData) -> tuple[Any, ...]:
        n = getattr(evt, "n", None)
        cite = next((c for c in (shown or {}).get("citations", []) if c.get("n") == n), None)
        if cite is None:
            return gr.skip(), gr.skip()
        try:
            article = a.library.corpus.read(cite["article_id"])
        except AssistantError as e:
            raise fail(e) from None
        view = article_html(article, cite["paragraph"], cite["quote"], prefix="chat")
        return view, gr.Tabs(selected="article")

    # -- corpus ----------------------------------------------------------------------------------
    def refresh(search: str = "") -> tuple[Any, ...]:
        rows = a.library.catalog.articles()
        outlets = sorted({r.outlet for r in rows if r.outlet}, key=str.casefold)
        passages = sum(r.n_passages for r in rows)
        return (
            gr.Dataframe(value=table_rows(rows, search)),
            gr.Dropdown(choices=[ANY_OUTLET, *outlets]),
            gr.Dataset(samples=[[q] for q in example_questions(rows)]),
            _header(len(rows), passages),
        )

    def search_table(search: str) -> Any:
        return table_rows(a.library.catalog.articles(), search)

    def pick_row(evt: gr.SelectData) -> tuple[Any, ...]:
        row = evt.row_value or []
        if not row:
            return gr.skip(), gr.skip()
        return row[-1], view_article(row[-1])

    def view_article(article_id: str) -> str:
        if not (article_id or "").strip():
            raise fail("Pick an article in the list, or type its id.")
        try:
            return article_html(a.library.corpus.read(article_id.strip()), prefix="corpus")
        except AssistantError as e:
            raise fail(e) from None

    def remove_article(article_id: str, search: str, request: gr.Request) -> tuple[Any, ...]:
        may_edit(request)
        aid = (article_id or "").strip()
        if not aid:
            raise fail("Pick the article to remove first.")
        try:
            a.remove([aid])
        except AssistantError as e:
            raise fail(e) from None
        return ("", _article_placeholder("corpus"), f"{aid} removed", *refresh(search))

    def add_items(items: "Iterator[RawDoc | Failure]", flags: dict[str, str | None],
                  progress: Any, total: int) -> str:  # fmt: skip
        relay.local.progress = progress
        seen = [0]

        def step(_: Any) -> None:
            seen[0] += 1
            progress(min(seen[0] / max(total, 1), 1.0), desc=f"Read {seen[0]}/{total}")

        try:
            results = a.add(items, flags, on_result=step)
        except AssistantError as e:
            raise fail(e) from None
        finally:
            relay.local.progress = None
        if not results:
            raise fail("Nothing to add.")
        lines = [r.line() for r in results]
        if len(results) > 1:
            counts = {
                s: sum(r.status == s for r in results) for s in ("added", "duplicate", "error")
            }
            lines.append(f"{counts['added']} added, {counts['duplicate']} duplicates, "
                         f"{counts['error']} failed")  # fmt: skip
        return "\n".join(lines)

    def add_pasted(
        text: str, title: str, author: str, outlet: str, published: str, search: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for progress)
    ) -> tuple[Any, ...]:  # fmt: skip
        may_edit(request)
        from assistant.sources import RawDoc, decode

        try:
            body = decode((text or "").encode(), "pasted text", ingest.max_bytes)
        except AssistantError as e:
            raise fail(e) from None
        head = body.lstrip()[:1000].lower()
        kind = ("html" if head.startswith(("<!doctype html", "<html")) or "<body" in head
                else "markdown" if head.startswith("---\n") else "text")  # fmt: skip
        given = {"title": title, "author": author, "outlet": outlet, "published": published}
        flags: dict[str, str | None] = {
            k: (v.strip() or None) if isinstance(v, str) else None for k, v in given.items()
        }
        log = add_items(iter([RawDoc("pasted text", body, kind)]), flags, progress, 1)
        return (log, *refresh(search))

    def add_files(
        files: list[str] | None,
        search: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        may_edit(request)
        from assistant.sources import Failure, read_sources

        paths = [Path(f) for f in files or []]
        if not paths:
            raise fail("Choose one or more .txt, .md, .html or .jsonl files.")

        def items() -> "Iterator[RawDoc | Failure]":
            for i, p in enumerate(paths):
                progress(i / len(paths), desc=f"Reading {p.name}")
                if p.suffix.lower() not in UPLOAD_TYPES:
                    yield Failure(p.name, f"unsupported file type {p.suffix or '(none)'}; "
                                          "use .txt, .md, .html or .jsonl.")  # fmt: skip
                    continue
                # the temp path goes in; people see the name they uploaded
                for item in read_sources([str(p)], ingest):
                    origin = item.origin.replace(str(p), p.name)
                    if isinstance(item, Failure):
                        yield Failure(origin, item.message.replace(str(p), p.name))
                    else:
                        yield replace(item, origin=origin)

        log = add_items(items(), {}, progress, len(paths))
        return (log, *refresh(search))

    def add_url(url: str, search: str, request: gr.Request,
                progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008  # fmt: skip
        may_edit(request)
        from assistant.sources import read_sources

        url = (url or "").strip()
        if not url:
            raise fail("Type the address of an article, e.g. https://…")
        progress(0, desc="Fetching")
        log = add_items(read_sources([url], ingest), {}, progress, 1)
        return (log, *refresh(search))

    # -- layout ----------------------------------------------------------------------------------
    # Writers (add, remove) go one at a time; questions and reading run two at a time (one per
    # core here): the library's write lock and thread-safe stores keep readers consistent.
    lib: dict[str, Any] = {"concurrency_id": "library", "concurrency_limit": 1}
    read: dict[str, Any] = {"concurrency_id": "read", "concurrency_limit": 2}
    private: Any = {"api_visibility": "private"}
    with gr.Blocks(title="Commentary Assistant", analytics_enabled=False) as demo:
        answers = gr.State([])
        shown = gr.State(None)
        header = gr.HTML(_header(None, None))
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    chatbot = gr.Chatbot(
                        show_label=False, height=480, latex_delimiters=[], buttons=["copy"],
                        elem_id="ca-chat", placeholder="Answers quote the articles and cite them as [1], [2]…",
                    )  # fmt: skip
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False, placeholder="Ask about the articles, e.g. What has Russia offered in return?",
                            scale=6, autofocus=True, elem_id="ca-question", max_lines=4,
                        )  # fmt: skip
                        ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                        clear_btn = gr.Button("Clear", scale=1, min_width=80)
                    # shown only when a language model is configured (ASSISTANT_LLM_*, OLLAMA_*)
                    gen_box = gr.Checkbox(
                        value=False, visible=a.can_generate, elem_id="ca-generate",
                        label="Generate with LLM (each sentence is checked against its source)",
                    )  # fmt: skip
                    examples = gr.Dataset(
                        components=[gr.Textbox(visible=False)], samples=[],
                        label="Example questions", elem_id="ca-examples",
                    )  # fmt: skip
                    with gr.Accordion("Filters", open=False):
                        with gr.Row():
                            outlet = gr.Dropdown([ANY_OUTLET], value=ANY_OUTLET, label="Outlet")
                            author = gr.Textbox(label="Author", placeholder="part of the name")
                        with gr.Row():
                            since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD")
                            until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD")
                            k = gr.Slider(
                                1,
                                10,
                                value=settings.answer.k,
                                step=1,
                                label="Citations at most (k)",
                            )
                with gr.Column(scale=4), gr.Tabs() as side:
                    with gr.Tab("Sources", id="sources"):
                        sources = gr.HTML(
                            sources_html(None), js_on_load=_OPEN_JS, elem_id="ca-sources"
                        )
                    with gr.Tab("Article", id="article"):
                        chat_article = gr.HTML(
                            _article_placeholder(), js_on_load=None, elem_id="ca-chat-article"
                        )
            with gr.Tab("Corpus", id="corpus"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        search = gr.Textbox(
                            label="Search the articles", placeholder="title, author, outlet, id…"
                        )
                        table = gr.Dataframe(
                            headers=TABLE_HEADERS, datatype=["str", "str", "str", "str", "number", "str"],
                            column_widths=["31%", "13%", "13%", "15%", "11%", "17%"],
                            interactive=False, wrap=True, max_height=360, elem_id="ca-table",
                        )  # fmt: skip
                        with gr.Row():
                            picked = gr.Textbox(label="Article id", scale=3, elem_id="ca-picked")
                            view_btn = gr.Button("View", scale=1, min_width=70)
                            remove_btn = gr.Button("Remove", variant="stop", scale=1, min_width=70)
                        status = gr.Textbox(
                            label="Status", interactive=False, max_lines=1, elem_id="ca-status"
                        )
                    with gr.Column(scale=2):
                        corpus_article = gr.HTML(
                            _article_placeholder("corpus"),
                            js_on_load=None,
                            elem_id="ca-corpus-article",
                        )
                gr.Markdown("### Add articles")
                with gr.Tabs():
                    with gr.Tab("Paste text"):
                        paste = gr.Textbox(
                            label="Article text",
                            lines=8,
                            placeholder="Paste the title and paragraphs",
                            elem_id="ca-paste",
                        )
                        with gr.Row():
                            p_title = gr.Textbox(label="Title (optional)", elem_id="ca-paste-title")
                            p_author = gr.Textbox(
                                label="Author (optional)", elem_id="ca-paste-author"
                            )
                            p_outlet = gr.Textbox(
                                label="Outlet (optional)", elem_id="ca-paste-outlet"
                            )
                            p_date = gr.Textbox(
                                label="Published (optional)",
                                placeholder="YYYY-MM-DD",
                                elem_id="ca-paste-date",
                            )
                        paste_btn = gr.Button(
                            "Add pasted article", variant="primary", elem_id="ca-paste-add"
                        )
                    with gr.Tab("Upload files"):
                        uploads = gr.File(
                            label=f"Files: .txt .md .html .jsonl, up to {ingest.max_bytes:,} bytes each",
                            file_count="multiple", file_types=list(UPLOAD_TYPES), type="filepath", elem_id="ca-upload",
                        )  # fmt: skip
                        upload_btn = gr.Button("Add files", variant="primary")
                    with gr.Tab("From a URL"):
                        url = gr.Textbox(label="Address", placeholder="https://…")
                        url_btn = gr.Button("Fetch and add", variant="primary")
                add_log = gr.Textbox(label="Result (one line per article)", lines=3, interactive=False,
                                     elem_classes=["ca-mono"], elem_id="ca-add-log")  # fmt: skip

        # -- events ------------------------------------------------------------------------------
        gr.api(api_ask, api_name="ask", **read)
        corpus_outputs = [table, outlet, examples, header]
        filters = [outlet, author, since, until, k]
        chat_outputs = [question, chatbot, answers, shown, sources, side]
        chat_in = [question, answers, *filters, gen_box]
        question.submit(chat, chat_in, chat_outputs, **read, **private)
        ask_btn.click(chat, chat_in, chat_outputs, **read, **private)
        clear_btn.click(
            new_conversation,
            None,
            [chatbot, answers, shown, sources, chat_article, question],
            **private,
        )
        examples.click(lambda s: s[0], examples, question, **private).then(
            chat, chat_in, chat_outputs, **read, **private
        )
        chatbot.select(pick_message, answers, [shown, sources, side], **private)
        sources.click(open_cited, shown, [chat_article, side], **read, **private).then(
            None, js=_SCROLL_JS, **private
        )
        demo.load(refresh, search, corpus_outputs, **read, **private)
        search.change(search_table, search, table, **read, **private)
        table.select(pick_row, None, [picked, corpus_article], **read, **private)
        view_btn.click(view_article, picked, corpus_article, **read, **private)
        remove_btn.click(
            remove_article,
            [picked, search],
            [picked, corpus_article, status, *corpus_outputs],
            **lib,
            **private,
        )
        paste_btn.click(
            add_pasted,
            [paste, p_title, p_author, p_outlet, p_date, search],
            [add_log, *corpus_outputs],
            **lib,
            **private,
        )
        upload_btn.click(add_files, [uploads, search], [add_log, *corpus_outputs], **lib, **private)
        url_btn.click(add_url, [url, search], [add_log, *corpus_outputs], **lib, **private)
    return demo


def _header(n_articles: int | None, n_passages: int | None) -> str:
    count = (
        f"Answers from {n_articles:,} articles ({n_passages:,} passages); every sentence is quoted "
        "from an article and cited."
        if n_articles is not None and n_passages is not None
        else "Answers quoted from a library of news commentary, each with its source."
    )
    return f'<div class="ca-header"><h1>Commentary Assistant</h1><p>{esc(count)}</p></div>'


def _article_placeholder(where: str = "chat") -> str:
    hint = (
        "Open an article from a source card to read it whole, the cited paragraph marked."
        if where == "chat"
        else "Pick an article in the list to read it."
    )
    return f'<div class="ca-empty">{esc(hint)}</div>'


# --- launching -----------------------------------------------------------------------------------


def launch_options(settings: Settings) -> dict[str, Any]:
    """The look and limits passed to ``launch`` (Gradio 6 takes the theme and CSS there)."""
    import gradio as gr

    # system fonts only: the theme's default Google Fonts would be fetched from the internet
    sans = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    theme = gr.themes.Soft(primary_hue="indigo", neutral_hue="slate", font=sans, font_mono=mono)
    return {"theme": theme, "css": CSS, "max_file_size": settings.ingest.max_bytes}


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``("user", "password")`` from ``user:password``; InputError for any other form."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise InputError("--auth must be USER:PASSWORD (or set ASSISTANT_AUTH=user:password).")
    return user, password


def parse_logins(auth: str | None) -> list[tuple[str, str]] | None:
    """Logins from ``ann:pw1,bob:pw2`` (one or more ``user:password``, comma-separated)."""
    if not auth:
        return None
    return [parse_auth(part.strip()) for part in auth.split(",")]  # type: ignore[misc]


def parse_editors(value: str | None) -> frozenset[str] | None:
    """The users allowed to add and remove articles (``ann,bob``); None: anyone who can log in."""
    names = frozenset(n.strip() for n in (value or "").split(",") if n.strip())
    return names or None


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    auth: str | None = None,
    *,
    editors: str | None = None,
    block: bool = True,
) -> Any:
    """Bring the index in line, warm the model, launch the app and print its URL.

    ``auth``: ``user:password`` logins, comma-separated (else ASSISTANT_AUTH); ``editors``: the
    users who may add and remove articles, comma-separated (else ASSISTANT_EDITORS; unset:
    everyone who can open the app). ``block=False`` returns the running Blocks, for tests.
    """
    started = time.perf_counter()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    host = host or "127.0.0.1"
    port = port or int(os.environ.get("ASSISTANT_PORT") or 7860)
    credentials = parse_logins(auth or os.environ.get("ASSISTANT_AUTH"))
    editor_names = parse_editors(
        editors if editors is not None else os.environ.get("ASSISTANT_EDITORS")
    )
    settings = web_settings(settings)

    from assistant.api import Assistant

    relay = _ProgressRelay()
    assistant = Assistant(settings, progress=relay)
    print(
        f"Bringing the index in {settings.index_dir}/ in line with {settings.corpus_dir}/ …",
        flush=True,
    )
    assistant.ensure_index()
    try:
        assistant.ask("What is this library about?")  # loads the model: the first question is fast
    except AssistantError as e:
        print(f"note: warm-up question failed: {e}", file=sys.stderr)
    demo = build_app(settings, assistant, editors=editor_names)
    if editor_names is not None:
        users = {u for u, _ in credentials or []}
        print(f"Only {', '.join(sorted(editor_names))} may add or remove articles"
              + ("" if editor_names & users else " (none of them can log in: read-only)"),
              file=sys.stderr, flush=True)  # fmt: skip
    if not is_loopback(host) and credentials is None:
        bar = "!" * 78
        print(f"\n{bar}\n  WARNING: serving on {host} WITHOUT a login. Anyone who can reach this machine\n"
              f"  can read, add and remove articles. Use --auth USER:PASSWORD or ASSISTANT_AUTH.\n{bar}\n",
              file=sys.stderr, flush=True)  # fmt: skip
    demo.queue(default_concurrency_limit=1)
    demo.launch(
        server_name=host, server_port=port, auth=credentials, share=False,
        prevent_thread_lock=True, quiet=True, show_error=False,
        footer_links=["api"], **launch_options(settings),
    )  # fmt: skip
    shown_host = f"[{host}]" if ":" in host else host
    print(f"Commentary Assistant ready at http://{shown_host}:{port}/ "
          f"(started in {time.perf_counter() - started:.1f} s; Ctrl+C to stop)", flush=True)  # fmt: skip
    if not block:
        return demo
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
        assistant.close()
    return demo
