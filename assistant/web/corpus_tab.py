"""The Corpus tab: the article list (searchable), view or remove an article, add articles.

``layout`` places the components; the handlers below are plain functions over the app's
``WebContext`` (``wire`` binds them). Adding reports one line per article, as the CLI does.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.errors import AssistantError
from assistant.ingest.articles import summary_line
from assistant.ingest.sources import Failure, RawDoc, looks_like_html
from assistant.web import feeds_tab
from assistant.web.context import ANY_OUTLET, PRIVATE, READ, WRITE, WebContext, bind, fail, may_edit
from assistant.web.render import (
    TABLE_HEADERS,
    article_html,
    article_placeholder,
    example_questions,
    header_html,
    problems_html,
    public_message,
    table_rows,
)

UPLOAD_TYPES = (".txt", ".md", ".html", ".jsonl")
LIST_WAIT_S = 10.0  # the article list waits this long at most for the watcher's catch-up
HEADER_EVERY_S = 30.0  # how often an open page refreshes the header (size, last change)


# -- handlers ------------------------------------------------------------------------------------
def refresh(ctx: WebContext, search: str = "") -> tuple[Any, ...]:
    """The article table, the outlet filter's choices, the example questions, the header and
    the corpus files that cannot be read."""
    watcher = ctx.assistant.library.watcher
    try:
        if (
            watcher is not None
        ):  # files just dropped or edited: the list shows them (not a question)
            watcher.flush(timeout=LIST_WAIT_S)
        ctx.assistant.ensure_index()  # without a watcher: files added or deleted by hand
        problems = ctx.assistant.library.problems()
    except AssistantError as e:
        problems = [public_message(str(e))]
    rows = ctx.assistant.library.catalog.articles()
    outlets = sorted({r.outlet for r in rows if r.outlet}, key=str.casefold)
    passages = sum(r.n_passages for r in rows)
    return (
        gr.Dataframe(value=table_rows(rows, search)),
        gr.Dropdown(choices=[ANY_OUTLET, *outlets]),
        gr.Dataset(samples=[[q] for q in example_questions(rows)]),
        header_html(len(rows), passages, ctx.assistant.library.catalog.get_meta("changed")),
        problems_html(problems),
    )


def header(ctx: WebContext) -> str:
    """The header alone, from counts (cheap at any size): refreshed while the page is open."""
    catalog = ctx.assistant.library.catalog
    return header_html(
        catalog.count_articles(), catalog.count_chunks(), catalog.get_meta("changed")
    )


def search_table(ctx: WebContext, search: str) -> Any:
    return table_rows(ctx.assistant.library.catalog.articles(), search)


def pick_row(ctx: WebContext, evt: gr.SelectData) -> tuple[Any, ...]:
    row = evt.row_value or []
    if not row:
        return gr.skip(), gr.skip()
    return row[-1], view_article(ctx, row[-1])


def view_article(ctx: WebContext, article_id: str) -> str:
    if not (article_id or "").strip():
        raise fail("Pick an article in the list, or type its id.")
    try:
        return article_html(ctx.assistant.library.corpus.read(article_id.strip()), prefix="corpus")
    except AssistantError as e:
        raise fail(e) from None


def remove_article(
    ctx: WebContext, article_id: str, search: str, request: gr.Request
) -> tuple[Any, ...]:
    may_edit(ctx, request)
    aid = (article_id or "").strip()
    if not aid:
        raise fail("Pick the article to remove first.")
    try:
        ctx.assistant.remove([aid])
    except AssistantError as e:
        raise fail(e) from None
    return ("", article_placeholder("corpus"), f"{aid} removed", *refresh(ctx, search))


def add_items(ctx: WebContext, items: Iterator[RawDoc | Failure], flags: dict[str, str | None],
              progress: Any, total: int) -> str:  # fmt: skip
    """Add ``items``; the report, one line per article (and a summary line for several)."""
    ctx.relay.local.progress = progress
    seen = [0]

    def step(_: Any) -> None:
        seen[0] += 1
        progress(min(seen[0] / max(total, 1), 1.0), desc=f"Read {seen[0]}/{total}")

    try:
        results = ctx.assistant.add(items, flags, on_result=step)
    except AssistantError as e:
        raise fail(e) from None
    finally:
        ctx.relay.local.progress = None
    if not results:
        raise fail("Nothing to add.")
    lines = [r.line() for r in results]
    if len(results) > 1:
        lines.append(summary_line(results))
    return "\n".join(lines)


def add_pasted(
    ctx: WebContext, text: str, title: str, author: str, outlet: str, published: str, search: str,
    request: gr.Request,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for progress)
) -> tuple[Any, ...]:  # fmt: skip
    may_edit(ctx, request)
    from assistant.ingest.sources import decode

    try:
        body = decode((text or "").encode(), "pasted text", ctx.settings.ingest.max_bytes)
    except AssistantError as e:
        raise fail(e) from None
    kind = ("html" if looks_like_html(body)
            else "markdown" if body.lstrip()[:4] == "---\n" else "text")  # fmt: skip
    given = {"title": title, "author": author, "outlet": outlet, "published": published}
    flags: dict[str, str | None] = {
        k: (v.strip() or None) if isinstance(v, str) else None for k, v in given.items()
    }
    log = add_items(ctx, iter([RawDoc("pasted text", body, kind)]), flags, progress, 1)
    return (log, *refresh(ctx, search))


def add_files(
    ctx: WebContext,
    files: list[str] | None,
    search: str,
    request: gr.Request,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> tuple[Any, ...]:
    may_edit(ctx, request)
    from assistant.ingest.sources import read_sources

    paths = [Path(f) for f in files or []]
    if not paths:
        raise fail("Choose one or more .txt, .md, .html or .jsonl files.")

    def items() -> Iterator[RawDoc | Failure]:
        for i, p in enumerate(paths):
            progress(i / len(paths), desc=f"Reading {p.name}")
            if p.suffix.lower() not in UPLOAD_TYPES:
                yield Failure(p.name, f"unsupported file type {p.suffix or '(none)'}; "
                                      "use .txt, .md, .html or .jsonl.")  # fmt: skip
                continue
            # the temp path goes in; people see the name they uploaded
            for item in read_sources([str(p)], ctx.settings.ingest):
                origin = item.origin.replace(str(p), p.name)
                if isinstance(item, Failure):
                    yield Failure(origin, item.message.replace(str(p), p.name))
                else:
                    yield replace(item, origin=origin)

    log = add_items(ctx, items(), {}, progress, len(paths))
    return (log, *refresh(ctx, search))


def add_url(ctx: WebContext, url: str, search: str, request: gr.Request,
            progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008  # fmt: skip
    may_edit(ctx, request)
    from assistant.ingest.sources import read_sources, web_address

    if not (url or "").strip():
        raise fail("Type the address of an article, e.g. https://…")
    try:
        url = web_address(url)  # never a path: the box must not read the server's disk
    except AssistantError as e:
        raise fail(e) from None
    progress(0, desc="Fetching")
    log = add_items(ctx, read_sources([url], ctx.settings.ingest), {}, progress, 1)
    return (log, *refresh(ctx, search))


# -- layout and wiring ---------------------------------------------------------------------------
@dataclass
class CorpusTab:
    """The Corpus tab's components."""

    search: Any
    table: Any
    picked: Any
    view_btn: Any
    remove_btn: Any
    status: Any
    article: Any
    paste: Any
    p_title: Any
    p_author: Any
    p_outlet: Any
    p_date: Any
    paste_btn: Any
    uploads: Any
    upload_btn: Any
    url: Any
    url_btn: Any
    add_log: Any
    feeds: feeds_tab.FeedsTab
    problems: Any


