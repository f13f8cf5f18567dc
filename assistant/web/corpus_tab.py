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
from assistant.text import count
from assistant.web import feeds_tab
from assistant.web.context import (
    ANY_OUTLET,
    PRIVATE,
    READ,
    WRITE,
    WebContext,
    bind,
    fail,
    inline,
    may_edit,
)
from assistant.web.render import (
    SORTS,
    TABLE_HEADERS,
    article_html,
    article_placeholder,
    example_questions,
    header_html,
    problems_html,
    public_message,
    table_page,
    table_rows,
    web_advice,
)

UPLOAD_TYPES = (".txt", ".md", ".html", ".jsonl")
LIST_WAIT_S = 10.0  # the article list waits this long at most for the watcher's catch-up
HEADER_EVERY_S = 30.0  # how often an open page refreshes the header (size, last change)


# -- handlers ------------------------------------------------------------------------------------
def refresh(ctx: WebContext, search: str = "") -> tuple[Any, ...]:
    """The outlet filter's choices, the example questions, the header and the corpus files
    that cannot be read (the table follows: ``show_table``, which keeps its search and sort)."""
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
        gr.Dropdown(choices=[ANY_OUTLET, *outlets]),
        gr.Dataset(samples=[[q] for q in example_questions(rows)]),
        header_html(len(rows), passages, ctx.assistant.library.catalog.get_meta("changed")),
        problems_html(problems),
    )


def show_table(ctx: WebContext, search: str, sort: str, page: Any) -> tuple[Any, ...]:
    """One page of the article table for the search and sort; the page shown; the count line."""
    catalog = ctx.assistant.library.catalog
    rows = catalog.articles()
    untitled = [f"{r.id}:0" for r in rows if not r.title]
    firsts = {c.article_id: _first_line(c.text) for c in catalog.chunks(untitled).values()}
    matched = table_rows(rows, search or "", sort or SORTS[0], firsts)
    shown, page, line = table_page(matched, len(rows), search or "", int(page or 0))
    return gr.Dataframe(value=shown), page, line


def _first_line(text: str, limit: int = 70) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def header(ctx: WebContext) -> str:
    """The header alone, from counts (cheap at any size): refreshed while the page is open."""
    catalog = ctx.assistant.library.catalog
    return header_html(
        catalog.count_articles(), catalog.count_chunks(), catalog.get_meta("changed")
    )


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


def confirm_remove(ctx: WebContext, article_id: str, request: gr.Request) -> tuple[Any, ...]:
    """Remove, step one: the question "Remove “title” (id)?" with Yes and Cancel."""
    may_edit(ctx, request)
    aid = (article_id or "").strip()
    if not aid:
        raise fail("Pick the article to remove first.")
    row = ctx.assistant.library.catalog.article(aid)
    if row is None:
        raise fail(f"No article {aid!r} in the library. Pick one in the list.")
    name = f"“{row.title}” ({aid})" if row.title else aid
    return gr.Row(visible=True), f"Remove {name}? Its file and passages are deleted.", aid


def remove_article(ctx: WebContext, article_id: str, request: gr.Request) -> tuple[Any, ...]:
    """Remove, step two (confirmed): the article goes; its file is kept for one Undo."""
    may_edit(ctx, request)
    aid = (article_id or "").strip()
    if not aid:
        raise fail("Pick the article to remove first.")
    try:
        kept = ctx.assistant.library.corpus.read_text(aid)
        ctx.assistant.remove([aid])
    except AssistantError as e:
        raise fail(e) from None
    return ("", article_placeholder("corpus"), f"{aid} removed", gr.Row(visible=False),
            gr.Button(visible=True), {"id": aid, "text": kept}, *refresh(ctx))  # fmt: skip


def undo_remove(ctx: WebContext, undo: Any, request: gr.Request) -> tuple[Any, ...]:
    """Put the last removed article back as it was (its file, then its passages)."""
    may_edit(ctx, request)
    if not isinstance(undo, dict) or not undo.get("id"):
        raise fail("Nothing to undo.")
    from assistant.ingest.corpus import parse

    aid, lib = str(undo["id"]), ctx.assistant.library
    try:
        with lib.write_lock():
            if lib.corpus.present(aid):
                raise fail(f"{aid} is in the library again already: nothing to undo.")
            lib.corpus.write(replace(parse(str(undo["text"]), aid), id=aid))
            lib.sync()
    except AssistantError as e:
        raise fail(e) from None
    return (aid, view_article(ctx, aid), f"{aid} restored", gr.Button(visible=False), None,
            *refresh(ctx))  # fmt: skip


