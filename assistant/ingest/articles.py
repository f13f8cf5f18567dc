"""Making articles: a raw document becomes a cleaned ``Article`` with an id, or a duplicate.

Cleaning picks the body and the metadata the text states; the id is the one given, a file's
name, or a slug of the title plus a content hash; an article whose text (or, unless forced,
80% of its 5-word shingles) the corpus holds already is refused as a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import AssistantError, DuplicateError, InputError
from assistant.ingest import cleaning, duplicates
from assistant.ingest.corpus import Corpus, check_fields, check_id, content_hash, slug
from assistant.ingest.sources import RawDoc, looks_like_html
from assistant.text import count, iso_date
from assistant.types import Article


@dataclass(frozen=True)
class AddResult:
    """What happened to one source given to ``add``."""

    origin: str
    status: str  # "added", "duplicate" or "error"
    id: str | None = None
    message: str = ""

    def line(self) -> str:
        """The line the CLI prints: ``ID added`` / ``SOURCE duplicate of OTHER`` / ``SOURCE error: ...``.

        One line whatever the message holds, the source named once (messages that start with
        it, as the readers' do, lose that start).
        """
        if self.status == "added":
            return f"{self.id} added"
        message = " ".join(self.message.removeprefix(f"{self.origin}: ").split())
        if self.status == "duplicate":
            return f"{self.origin} {message}"
        return f"{self.origin} error: {message}"


def summary_line(results: Sequence[AddResult]) -> str:
    """``N added, N duplicates, N failed``: what the CLI and the web app report after several."""
    counts = {s: sum(r.status == s for r in results) for s in ("added", "duplicate", "error")}
    return (
        f"{counts['added']} added, {count(counts['duplicate'], 'duplicate')}, "
        f"{counts['error']} failed"
    )


def make_article(raw: RawDoc, flags: dict[str, str]) -> Article:
    """A cleaned Article (id still provisional) from a raw document."""
    # a JSONL record is cleaned like a file: as HTML when it is HTML, else as text
    kind = raw.kind
    if kind == "record":
        kind = "html" if looks_like_html(raw.text) else "text"
    cleaned = {
        "text": cleaning.clean_text,
        "markdown": cleaning.clean_markdown,
        "html": lambda t: cleaning.clean_html(t, url=raw.meta.get("url")),
    }[kind](cleaning.safe_text(raw.text, keep_lines=True))
    body = cleaned.body
    found = {k: getattr(cleaned, k) for k in ("title", "author", "outlet", "published", "url")}
    found = {k: v for k, v in found.items() if v}
    if raw.kind == "record":  # the record's own fields are trusted over flags and heuristics
        meta = {**found, **flags, **raw.meta}
        if meta.get("published"):
            meta["published"] = iso_date(meta["published"])
    else:
        # Declared metadata (front matter, HTML meta) beats flags; flags beat text heuristics.
        meta = (
            {**raw.meta, **found, **flags} if raw.kind == "text" else {**raw.meta, **flags, **found}
        )
    meta = {k: cleaning.field_text(v) if isinstance(v, str) else v for k, v in meta.items()}
    if meta.get("author"):  # "Opinion Andrew Cohen": the names, and the piece marked as opinion
        meta["author"], label = cleaning.clean_author(meta["author"], meta.get("outlet"))
        title = meta.get("title") or ""
        if label == "Opinion" and title and "opinion" not in title.lower():
            meta["title"] = f"Opinion: {title}"
    if not body.strip():
        raise InputError(f"{raw.origin}: no article text left after cleaning.")
    article = Article(
        id=raw.id or "pending",
        body=body,
        title=meta.get("title"),
        author=meta.get("author"),
        outlet=meta.get("outlet"),
        published=meta.get("published"),
        url=meta.get("url"),
        added=now(),
        content_hash=content_hash(body),
        source=Path(raw.origin).name if "://" not in raw.origin else raw.origin,
    )
    return check_fields(article, raw.origin)


def check_duplicate(
    article: Article,
    sig: bytes,
    signatures: list[tuple[str, bytes]],
    exact_only: bool,
    corpus: Corpus,
    same_content: Callable[[str], str | None],
    threshold: float,
) -> None:
    """DuplicateError when the corpus holds this text already, or (unless ``exact_only``) a
    near-duplicate of it; ``same_content`` gives the article with a content hash, if any."""
    assert article.content_hash
    same = same_content(article.content_hash)
    if same:
        raise DuplicateError(f"duplicate of {same}", same)
    if exact_only:
        return
    for other in duplicates.candidates(sig, signatures, threshold)[:5]:
        try:
            other_body = corpus.read(other).body
        except AssistantError:
            continue
        similarity = duplicates.jaccard(article.body, other_body)
        if similarity >= threshold:
            raise DuplicateError(
                f"duplicate of {other} (near-duplicate, {similarity:.0%} the same; "
                "add with --force to keep both)",
                other,
            )


def choose_id(raw: RawDoc, article: Article, corpus: Corpus) -> str:
    """The id an article is stored under: the one given, a file's stem, or a slug + hash."""
    assert article.content_hash
    if raw.id_given and raw.id is not None:
        given = check_id(raw.id)
        if corpus.exists(given):
            raise InputError(
                f"id {given!r} is already used by another article; give this one another id."
            )
        return given
    base = _safe_stem(raw.id) if raw.id else None
    if base is None:
        base = slug(article.title or " ".join(article.body.split()[:8]))
        return f"{base}-{article.content_hash[:8]}"
    if corpus.exists(base):
        return f"{base}-{article.content_hash[:8]}"
    return base


def _safe_stem(stem: str) -> str | None:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:100]
    try:
        return check_id(s) if s else None
    except InputError:
        return None


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