def layout(ctx: WebContext) -> CorpusTab:
    """The Corpus tab's components, placed inside the enclosing ``gr.Tab``."""
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
            status = gr.Textbox(label="Status", interactive=False, max_lines=1, elem_id="ca-status")
            problems = gr.HTML("", elem_id="ca-problems")
        with gr.Column(scale=2):
            article = gr.HTML(
                article_placeholder("corpus"), js_on_load=None, elem_id="ca-corpus-article"
            )
    gr.Markdown("### Add articles")
    with gr.Tabs():
        with gr.Tab("Paste text"):
            paste = gr.Textbox(label="Article text", lines=8,
                               placeholder="Paste the title and paragraphs", elem_id="ca-paste")  # fmt: skip
            with gr.Row():
                p_title = gr.Textbox(label="Title (optional)", elem_id="ca-paste-title")
                p_author = gr.Textbox(label="Author (optional)", elem_id="ca-paste-author")
                p_outlet = gr.Textbox(label="Outlet (optional)", elem_id="ca-paste-outlet")
                p_date = gr.Textbox(label="Published (optional)", placeholder="YYYY-MM-DD",
                                    elem_id="ca-paste-date")  # fmt: skip
            paste_btn = gr.Button("Add pasted article", variant="primary", elem_id="ca-paste-add")
        with gr.Tab("Upload files"):
            uploads = gr.File(
                label=f"Files: .txt .md .html .jsonl, up to {ctx.settings.ingest.max_bytes:,} bytes each",
                file_count="multiple", file_types=list(UPLOAD_TYPES), type="filepath", elem_id="ca-upload",
            )  # fmt: skip
            upload_btn = gr.Button("Add files", variant="primary")
        with gr.Tab("From a URL"):
            url = gr.Textbox(label="Address", placeholder="https://…")
            url_btn = gr.Button("Fetch and add", variant="primary")
        with gr.Tab("Follow a feed"):
            feeds = feeds_tab.layout(ctx)
    add_log = gr.Textbox(label="Result (one line per article)", lines=3, interactive=False,
                         elem_classes=["ca-mono"], elem_id="ca-add-log")  # fmt: skip
    return CorpusTab(search, table, picked, view_btn, remove_btn, status, article, paste, p_title,
                     p_author, p_outlet, p_date, paste_btn, uploads, upload_btn, url, url_btn,
                     add_log, feeds, problems)  # fmt: skip