def add_items(ctx: WebContext, items: Iterator[RawDoc | Failure], flags: dict[str, str | None],
              progress: Any, total: int) -> str:  # fmt: skip
    """Add ``items``; the report, one line per article (and a summary line for several)."""
    ctx.relay.local.progress = progress
    seen = [0]

    def step(_: Any) -> None:
        seen[0] += 1
        done, desc = read_progress(seen[0], total)
        progress(done, desc=desc)

    try:
        results = ctx.assistant.add(items, flags, on_result=step)
    except AssistantError as e:
        raise fail(e) from None
    finally:
        ctx.relay.local.progress = None
    if not results:
        raise fail("Nothing to add.")
    lines = [web_advice(r.line()) for r in results]
    if len(results) > 1:
        lines.append(summary_line(results))
    return "\n".join(lines)


def read_progress(seen: int, expected: int) -> tuple[tuple[int, int | None], str]:
    """The progress after ``seen`` articles when ``expected`` were foreseen: a count out of the
    total while it holds, a plain count once a source held more (a .jsonl, a feed), never 40/1."""
    if seen <= expected and expected > 1:
        return (seen, expected), f"Read {seen} of {expected}"
    return (seen, None), f"Read {count(seen, 'article')}"


def add_pasted(
    ctx: WebContext, text: str, title: str, author: str, outlet: str, published: str, search: str,
    request: gr.Request,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for progress)
) -> tuple[Any, ...]:  # fmt: skip
    may_edit(ctx, request)
    from assistant.ingest.sources import decode

    try:
        body = decode((text or "").encode(), "pasted text", ctx.settings.ingest.max_bytes,
                      typed="Paste the article's text.")  # fmt: skip
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
    sort: Any
    page: Any
    count: Any
    prev_btn: Any
    next_btn: Any
    table: Any
    picked: Any
    view_btn: Any
    remove_btn: Any
    confirm: Any
    confirm_text: Any
    yes_btn: Any
    cancel_btn: Any
    undo_btn: Any
    undo: Any
    status: Any
    error: Any
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
    add_error: Any
    feeds: feeds_tab.FeedsTab
    problems: Any


