"""The web app's "Follow a feed" panel: follow a feed, see the followed ones, update them now.

A tab inside the Corpus tab (``corpus_tab.layout`` places it, ``corpus_tab.wire`` wires it,
handing in its ``refresh``: this module never imports the Corpus tab).
The work is done by plain functions (``follow_feed``, ``stop_following``, ``update_feeds``,
``feed_rows``) that take the Assistant and give text back, so they are tested without a
browser; the handlers add the editors check (``may_edit``), as for adding articles: Gradio's
private endpoints stay reachable by anyone who opens the page.

No ``from __future__ import annotations`` here: Gradio reads the handlers' annotations
(``gr.Request``, ``gr.SelectData``) as objects to know what to pass them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.errors import AssistantError, InputError
from assistant.ingest import feeds
from assistant.web.context import PRIVATE, READ, WRITE, WebContext, bind, fail, inline, may_edit
from assistant.web.render import web_advice

if TYPE_CHECKING:
    from assistant.api import Assistant
    from assistant.ingest.articles import AddResult

FEED_HEADERS = ["Feed", "Title", "Last update (UTC)", "Result"]


def feed_rows(assistant: "Assistant") -> list[list[str]]:
    """The followed feeds as table rows."""
    return [
        [s.url, s.title or "", (s.last_update or "never").replace("T", " ")[:16],
         web_advice(s.last_result or "")]
        for s in feeds.load(assistant.settings.corpus_dir)
    ]  # fmt: skip


def follow_feed(assistant: "Assistant", url: str) -> str:
    """Follow ``url`` and import its entries; the log, one line per article (as the CLI)."""
    url = (url or "").strip()
    if not url:
        raise InputError("Type the address of a feed, e.g. https://example.com/opinion/rss")
    from assistant.ingest.sources import web_address

    lines: list[str] = []
    report = feeds.follow(
        assistant.settings, assistant.add, web_address(url), _limit(assistant), _collect(lines)
    )
    return "\n".join([*lines, f"following {report.url}: {report.summary()}"])


def stop_following(assistant: "Assistant", url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise InputError("Pick a feed in the list, or type its address.")
    feeds.unfollow(assistant.settings.corpus_dir, url)
    return f"{url} no longer followed (its articles stay)"


def update_feeds(assistant: "Assistant") -> str:
    """New entries of every followed feed; the log, one line per article and per feed."""
    lines: list[str] = []

    def on_feed(report: feeds.FeedReport) -> None:
        if report.error is not None:
            lines.append(f"{report.url} error: {report.error}")
        else:
            lines.append(f"{report.url}: {report.summary()}")

    reports = feeds.update(
        assistant.settings, assistant.add, _limit(assistant), _collect(lines), on_feed
    )
    return "\n".join(lines) if reports else "No feeds followed yet."


def _limit(assistant: "Assistant") -> int:
    return assistant.settings.ingest.feed_max_entries


def _collect(lines: list[str]) -> Callable[["AddResult"], None]:
    return lambda r: lines.append(r.line())


# -- the tab: handlers over the web context, layout, events ------------------------------------


def _run(ctx: WebContext, action: Callable[[], str]) -> tuple[Any, ...]:
    try:
        log = web_advice(action())  # the CLI's lines, with advice a web user can follow
    except AssistantError as e:
        raise fail(e) from None
    return log, feed_rows(ctx.assistant)


def follow(ctx: WebContext, url: str, request: gr.Request) -> tuple[Any, ...]:
    may_edit(ctx, request)
    return _run(ctx, lambda: follow_feed(ctx.assistant, url))


def unfollow(ctx: WebContext, url: str, request: gr.Request) -> tuple[Any, ...]:
    may_edit(ctx, request)
    return _run(ctx, lambda: stop_following(ctx.assistant, url))


def update_now(ctx: WebContext, request: gr.Request) -> tuple[Any, ...]:
    may_edit(ctx, request)
    return _run(ctx, lambda: update_feeds(ctx.assistant))


def pick_feed(ctx: WebContext, evt: gr.SelectData) -> Any:
    row = evt.row_value or []
    return row[0] if row else gr.skip()


@dataclass
class FeedsTab:
    url: Any
    follow_btn: Any
    update_btn: Any
    unfollow_btn: Any
    table: Any
    log: Any
    error: Any


def shown_feeds(ctx: WebContext) -> Any:
    """The followed feeds' table, as a page load shows it."""
    return gr.Dataframe(value=feed_rows(ctx.assistant))


def layout(ctx: WebContext) -> FeedsTab:
    """The "Follow a feed" components, placed inside the enclosing ``gr.Tab``."""
    url = gr.Textbox(label="Feed address (RSS or Atom)", placeholder="https://…/rss",
                     elem_id="ca-feed-url")  # fmt: skip
    with gr.Row():
        follow_btn = gr.Button("Follow and import", variant="primary", elem_id="ca-feed-follow")
        update_btn = gr.Button("Update now", elem_id="ca-feed-update")
        unfollow_btn = gr.Button("Stop following", variant="stop", elem_id="ca-feed-unfollow")
    error = gr.HTML("", elem_id="ca-feed-error")
    # filled on each page load by ``wire`` (a callable value would be a public API endpoint)
    table = gr.Dataframe(headers=FEED_HEADERS, interactive=False, wrap=True, max_height=240,
                         elem_id="ca-feeds")  # fmt: skip
    log = gr.Textbox(label="Feed result (one line per article, then per feed)", lines=3,
                     interactive=False, elem_classes=["ca-mono"], elem_id="ca-feed-log")  # fmt: skip
    return FeedsTab(url, follow_btn, update_btn, unfollow_btn, table, log, error)


def wire(
    ctx: WebContext, demo: gr.Blocks, t: FeedsTab, search: Any, refreshed: list[Any],
    refresh: Callable[..., Any], redraw: Callable[[Any], None] = lambda event: None,
) -> None:  # fmt: skip
    """The tab's events: writers one at a time, like adding articles; an error goes to the
    line under the buttons (``inline``); then ``refresh`` (the Corpus tab's, bound: it takes
    ``search``) updates ``refreshed`` — handed in, so this module does not import the Corpus
    tab that places it — and ``redraw`` chains the article table's update."""
    demo.load(bind(ctx, shown_feeds), None, t.table, **READ, **PRIVATE)
    outputs = [t.log, t.table, t.error]
    n = len(outputs)
    for button, handler, inputs in ((t.follow_btn, follow, [t.url]),
                                    (t.unfollow_btn, unfollow, [t.url]),
                                    (t.update_btn, update_now, [])):  # fmt: skip
        event = button.click(bind(ctx, inline(handler, n)), inputs, outputs, **WRITE, **PRIVATE)
        redraw(event.then(refresh, search, refreshed, **READ, **PRIVATE))
    t.table.select(bind(ctx, pick_feed), None, t.url, **READ, **PRIVATE)