def wire(ctx: WebContext, demo: gr.Blocks, t: CorpusTab, refreshed: list[Any]) -> None:
    """The Corpus tab's events; ``refreshed``: what ``refresh`` updates (table, outlet filter,
    example questions, header)."""
    demo.load(bind(ctx, refresh), t.search, refreshed, **READ, **PRIVATE)
    # the watcher changes the library behind the page's back: its header follows
    gr.Timer(HEADER_EVERY_S).tick(bind(ctx, header), None, refreshed[3], queue=False,
                                  show_progress="hidden", **PRIVATE)  # fmt: skip
    t.search.change(bind(ctx, search_table), t.search, t.table, **READ, **PRIVATE)
    t.table.select(bind(ctx, pick_row), None, [t.picked, t.article], **READ, **PRIVATE)
    t.view_btn.click(bind(ctx, view_article), t.picked, t.article, **READ, **PRIVATE)
    t.remove_btn.click(bind(ctx, remove_article), [t.picked, t.search],
                       [t.picked, t.article, t.status, *refreshed], **WRITE, **PRIVATE)  # fmt: skip
    t.paste_btn.click(bind(ctx, add_pasted),
                      [t.paste, t.p_title, t.p_author, t.p_outlet, t.p_date, t.search],
                      [t.add_log, *refreshed], **WRITE, **PRIVATE)  # fmt: skip
    t.upload_btn.click(bind(ctx, add_files), [t.uploads, t.search], [t.add_log, *refreshed],
                       **WRITE, **PRIVATE)  # fmt: skip
    t.url_btn.click(bind(ctx, add_url), [t.url, t.search], [t.add_log, *refreshed],
                    **WRITE, **PRIVATE)  # fmt: skip
    feeds_tab.wire(ctx, t.feeds, t.search, refreshed)
