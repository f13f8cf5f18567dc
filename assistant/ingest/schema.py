"""The shape of the records people hand us: front matter, JSONL import records, ``feeds.yaml``.

One pydantic model per kind of record, so every file is checked the same way: each field has
a type and a limit, a date is a real date (kept as ``YYYY-MM-DD`` text, so comparing two is
comparing dates), and whatever is wrong is reported as one line naming the field — the
caller adds which file or line it was, so one bad file is that file's problem only.

Before this, fields went through ``str(value)``: ``title: [a, b]`` was stored as
``"['a', 'b']"`` and ``published: yesterday`` compared as text with ``--since 2030-01-01``.

>>> ArticleMeta.check({"title": " A ", "published": "2024-02-03 "}, "x.md").published
'2024-02-03'
>>> ArticleMeta.check({"title": ["a", "b"]}, "x.md")
Traceback (most recent call last):
...
assistant.errors.InputError: x.md: the "title" field must be text or null, not a list.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from assistant.errors import InputError

# What a stored field may hold: the longest real headline is a few hundred characters; a field
# past these is pasted text (a title holding the whole article is prepended to every passage
# and aborted the tokenizer on every question).
FIELD_LIMITS = {"title": 500, "author": 200, "outlet": 200, "url": 2000, "source": 2000}


def kind(value: object) -> str:
    """What a JSON/YAML value is, in words ("a list", "a number")."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _text(value: Any, info: ValidationInfo) -> str | None:
    """Text or None; numbers too when the file is YAML (``title: 1984`` means the text)."""
    if value is None:
        return None
    yaml = bool(info.context and info.context.get("yaml"))
    if isinstance(value, int | float) and not isinstance(value, bool) and yaml:
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"must be text or null, not {kind(value)}")
    from assistant.ingest.cleaning import field_text

    return field_text(value).strip() or None


def _date(value: Any, info: ValidationInfo) -> str | None:
    """A real date as ``YYYY-MM-DD`` (or None)."""
    from assistant.text import iso_date

    text = _text(value, info)
    if text is None:
        return None
    try:
        return iso_date(text)
    except InputError:
        raise ValueError(f"{text[:40]!r} is not a real date: write YYYY-MM-DD") from None


Title = Annotated[str | None, Field(default=None, max_length=FIELD_LIMITS["title"])]
Name = Annotated[str | None, Field(default=None, max_length=FIELD_LIMITS["author"])]
Link = Annotated[str | None, Field(default=None, max_length=FIELD_LIMITS["url"])]
Stamp = Annotated[str | None, Field(default=None, max_length=64)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def check(cls, data: Any, where: str, fix: str = "", *, yaml: bool = False) -> Self:
        """The validated record; InputError "``where``: the "f" field ...``fix``" otherwise."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected fields (name: value), not {kind(data)}.")
        try:
            return cls.model_validate(data, context={"yaml": yaml})
        except ValidationError as e:
            raise InputError(f"{where}: {problem(e)}.{' ' + fix if fix else ''}") from None


class ArticleMeta(_Record):
    """An article's metadata, as front matter or a JSONL record holds it."""

    id: Annotated[str | None, Field(default=None, max_length=200)]
    title: Title
    author: Name
    outlet: Name
    published: str | None = None
    url: Link
    added: Stamp
    content_hash: Annotated[str | None, Field(default=None, max_length=128)]
    source: Link

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any, info: ValidationInfo) -> str | None:
        # an id may be a number in JSON too ({"id": 17}): evaluation sets use them
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return _text(value, info)

    _texts = field_validator(
        "title", "author", "outlet", "url", "added", "content_hash", "source", mode="before"
    )(_text)
    _published = field_validator("published", mode="before")(_date)


class FeedEntry(_Record):
    """A followed feed in ``feeds.yaml``."""

    url: Annotated[str, Field(min_length=1, max_length=FIELD_LIMITS["url"])]
    title: Title
    added: Stamp
    last_update: Stamp
    last_result: Annotated[str | None, Field(default=None, max_length=1000)]
    etag: Annotated[str | None, Field(default=None, max_length=1000)]
    last_modified: Annotated[str | None, Field(default=None, max_length=200)]
    seen: list[Annotated[str, Field(max_length=FIELD_LIMITS["url"])]] = Field(
        default_factory=list, max_length=100_000
    )

    failing: dict[str, tuple[int, Annotated[str, Field(max_length=64)]]] = Field(
        default_factory=dict, max_length=100_000
    )

    _texts = field_validator(
        "url", "title", "added", "last_update", "last_result", "etag", "last_modified",
        mode="before",
    )(_text)  # fmt: skip

    @field_validator("failing", mode="before")
    @classmethod
    def _failing(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("seen", mode="before")
    @classmethod
    def _seen(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError(f"must be a list of links, not {kind(value)}")
        if not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of links (text)")
        return value


def problem(e: ValidationError) -> str:
    """The first problem of a validation error, in words ('the "title" field is too long ...')."""
    err = e.errors()[0]
    field = ".".join(str(x) for x in err["loc"]) or "record"
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if err["type"] == "string_too_long" and isinstance(value, str):
        limit = ctx.get("max_length")
        return f"the {field} is too long ({len(value):,} characters; the limit is {limit:,})"
    if err["type"] == "missing":
        return f'the "{field}" field is missing'
    if err["type"] in ("string_type", "list_type", "dict_type"):
        want = {"string_type": "text", "list_type": "a list", "dict_type": "fields"}[err["type"]]
        return f'the "{field}" field must be {want}, not {kind(value)}'
    message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
    return f'the "{field}" field {message}'
