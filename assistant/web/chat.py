"""The Chat tab: ask, follow up, filter; each answer's sources, and the article they cite.

``layout`` places the components; the handlers below are plain functions over the app's
``WebContext`` (``wire`` binds them to the components). ``api_ask`` is the ``/ask`` endpoint.
"""

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.errors import AssistantError, InputError
from assistant.markdown import conversation_markdown
from assistant.types import Filters
from assistant.web.context import (
    ANY_OUTLET,
    PRIVATE,
    READ,
    WebContext,
    asset,
    bind,
    error_html,
    fail,
)
from assistant.web.render import (
    article_html,
    article_placeholder,
    chat_messages,
    draft_message,
    plain_markdown,
    sources_html,
    web_advice,
)

# the conversation kept in the browser: the latest answers only (each holds its passages, a few
# kB; browsers give a page about 5 MB of storage)
KEPT_ANSWERS = 200

# "Answer as": the chat's way to ask for what the CLI's --by and --timeline ask for
AUTOMATIC = "Automatic"
ANSWER_AS: dict[str, tuple[str | None, str | None]] = {  # label -> (mode, by) of Assistant.ask
    AUTOMATIC: (None, None),  # the question's wording decides
    "Viewpoints, by article": ("viewpoints", "article"),
    "Viewpoints, by author": ("viewpoints", "author"),
    "Viewpoints, by outlet": ("viewpoints", "outlet"),
    "Timeline": ("timeline", None),
}


# -- handlers ------------------------------------------------------------------------------------
def answer_as(label: Any) -> tuple[str | None, str | None]:
    """The (mode, by) a label of the "Answer as" menu asks for (blank: automatic)."""
    if label in (None, ""):
        return None, None
    if label not in ANSWER_AS:
        raise InputError(f"Answer as: expected one of {', '.join(ANSWER_AS)} (got {label!r}).")
    return ANSWER_AS[label]


def parse_form(
    outlet: Any, author: Any, since: Any, until: Any, k: Any, as_of: Any = None
) -> tuple[Filters, int | None]:
    """The filters and k from the form (blank means no restriction); InputError, worded for
    the web (not the CLI's "-k must be"), for a bad date or k."""
    if isinstance(outlet, str) and outlet.strip() == ANY_OUTLET:
        outlet = None
    kk = None
    if k not in (None, ""):
        try:
            kk = int(float(k)) if float(k) == int(float(k)) else None
        except (TypeError, ValueError, OverflowError):
            kk = None
        if kk is None or not 1 <= kk <= K_MAX:
            raise InputError(
                f"The number of passages (k) must be a whole number from 1 to {K_MAX} "
                f"(got {str(k)[:40]!r})."
            )
    for label, key, value in (("Since", "since", since), ("Until", "until", until),
                              ("As of", "as_of", as_of)):  # fmt: skip
        try:  # say which box holds the bad date
            Filters.parse(**{key: value})
        except InputError as e:
            raise InputError(f"Filters › {label}: {e}") from None
    return Filters.parse(outlet, author, since, until, as_of), kk


K_MAX = 50  # as Assistant.ask allows


def check_by(by: Any) -> str | None:
    """``by`` from the web API, or InputError worded for the web (not the CLI's "--by")."""
    from assistant.answer.viewpoints import GROUPINGS

    if by in (None, ""):
        return None
    if by not in GROUPINGS:
        raise InputError(f"by: expected one of {', '.join(GROUPINGS)} (got {str(by)[:40]!r}).")
    return str(by)


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