def layout(ctx: WebContext) -> CorpusTab:
    """The Corpus tab's components, placed inside the enclosing ``gr.Tab``."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):  # the table wide enough for its dates; the reader beside it
            with gr.Row(equal_height=True):
                search = gr.Textbox(label="Search the articles (whole words)", scale=3,
                                    placeholder="title, author, outlet, date, id…",
                                    elem_id="ca-search")  # fmt: skip
                sort = gr.Dropdown(list(SORTS), value=SORTS[0], label="Sort", scale=1,
                                   min_width=150, filterable=False, elem_id="ca-sort")  # fmt: skip
            with gr.Row(equal_height=True, elem_classes=["ca-pager"]):
                count = gr.Markdown("", elem_id="ca-count")
                prev_btn = gr.Button("◀ Previous", size="sm", scale=0, min_width=100,
                                     elem_id="ca-prev")  # fmt: skip
                next_btn = gr.Button("Next ▶", size="sm", scale=0, min_width=100,
                                     elem_id="ca-next")  # fmt: skip
            page = gr.State(0)
            # one line per row and a tall frame: 15+ rows in view at 1400×1000 (50 a page)
            table = gr.Dataframe(
                headers=TABLE_HEADERS, datatype=["str", "str", "str", "str", "number", "str"],
                column_widths=["32%", "14%", "14%", "100px", "84px", "16%"],
                interactive=False, wrap=False, max_height=640, elem_id="ca-table",
            )  # fmt: skip
            with gr.Row():
                picked = gr.Textbox(label="Article id", scale=3, elem_id="ca-picked")
                view_btn = gr.Button("View", scale=1, min_width=70)
                remove_btn = gr.Button("Remove", variant="stop", scale=1, min_width=70,
                                       elem_id="ca-remove")  # fmt: skip
            with gr.Row(visible=False, elem_id="ca-confirm") as confirm:
                confirm_text = gr.Markdown("")
                yes_btn = gr.Button("Yes, remove", variant="stop", scale=0, min_width=120,
                                    elem_id="ca-remove-yes")  # fmt: skip
                cancel_btn = gr.Button("Cancel", scale=0, min_width=90, elem_id="ca-remove-no")
            error = gr.HTML("", elem_id="ca-corpus-error")
            with gr.Row(equal_height=True):
                status = gr.Textbox(label="Status", interactive=False, max_lines=1,
                                    elem_id="ca-status", scale=4)  # fmt: skip
                undo_btn = gr.Button("Undo remove", visible=False, scale=1, min_width=120,
                                     elem_id="ca-undo")  # fmt: skip
            undo = gr.State(None)  # the last removed article's file, for one Undo
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
            upload_btn = gr.Button("Add files", variant="primary", elem_id="ca-upload-add")
        with gr.Tab("From a URL"):
            url = gr.Textbox(label="Address", placeholder="https://…")
            url_btn = gr.Button("Fetch and add", variant="primary")
        with gr.Tab("Follow a feed"):
            feeds = feeds_tab.layout(ctx)
    add_error = gr.HTML("", elem_id="ca-add-error")  # under the add buttons, above the result
    add_log = gr.Textbox(label="Result (one line per article)", lines=3, interactive=False,
                         elem_classes=["ca-mono"], elem_id="ca-add-log")  # fmt: skip
    return CorpusTab(search, sort, page, count, prev_btn, next_btn, table, picked, view_btn,
                     remove_btn, confirm, confirm_text, yes_btn, cancel_btn, undo_btn, undo,
                     status, error, article, paste, p_title, p_author, p_outlet, p_date,
                     paste_btn, uploads, upload_btn, url, url_btn, add_log, add_error, feeds,
                     problems)  # fmt: skip


def wire(ctx: WebContext, demo: gr.Blocks, t: CorpusTab, refreshed: list[Any]) -> None:
    """The Corpus tab's events; ``refreshed``: what ``refresh`` updates (outlet filter,
    example questions, header, problems); the table is redrawn after each by ``show_table``.
    Errors go to the error line beside the control (``inline``), never over the page."""
    view = [t.search, t.sort, t.page]
    table_out = [t.table, t.page, t.count]
    show = bind(ctx, show_table)

    def redraw(event: Any) -> None:
        event.then(show, view, table_out, **READ, **PRIVATE)

    redraw(demo.load(bind(ctx, refresh), t.search, refreshed, **READ, **PRIVATE))
    t.search.change(lambda s, o: show(s, o, 0), [t.search, t.sort], table_out, **READ, **PRIVATE)
    t.sort.change(lambda s, o: show(s, o, 0), [t.search, t.sort], table_out, **READ, **PRIVATE)
    t.prev_btn.click(lambda s, o, p: show(s, o, int(p or 0) - 1), view, table_out, **READ,
                     **PRIVATE)  # fmt: skip
    t.next_btn.click(lambda s, o, p: show(s, o, int(p or 0) + 1), view, table_out, **READ,
                     **PRIVATE)  # fmt: skip
    # the watcher changes the library behind the page's back: its header follows
    gr.Timer(HEADER_EVERY_S).tick(bind(ctx, header), None, refreshed[2], queue=False,
                                  show_progress="hidden", **PRIVATE)  # fmt: skip
    t.table.select(bind(ctx, pick_row), None, [t.picked, t.article], **READ, **PRIVATE)
    t.view_btn.click(bind(ctx, inline(view_article, 2)), t.picked, [t.article, t.error],
                     **READ, **PRIVATE)  # fmt: skip
    t.remove_btn.click(bind(ctx, inline(confirm_remove, 4)), t.picked,
                       [t.confirm, t.confirm_text, t.picked, t.error], **PRIVATE)  # fmt: skip
    t.cancel_btn.click(lambda: gr.Row(visible=False), None, t.confirm, **PRIVATE)
    removed = [t.picked, t.article, t.status, t.confirm, t.undo_btn, t.undo, *refreshed, t.error]
    redraw(t.yes_btn.click(bind(ctx, inline(remove_article, len(removed))), t.picked, removed,
                           **WRITE, **PRIVATE))  # fmt: skip
    restored = [t.picked, t.article, t.status, t.undo_btn, t.undo, *refreshed, t.error]
    redraw(t.undo_btn.click(bind(ctx, inline(undo_remove, len(restored))), t.undo, restored,
                            **WRITE, **PRIVATE))  # fmt: skip
    added = [t.add_log, *refreshed, t.add_error]
    redraw(t.paste_btn.click(bind(ctx, inline(add_pasted, len(added))),
                             [t.paste, t.p_title, t.p_author, t.p_outlet, t.p_date, t.search],
                             added, **WRITE, **PRIVATE))  # fmt: skip
    redraw(t.upload_btn.click(bind(ctx, inline(add_files, len(added))), [t.uploads, t.search],
                              added, **WRITE, **PRIVATE))  # fmt: skip
    redraw(t.url_btn.click(bind(ctx, inline(add_url, len(added))), [t.url, t.search], added,
                           **WRITE, **PRIVATE))  # fmt: skip
    feeds_tab.wire(ctx, demo, t.feeds, t.search, refreshed, bind(ctx, refresh), redraw)
