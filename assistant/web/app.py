"""The web app: a chat whose answers cite their passages, and the corpus behind it.

``build_app(settings)`` gives the Gradio Blocks (``launch.serve`` runs it). The named endpoint
``/ask`` returns the answer object of docs/interfaces.md::

    >>> from gradio_client import Client                                        # doctest: +SKIP
    >>> Client("http://127.0.0.1:7860").predict("What has Russia offered in return?",
    ...                                           api_name="/ask")["citations"][0]["author"]
    'Stefan Wolff'

The tabs are ``chat.py`` and ``corpus_tab.py`` (layout and handlers over a ``WebContext``),
the HTML is ``render.py`` (every value escaped), the look ``assets/``. Gradio is imported
inside the functions, so importing this module costs nothing.
"""

from typing import TYPE_CHECKING

from assistant.settings import Settings
from assistant.web.context import ProgressRelay, WebContext
from assistant.web.render import header_html

if TYPE_CHECKING:
    import gradio as gr

    from assistant.api import Assistant


def build_app(
    settings: Settings, assistant: "Assistant | None" = None, editors: frozenset[str] | None = None
) -> "gr.Blocks":
    """The Gradio app over the library in ``settings`` (launch it with ``launch_options``).

    ``editors``: when given, only these logged-in users may add or remove articles; everyone
    else who can open the app may only ask.
    """
    import gradio as gr

    from assistant.api import Assistant
    from assistant.web import chat, corpus_tab

    relay = ProgressRelay()
    if assistant is None:
        assistant = Assistant(settings, progress=relay)
    else:
        assistant.library.progress = relay
    ctx = WebContext(assistant, settings, editors, relay)
    with gr.Blocks(title="Commentary Assistant", analytics_enabled=False) as demo:
        header = gr.HTML(header_html(None, None))
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                talk = chat.layout(ctx)
            with gr.Tab("Corpus", id="corpus"):
                corpus = corpus_tab.layout(ctx)
        chat.wire(ctx, talk, demo)
        refreshed = [talk.outlet, talk.examples, header, corpus.problems]
        corpus_tab.wire(ctx, demo, corpus, refreshed)
    return demo
