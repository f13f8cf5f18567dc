"""Plain data: what flows from one stage to the next.

raw text/HTML ──clean──▶ Article ──chunk──▶ Chunk ──index──▶ Passage (a retrieved chunk)
                                                     ──answer──▶ Answer with Citations
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One article as stored in the corpus: metadata plus a Markdown body.

    The body holds paragraphs separated by blank lines; section headings are ``## `` lines.
    """

    id: str
    body: str
    title: str | None = None
    author: str | None = None
    outlet: str | None = None
    published: str | None = None  # YYYY-MM-DD
    url: str | None = None
    added: str | None = None  # ISO timestamp
    content_hash: str | None = None
    source: str | None = None  # where it came from (file name, URL, "stdin")


@dataclass(frozen=True)
class Block:
    """A paragraph or heading of an article body, with its place in the body text."""

    kind: str  # "paragraph" or "heading"
    text: str
    start: int  # character offsets into Article.body
    end: int
    paragraph: int | None  # 1-based paragraph number; None for headings


@dataclass(frozen=True)
class Chunk:
    """A passage of an article as indexed: provenance plus the texts each retriever sees."""

    id: str  # "<article id>:<n>"
    article_id: str
    position: int  # 0-based order within the article
    paragraph: int  # 1-based number of the (first) paragraph the passage stands in
    start: int  # character offsets into Article.body
    end: int
    text: str  # the passage as the reader sees it
    heading: str | None
    dense_text: str  # what is embedded (title + passage)
    lexical_text: str  # what BM25 sees (metadata + heading + neighbouring paragraphs)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its article's metadata and retrieval scores."""

    chunk_id: str
    article_id: str
    paragraph: int  # its first paragraph (a citation gives the quote's)
    start: int
    end: int
    text: str
    heading: str | None
    title: str | None
    author: str | None
    outlet: str | None
    published: str | None
    url: str | None
    score: float = 0.0  # fused score
    dense: float | None = None  # cosine similarity to the question
    lexical: float | None = None  # BM25 score


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer (the contract's citation object)."""

    n: int
    article_id: str
    title: str | None
    author: str | None
    outlet: str | None
    published: str | None
    url: str | None
    paragraph: int
    quote: str
    passage: str
    score: float


@dataclass(frozen=True)
class Filters:
    """Restrictions on which articles may be cited."""

    outlet: str | None = None
    author: str | None = None
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None
    # the date the question is asked on: articles published after it do not exist yet (undated
    # ones are kept: nothing says they came later)
    as_of: str | None = None

    @classmethod
    def parse(
        cls,
        outlet: str | None = None,
        author: str | None = None,
        since: str | None = None,
        until: str | None = None,
        as_of: str | None = None,
    ) -> Filters:
        """Filters as a person gives them (blank means no restriction); InputError for a date
        that is not YYYY-MM-DD (``as_of`` may also be written 2022/06/16, as news-quiz sets do)."""
        from assistant.text import iso_date

        def blank(v: str | None) -> str | None:
            return v.strip() if isinstance(v, str) and v.strip() else None

        return cls(
            outlet=blank(outlet),
            author=blank(author),
            since=iso_date(s) if (s := blank(since)) else None,
            until=iso_date(u) if (u := blank(until)) else None,
            as_of=iso_date(a.replace("/", "-")) if (a := blank(as_of)) else None,
        )

    def active(self) -> bool:
        return any((self.outlet, self.author, self.since, self.until, self.as_of))


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str = ""
    articles: tuple[str, ...] = ()  # ids of the articles cited in the answer
    author: str | None = None  # author of the first cited article
    quotes: tuple[str, ...] = ()  # the quotes cited


@dataclass(frozen=True)
class Statement:
    """One statement of a generated answer: its citations (answer numbering) and the verdict."""

    text: str  # as the model wrote it, citation markers removed
    citations: tuple[int, ...]  # the ``n`` of the answer's citations it cites (valid ones only)
    verified: bool
    reason: str | None = None  # why it was not verified (None when it was)


@dataclass(frozen=True)
class Viewpoint:
    """One entry of a viewpoints or timeline answer: an article and the citations it holds."""

    article_id: str
    title: str | None
    author: str | None
    outlet: str | None
    published: str | None
    citations: tuple[int, ...]  # the ``n`` of the answer's citations quoting this article


@dataclass
class Answer:
    """The answer object of docs/interfaces.md."""

    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    latency_ms: float = 0.0
    support: float = 0.0  # how strongly the best evidence supports an answer (0..1)
    resolved_question: str | None = None  # the question after follow-up resolution
    generated: bool = False  # a language model wrote it (the keys below exist only then)
    statements: list[Statement] = field(default_factory=list)
    fallback: str | None = None  # None, "extractive" or "refusal" (generated answers only)
    viewpoints: list[Viewpoint] | None = None  # entries in display order (viewpoints answers only)
    conflicts: list[tuple[int, int]] = field(default_factory=list)  # statements [a] and [b] differ

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready contract object."""
        d: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "latency_ms": round(self.latency_ms, 1),
            "support": round(self.support, 4),
        }
        if self.resolved_question and self.resolved_question != self.question:
            d["resolved_question"] = self.resolved_question
        if self.generated:  # without --generate the object stays exactly as before
            d["generated"] = True
            d["statements"] = [
                {"text": s.text, "citations": list(s.citations), "verified": s.verified,
                 "reason": s.reason}
                for s in self.statements
            ]  # fmt: skip
            d["fallback"] = self.fallback
        if self.conflicts:  # two quoted statements differ in a name or number (compose.disagree)
            d["conflicts"] = [list(pair) for pair in self.conflicts]
        if self.viewpoints is not None:  # absent from ordinary answers
            d["viewpoints"] = [
                {**asdict(v), "citations": list(v.citations)} for v in self.viewpoints
            ]
        return d


@dataclass(frozen=True)
class GeneratedNotes:
    """What the verifier did to a generated answer: the facts each face words its notes from."""

    fallback: str | None  # None, "extractive" (nothing verified) or "refusal" (no model asked)
    removed: tuple[dict[str, Any], ...]  # unverified statements left out of the answer's text


def generated_notes(answer: dict[str, Any]) -> GeneratedNotes:
    """The notes under a generated answer (its JSON form); unverified statements shown in the
    text (``--show-flagged`` marks them with ⚠) count as not removed."""
    flagged = tuple(s for s in answer.get("statements") or [] if not s.get("verified"))
    shown = "⚠" in (answer.get("answer") or "")
    return GeneratedNotes(fallback=answer.get("fallback"), removed=() if shown else flagged)


MARKER = re.compile(r"\[(\d+)\]")  # a citation marker in an answer's text: [1], [2] ...


def cited_numbers(answer: dict[str, Any]) -> set[int]:
    """The citations the answer's text cites, by their markers: the others are further reading
    (or, in a refusal, the nearest passages).

    >>> sorted(cited_numbers({"answer": "Yes [1]. And so [3]."}))
    [1, 3]
    """
    return {int(n) for n in MARKER.findall(answer.get("answer") or "")}


def conflict_note(answer: dict[str, Any]) -> str | None:
    """The note under an answer whose quoted statements differ in a name or a number (its JSON
    form's ``conflicts``), for people; None when they agree."""
    pairs = answer.get("conflicts") or []
    if not pairs:
        return None
    which = "; ".join(f"[{a}] and [{b}]" for a, b in pairs)
    return (
        f"{which} say nearly the same with another name or number: the sources disagree, "
        "or speak of different things. Check both."
    )
