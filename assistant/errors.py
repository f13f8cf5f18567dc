"""Errors written for people.

Every error the library raises on purpose derives from ``AssistantError``; the CLI and the web
app catch only these and show their message as one line. Anything else is a bug and keeps its
traceback.

    AssistantError
    ├── InputError          bad input from the user: a file, a URL, a flag, a question set
    │   └── DuplicateError  the article is already in the corpus
    ├── NotFoundError       an article id or a path that does not exist
    ├── IndexStateError     the index is missing, stale, corrupt or built with other settings
    ├── StoreUnavailable    the Chroma server cannot be reached
    └── GeneratorError      the language model is not configured, not installed or failed
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: the message says what went wrong and what to do next."""


class InputError(AssistantError):
    """The user's input cannot be used as given."""


class DuplicateError(InputError):
    """The article is already in the corpus (``existing_id``)."""

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class NotFoundError(AssistantError):
    """An article id or a path does not exist."""


class IndexStateError(AssistantError):
    """The index cannot be used as it is; the message names the command that fixes it."""


class StoreUnavailable(AssistantError):
    """The vector store (a Chroma server) cannot be reached."""


class GeneratorError(AssistantError):
    """Generated answers were asked for but the language model cannot give one."""
