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
    ├── DiskError           the disk is full, read-only or not ours to write (not damage)
    └── GeneratorError      the language model is not configured, not installed or failed
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path


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


class DiskError(AssistantError):
    """A write failed because of the disk (full, read-only, no permission): nothing is damaged,
    and rebuilding would not help — freeing space or fixing permissions does."""


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS,)
_DENIED = (errno.EACCES, errno.EPERM)
# what SQLite, Chroma (Rust) and others say when they do not pass the OSError on
_FULL_WORDS = re.compile(r"no space left|disk is full|disk full|quota exceeded", re.I)
_READ_ONLY_WORDS = re.compile(r"read-only file system|readonly database|read-only", re.I)
_DENIED_WORDS = re.compile(r"permission denied|operation not permitted", re.I)


def disk_problem(e: BaseException, library: Path, where: Path | None = None) -> DiskError | None:
    """A DiskError naming the problem, the path (relative to ``library``, the folder holding the
    corpus and the index) and the fix when ``e`` (or an exception it was raised from) is a disk
    full, read-only or permission error; None for anything else.

    >>> str(disk_problem(OSError(errno.ENOSPC, "No space left on device", "/lib/indexes/x"),
    ...                  Path("/lib")))
    'The disk is full (writing indexes/x). Free some space and run the command again; nothing was lost.'
    """
    seen: BaseException | None = e
    while seen is not None:
        found = _classify(seen)
        if found is not None:
            kind, filename = found
            path = Path(filename) if filename else where
            shown = _relative(path, library) if path is not None else "the library"
            if kind == "full":
                return DiskError(
                    f"The disk is full (writing {shown}). Free some space and run the command "
                    "again; nothing was lost."
                )
            if kind == "read-only":
                return DiskError(
                    f"{shown} is read-only. Make it writable (or point --index / --corpus at "
                    "a writable folder) and run the command again; nothing was lost."
                )
            return DiskError(
                f"No permission to write {shown}. Give this user write access to it "
                "(or run as its owner) and run the command again; nothing was lost."
            )
        seen = seen.__cause__ or seen.__context__
    if where is not None and (state := _disk_state(where)) is not None:
        # SQLite says only "disk I/O error" when it cannot grow its files: look at the disk
        return disk_problem(OSError(state, os.strerror(state), str(where)), library)
    return None


def _disk_state(path: Path) -> int | None:
    """ENOSPC when the disk holding ``path`` is (nearly) full, EROFS when it is mounted
    read-only, else None."""
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY:
        return errno.EROFS
    return errno.ENOSPC if st.f_bavail * st.f_frsize < 1 << 20 else None


def _classify(e: BaseException) -> tuple[str, str | None] | None:
    filename = getattr(e, "filename", None) if isinstance(e, OSError) else None
    code = getattr(e, "errno", None) if isinstance(e, OSError) else None
    if code in _FULL:
        return "full", filename
    if code in _READ_ONLY:
        return "read-only", filename
    if code in _DENIED:
        return "denied", filename
    text = str(e)
    for kind, words in (("full", _FULL_WORDS), ("read-only", _READ_ONLY_WORDS),
                        ("denied", _DENIED_WORDS)):  # fmt: skip
        if words.search(text):
            return kind, filename
    return None


def _relative(path: Path, library: Path) -> str:
    """``path`` as the user knows it: relative to the library folder when inside it."""
    try:
        rel = os.path.relpath(path, library)
    except ValueError:
        return path.name
    return path.name if rel.startswith("..") else rel + ("/" if path.is_dir() else "")
