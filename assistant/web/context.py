"""What every handler of the web app works over, and the few rules they share.

``WebContext`` holds the Assistant, the settings, who may edit and the progress relay; the
tabs' handlers are plain functions taking it first, and ``bind`` makes one a Gradio handler.
"""

from __future__ import annotations

import functools
import html
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError
from assistant.settings import Settings

if TYPE_CHECKING:
    import gradio as gr

    from assistant.api import Assistant

ANY_OUTLET = "Any outlet"

# Writers (add, remove) go one at a time; questions and reading run two at a time (one per
# core here): the library's write lock and thread-safe stores keep readers consistent.
WRITE: dict[str, Any] = {"concurrency_id": "library", "concurrency_limit": 1}
READ: dict[str, Any] = {"concurrency_id": "read", "concurrency_limit": 2}
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


class ProgressRelay:
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


@dataclass(frozen=True)
class WebContext:
    """The app's state: one Assistant shared by every request."""

    assistant: Assistant
    settings: Settings
    editors: frozenset[str] | None  # None: anyone who can open the app may add and remove
    relay: ProgressRelay


def fail(e: AssistantError | str) -> gr.Error:
    """The error toast for ``e`` (its message escaped: it renders as HTML and may quote input)."""
    import gradio as gr

    from assistant.web.render import public_message, web_advice

    # web users never see the server's paths, nor advice for the command line
    message = web_advice(public_message(str(e)))
    return gr.Error(html.escape(message, quote=False), print_exception=False)


def error_html(message: str) -> str:
    """An error shown inline, next to the control that caused it (``message`` already HTML)."""
    return f'<div class="ca-error" role="alert">⚠ {message}</div>'


def inline(fn: Callable[..., Any], outputs: int) -> Callable[..., Any]:
    """``fn`` whose error (a ``fail``) is shown in its last output, an error slot beside the
    control, instead of Gradio's overlay over every output: the other ``outputs - 1`` stay as
    they were and the page stays usable. On success the slot is cleared."""
    import gradio as gr

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            out = fn(*args, **kwargs)
        except gr.Error as e:
            return (*([gr.skip()] * (outputs - 1)), error_html(str(e.message)))
        return (*(out if isinstance(out, tuple) else (out,)), "")

    return wrapped


def may_edit(ctx: WebContext, request: gr.Request | None) -> None:
    """Nothing when the logged-in user may add and remove articles; else the error toast."""
    refusal = edit_refusal(ctx.editors, getattr(request, "username", None))
    if refusal is not None:
        raise fail(refusal)


def edit_refusal(editors: frozenset[str] | None, user: str | None) -> str | None:
    """Why ``user`` may not add or remove articles, or None when they may (the one rule of the
    web app and its MCP endpoint)."""
    if editors is None or user in editors:
        return None
    who = f"you are logged in as {user!r}" if user else "you are not logged in"
    return (f"Only editors may add or remove articles, and {who}. "
            "Ask an editor, or log in as one (ASSISTANT_EDITORS lists them).")  # fmt: skip


def bind(ctx: WebContext, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with ``ctx`` as its first argument, as Gradio needs a handler: the rest of its
    signature and annotations kept (Gradio finds gr.Request, gr.Progress and event data by
    them), and still a generator function when ``fn`` is one (Gradio streams those)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def bound(*args: Any, **kwargs: Any) -> Any:
            try:
                return (yield from fn(ctx, *args, **kwargs))
            except Exception as e:
                if (toast := _disk_error(ctx, e)) is None:
                    raise
                raise toast from None
    else:

        @functools.wraps(fn)
        def bound(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(ctx, *args, **kwargs)
            except Exception as e:
                if (toast := _disk_error(ctx, e)) is None:
                    raise
                raise toast from None

    sig = inspect.signature(fn)
    first, *rest = sig.parameters.values()
    bound.__signature__ = sig.replace(parameters=rest)  # type: ignore[attr-defined]
    bound.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != first.name}
    return bound


def _disk_error(ctx: WebContext, e: Exception) -> gr.Error | None:
    """The error toast when ``e`` is a full or read-only disk (worded for a web user: the
    server's paths stay on the server), else None."""
    import gradio as gr

    from assistant.errors import disk_problem

    if (
        isinstance(e, AssistantError | gr.Error)
        or disk_problem(e, ctx.settings.library_dir, ctx.settings.index_dir) is None
    ):
        return None
    return fail(
        "The library cannot be written: the server's disk is full or read-only. Nothing was "
        "lost; tell whoever runs this server."
    )


def asset(name: str) -> str:
    """The text of ``assets/<name>`` (CSS and JavaScript shipped with the package)."""
    return resources.files("assistant.web").joinpath("assets", name).read_text(encoding="utf-8")
