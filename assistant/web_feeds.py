"""The web app's "Follow a feed" panel: follow a feed, see the followed ones, update them now.

``feeds_panel`` builds the components and their events inside the Corpus tab of ``web.py``;
the work is done by the plain functions below (``follow_feed``, ``stop_following``,
``update_feeds``, ``feed_rows``), which take the Assistant and give text back, so they are
tested without a browser. Editing is checked in each handler (``may_edit``), as for adding
articles: Gradio's private endpoints stay reachable by anyone who opens the page.

No ``from __future__ import annotations`` here: Gradio reads the handlers' annotations
(``gr.Request``, ``gr.SelectData``) as objects to know what to pass them.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from assistant import feeds
from assistant.errors import AssistantError, InputError

if TYPE_CHECKING:
    from assistant.api import Assistant
    from assistant.library import AddResult

FEED_HEADERS = ["Feed", "Title", "Last update (UTC)", "Result"]


def feed_rows(assistant: "Assistant") -> list[list[str]]:
    """The followed feeds as table rows."""
    return [
        [s.url, s.title or "", (s.last_update or "never").replace("T", " ")[:16],
         s.last_result or ""]
        for s in feeds.load(assistant.settings.corpus_dir)
    ]  # fmt: skip


def follow_feed(assistant: "Assistant", url: str) -> str:
    """Follow ``url`` and import its entries; the log, one line per article (as the CLI)."""
    url = (url or "").strip()
    if not url:
        raise InputError("Type the address of a feed, e.g. https://example.com/opinion/rss")
    lines: list[str] = []
    report = feeds.follow(assistant, url, _limit(assistant), _collect(lines))
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

    reports = feeds.update(assistant, _limit(assistant), _collect(lines), on_feed)
    return "\n".join(lines) if reports else "No feeds followed yet."


def _limit(assistant: "Assistant") -> int:
    return assistant.settings.ingest.feed_max_entries


def _collect(lines: list[str]) -> Callable[["AddResult"], None]:
    return lambda r: lines.append(r.line())


def feeds_panel(
    assistant: "Assistant",
    may_edit: Callable[[Any], None],
    fail: Callable[[AssistantError | str], Exception],
    refresh: Callable[[str], tuple[Any, ...]],
    search: Any,
    corpus_outputs: Sequence[Any],
    events: dict[str, Any],
) -> None:
    """Build the panel inside the current Gradio block and wire its events.

    ``may_edit(request)`` raises for users who may not change the library; ``fail`` turns an
    error into a ``gr.Error``; ``refresh(search)`` gives the values of ``corpus_outputs``;
    ``events`` are the keyword arguments of writer events (one writer at a time).
    """
    import gradio as gr

    a = assistant

    def run(action: Callable[[], str], search_text: str) -> tuple[Any, ...]:
        try:
            log = action()
        except AssistantError as e:
            raise fail(e) from None
        return (log, feed_rows(a), *refresh(search_text))

    def follow(url: str, search_text: str, request: gr.Request) -> tuple[Any, ...]:
        may_edit(request)
        return run(lambda: follow_feed(a, url), search_text)

    def unfollow(url: str, search_text: str, request: gr.Request) -> tuple[Any, ...]:
        may_edit(request)
        return run(lambda: stop_following(a, url), search_text)

    def update_now(search_text: str, request: gr.Request) -> tuple[Any, ...]:
        may_edit(request)
        return run(lambda: update_feeds(a), search_text)

    def pick(evt: gr.SelectData) -> Any:
        row = evt.row_value or []
        return row[0] if row else gr.skip()

    url = gr.Textbox(label="Feed address (RSS or Atom)", placeholder="https://…/rss",
                     elem_id="ca-feed-url")  # fmt: skip
    with gr.Row():
        follow_btn = gr.Button("Follow and import", variant="primary", elem_id="ca-feed-follow")
        update_btn = gr.Button("Update now", elem_id="ca-feed-update")
        unfollow_btn = gr.Button("Stop following", variant="stop", elem_id="ca-feed-unfollow")
    table = gr.Dataframe(headers=FEED_HEADERS, value=lambda: feed_rows(a), interactive=False,
                         wrap=True, max_height=240, elem_id="ca-feeds")  # fmt: skip
    log = gr.Textbox(label="Feed result (one line per article, then per feed)", lines=3, interactive=False,
                     elem_classes=["ca-mono"], elem_id="ca-feed-log")  # fmt: skip
    outputs = [log, table, *corpus_outputs]
    follow_btn.click(follow, [url, search], outputs, **events)
    unfollow_btn.click(unfollow, [url, search], outputs, **events)
    update_btn.click(update_now, [search], outputs, **events)
    table.select(pick, None, url, api_visibility="private")