def ask(
    ctx: WebContext, question: str, history: Any, outlet: Any, author: Any, since: Any, until: Any,
    k: Any, generate: Any = False, mode: Any = None, by: Any = None, as_of: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """The answer object, or the error toast."""
    try:
        ctx.assistant.ensure_index()  # nothing while the watcher runs; else the directory's times
        filters, kk = parse_form(outlet, author, since, until, k, as_of)
        return ctx.assistant.ask(question, history=_history(history), filters=filters, k=kk,
                                 generate=bool(generate), mode=mode or None,
                                 by=check_by(by)).to_dict()  # fmt: skip
    except AssistantError as e:
        raise fail(e) from None
    except (TypeError, ValueError) as e:
        raise fail(f"Invalid input: {e}") from None


def api_ask(
    ctx: WebContext,
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
    as_of: str | None = None,
) -> dict[str, Any]:
    """The answer object for ``question`` (history: earlier answer objects, oldest first;
    generate: a configured language model writes it, checked against the sources; mode:
    "viewpoints", "timeline" or "answer", by: "article", "author" or "outlet"; as_of: the day
    it is asked on, YYYY-MM-DD: later articles are not used)."""
    return ask(ctx, question, history, outlet, author, since, until, k, generate, mode, by, as_of)


def chat(
    ctx: WebContext, question: str, answers: list[dict[str, Any]], outlet: str, author: str,
    since: str, until: str, k: float, generate: bool = False, as_label: Any = AUTOMATIC,
    as_of: str = "",
) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    """Streams the chat's outputs; an error (an empty question, a bad date in Filters) goes to
    the line under the question box, and the conversation stays as it was, usable."""
    answers = stored_answers(answers)
    try:
        mode, by = answer_as(as_label)
        if generate and ctx.assistant.can_generate and mode is None:
            ans = yield from drafts(ctx, question, answers, outlet, author, since, until, k, as_of)
        else:  # a viewpoints answer is its quotes: there is nothing for a model to write
            ans = ask(ctx, question, answers, outlet, author, since, until, k, False, mode, by,
                      as_of)  # fmt: skip
    except (InputError, gr.Error) as e:
        # the conversation as it was (without a half-streamed draft), the error under the box
        message = fail(e).message if isinstance(e, InputError) else e.message
        yield (gr.skip(), chat_messages(answers), *(gr.skip(),) * 5, error_html(str(message)))
        return
    ans = {**ans, "answer": web_advice(ans.get("answer") or "")}  # not "assistant list": a tab
    answers = [*answers, ans][-KEPT_ANSWERS:]
    yield (
        "",
        chat_messages(answers),
        answers,
        ans,
        sources_html(ans, len(answers) - 1),
        gr.Tabs(selected="sources"),
        conversation_markdown(answers),
        "",
    )


def drafts(
    ctx: WebContext, question: str, answers: list[dict[str, Any]], outlet: str, author: str,
    since: str, until: str, k: float, as_of: str = "",
) -> Generator[tuple[Any, ...], None, dict[str, Any]]:  # fmt: skip
    """Streams the model's draft into the chat; returns the checked answer object."""
    so_far = [*chat_messages(answers), {"role": "user", "content": plain_markdown(question)}]
    skip = (gr.skip(),) * 6
    text, final = "", None
    try:
        ctx.assistant.ensure_index()
        filters, kk = parse_form(outlet, author, since, until, k, as_of)
        for item in ctx.assistant.ask_stream(question, _history(answers), filters, kk):
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


def stored_answers(value: Any) -> list[dict[str, Any]]:
    """The conversation kept in the browser, as far as it is one: answer objects with a
    question and an answer (anything else in the browser's storage is dropped)."""
    if not isinstance(value, list):
        return []
    return [a for a in value if isinstance(a, dict) and isinstance(a.get("question"), str)
            and isinstance(a.get("answer"), str)]  # fmt: skip


def restore(ctx: WebContext, answers: Any) -> tuple[Any, ...]:
    """The conversation kept in the browser, shown again after a reload."""
    kept = stored_answers(answers)
    last = kept[-1] if kept else None
    return (chat_messages(kept), kept, last, sources_html(last, len(kept) - 1 if kept else None),
            conversation_markdown(kept))  # fmt: skip


def new_conversation(ctx: WebContext) -> tuple[Any, ...]:
    return (
        [],
        [],
        None,
        sources_html(None),
        article_placeholder(),
        "",
        conversation_markdown([]),
        "",
    )


def pick_message(
    ctx: WebContext, answers: list[dict[str, Any]], evt: gr.SelectData
) -> tuple[Any, ...]:
    answers = stored_answers(answers)
    index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
    if not isinstance(index, int) or not 0 <= index // 2 < len(answers):
        return gr.skip(), gr.skip(), gr.skip()
    ans = answers[index // 2]
    return ans, sources_html(ans, index // 2), gr.Tabs(selected="sources")


def open_cited(ctx: WebContext, shown: dict[str, Any] | None, evt: gr.EventData) -> tuple[Any, ...]:
    n = getattr(evt, "n", None)
    cite = next((c for c in (shown or {}).get("citations", []) if c.get("n") == n), None)
    if cite is None:
        return gr.skip(), gr.skip()
    try:
        article = ctx.assistant.library.corpus.read(cite["article_id"])
    except AssistantError as e:
        raise fail(e) from None
    view = article_html(article, cite["paragraph"], cite["quote"], prefix="chat")
    return view, gr.Tabs(selected="article")


# -- layout and wiring ---------------------------------------------------------------------------
@dataclass
class ChatTab:
    """The Chat tab's components (the corpus tab refreshes ``outlet`` and ``examples``)."""

    answers: Any
    shown: Any
    chatbot: Any
    question: Any
    ask_btn: Any
    clear_btn: Any
    gen_box: Any
    answer_as: Any
    examples: Any
    outlet: Any
    author: Any
    since: Any
    until: Any
    as_of: Any
    k: Any
    side: Any
    sources: Any
    article: Any
    error: Any
    export_md: Any
    export_btn: Any


def layout(ctx: WebContext) -> ChatTab:
    """The Chat tab's components, placed inside the enclosing ``gr.Tab``."""
    # the conversation survives a reload (the browser's storage, for this app's address) until
    # Clear; its secret is fixed per library so that a restarted server still reads it
    import hashlib

    secret = hashlib.sha256(f"ca-conversation:{ctx.settings.corpus_dir}".encode()).hexdigest()
    answers = gr.BrowserState([], storage_key="ca-conversation", secret=secret[:32])
    shown = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            chatbot = gr.Chatbot(
                show_label=False, height=480, latex_delimiters=[], buttons=[],
                elem_id="ca-chat", placeholder="Answers quote the articles and cite them as [1], [2]…",
            )  # fmt: skip
            with gr.Row():
                question = gr.Textbox(
                    show_label=False, placeholder="Ask about the articles, e.g. What has Russia offered in return?",
                    scale=6, autofocus=True, elem_id="ca-question", max_lines=4,
                )  # fmt: skip
                ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                clear_btn = gr.Button("Clear", scale=1, min_width=80, elem_id="ca-clear")
            error = gr.HTML("", elem_id="ca-chat-error")  # what went wrong, under the box
            with gr.Row(elem_classes=["ca-chat-tools"]):
                export_btn = gr.Button("Export conversation (Markdown)", size="sm",
                                       elem_id="ca-export", scale=0)  # fmt: skip
                # the Markdown the button downloads, kept in the page (hidden by the style sheet)
                export_md = gr.Textbox(conversation_markdown([]), elem_id="ca-export-md",
                                       show_label=False, interactive=False)  # fmt: skip
            with gr.Row(equal_height=True):
                with gr.Column(scale=0, min_width=230):
                    # viewpoints and timelines on request, as the CLI's --by and --timeline
                    as_menu = gr.Dropdown(
                        list(ANSWER_AS), value=AUTOMATIC, label="Answer as",
                        elem_id="ca-answer-as", filterable=False,
                    )  # fmt: skip
                with gr.Column(scale=1):
                    # shown only when a language model is configured (ASSISTANT_LLM_*, OLLAMA_*)
                    gen_box = gr.Checkbox(
                        value=False, visible=ctx.assistant.can_generate, elem_id="ca-generate",
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
                    since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", elem_id="ca-since")
                    until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="ca-until")
                    as_of = gr.Textbox(
                        label="As of", placeholder="YYYY-MM-DD", elem_id="ca-as-of",
                        info="ask as on this day: later articles are left out",
                    )  # fmt: skip
                    k = gr.Slider(
                        1, 10, value=ctx.settings.answer.k, step=1, label="Citations at most (k)"
                    )
        with gr.Column(scale=4), gr.Tabs() as side:
            with gr.Tab("Sources", id="sources"):
                sources = gr.HTML(
                    sources_html(None), js_on_load=asset("open-cited.js"), elem_id="ca-sources"
                )
            with gr.Tab("Article", id="article"):
                article = gr.HTML(article_placeholder(), js_on_load=None, elem_id="ca-chat-article")
    return ChatTab(answers, shown, chatbot, question, ask_btn, clear_btn, gen_box, as_menu,
                   examples, outlet, author, since, until, as_of, k, side, sources, article, error,
                   export_md, export_btn)  # fmt: skip


def wire(ctx: WebContext, t: ChatTab, demo: gr.Blocks) -> None:
    """The Chat tab's events, and the ``/ask`` API endpoint."""
    gr.api(bind(ctx, api_ask), api_name="ask", **READ)
    outputs = [t.question, t.chatbot, t.answers, t.shown, t.sources, t.side, t.export_md, t.error]
    inputs = [t.question, t.answers, t.outlet, t.author, t.since, t.until, t.k, t.gen_box,
              t.answer_as, t.as_of]  # fmt: skip
    on_chat = bind(ctx, chat)
    t.question.submit(on_chat, inputs, outputs, **READ, **PRIVATE)
    t.ask_btn.click(on_chat, inputs, outputs, **READ, **PRIVATE)
    cleared = [t.chatbot, t.answers, t.shown, t.sources, t.article, t.question, t.export_md,
               t.error]  # fmt: skip
    t.clear_btn.click(bind(ctx, new_conversation), None, cleared, **PRIVATE)
    # the chat's own bin icon clears the kept conversation too (else a reload brings it back)
    t.chatbot.clear(bind(ctx, new_conversation), None, cleared, **PRIVATE)
    demo.load(bind(ctx, restore), t.answers,
              [t.chatbot, t.answers, t.shown, t.sources, t.export_md], **PRIVATE)  # fmt: skip
    t.export_btn.click(None, None, None, js=asset("export-conversation.js"), **PRIVATE)
    t.examples.click(lambda s: s[0], t.examples, t.question, **PRIVATE).then(
        on_chat, inputs, outputs, **READ, **PRIVATE
    )
    t.chatbot.select(bind(ctx, pick_message), t.answers, [t.shown, t.sources, t.side], **PRIVATE)
    t.sources.click(bind(ctx, open_cited), t.shown, [t.article, t.side], **READ, **PRIVATE).then(
        None, js=asset("scroll-cited.js"), **PRIVATE
    )
