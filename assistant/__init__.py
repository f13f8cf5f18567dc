"""Commentary Assistant: cited answers from a library of news commentary.

    >>> from assistant import Assistant, Settings                          # doctest: +SKIP
    >>> Assistant(Settings.from_env()).ask("What has Russia offered in return?").answer

The public names load on first use (module ``__getattr__``), so ``import assistant`` stays
cheap: no torch, chromadb or gradio until an Assistant needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.api import Assistant
    from assistant.errors import AssistantError
    from assistant.settings import Settings
    from assistant.types import Answer, Citation, Filters

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "Filters", "Settings"]

_HOMES = {
    "Assistant": "assistant.api",
    "Settings": "assistant.settings",
    "Answer": "assistant.types",
    "Citation": "assistant.types",
    "Filters": "assistant.types",
    "AssistantError": "assistant.errors",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
