"""Questions about an article itself — who wrote it, when, where — answered from its metadata.

``metadata_kind`` tells such a question apart ("Who wrote the commentary on ...?"), ``Articles``
finds the article it means (its title's words, else the conversation) and the passage naming the
author, and ``metadata_statement`` writes the answer's statement.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from assistant.answer.asked import COMMENTARY, OPINION_KINDS, PIECE, alternatives, names_commentary
from assistant.index.stores import Stores, to_passage
from assistant.text import first_sentence_span, sentence_spans, terms
from assistant.types import Passage

# "Who wrote ...?", "Who is the author of ...?" — not "What does the author of ... say?"
_WHO = re.compile(
    r"\bwho\s+(?:wrote|writes|authored|is the author|penned)\b|^\W*(?:who|which\s+\w+)\b.*\bauthor of\b",
    re.I,
)
_WHEN = re.compile(r"\bwhen\s+(?:was|were|is)\b.*\b(?:published|written|posted|appear)", re.I)
_WHERE = re.compile(r"\b(?:which|what)\s+(?:outlet|publication|newspaper|site|website)\b|\bwhere\s+was\b.*\bpublished", re.I)  # fmt: skip


# "the commentary on nuclear waste": the question names the piece by its topic
_ON_TOPIC = re.compile(rf"\b{PIECE}\s+(?:on|about|over)\b", re.IGNORECASE)
METADATA_WORDS = re.compile(
    r"\b(?:who|wrote|writes|written|authored|author|penned|when|published|posted|which|what|"
    rf"outlet|publication|newspaper|site|website|where|was|were|is|the|{PIECE})\b",
    re.IGNORECASE,
)


# "Who wrote" asks about one of the library's articles only when it names one ("the commentary
# on ...", a quoted title): "Who wrote the novel War and Peace?" is a question like any other.
_AN_ARTICLE = re.compile(rf"\b{PIECE}\b|\bop ?ed\b|[\"“‘']\w", re.IGNORECASE)


def metadata_kind(question: str) -> str | None:
    """ "author", "published" or "outlet" when the question asks about an article itself."""
    if _WHO.search(question):
        return "author" if _AN_ARTICLE.search(question) else None
    if _WHEN.search(question):
        return "published"
    if _WHERE.search(question):
        return "outlet"
    return None


def metadata_statement(kind: str, p: Passage) -> tuple[str | None, tuple[int, int]]:
    """A statement about the article of ``p`` (None when the metadata is unknown) and its quote span."""
    title = f"“{p.title}”" if p.title else f"Article {p.article_id}"
    span = first_sentence_span(p.text)
    if kind == "author":
        if not p.author:
            return None, span
        surname = p.author.split()[-1]
        for a, b in sentence_spans(p.text):
            if surname in p.text[a:b]:
                span = (a, b)
                break
        outlet = f" for {p.outlet}" if p.outlet else ""
        return f"{title} was written by {p.author}{outlet}", span
    if kind == "published":
        if not p.published:
            return None, span
        return f"{title} was published on {p.published}", span
    if not p.outlet:
        return None, span
    return f"{title} was published by {p.outlet}", span


class Articles:
    """The library's articles as a question about one of them sees them (titles cached)."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self._titles: tuple[int, dict[str, set[str]]] | None = None

    def article_named(
        self, question: str, passages: Sequence[Passage], recent: Sequence[str]
    ) -> str | None:
        """The article a question about an article means: the one the conversation cited, else
        one whose title, author or outlet the question names, else the first retrieved.

        "The commentary on nuclear waste" names a topic: the first opinion piece retrieved that
        has a word of its topic (in a small library every piece is retrieved, and "the column on
        cycling lanes" is not the opinion piece on night buses),
        unless two of the question's rarer words name another's title (one shared word, "waste",
        names nothing: not a report titled "Canada produces most waste"). "Who wrote the
        commentary?" names none: a title that says "Commentary" is the one meant.
        """
        if recent:
            return recent[0]
        topical = _ON_TOPIC.search(question) is not None
        q = topic_words(question)
        if topical and names_commentary(question):  # opinion pieces on the question's topic
            passages = [p for p in passages if is_opinion(p) and on_topic(p, q)] or passages
        if not topical:
            q |= set(terms(" ".join(COMMENTARY.findall(question))))
        titles = self._title_terms()
        n = max(1, len(titles))
        df: dict[str, int] = {}
        for ts in titles.values():
            for t in ts & q:
                df[t] = df.get(t, 0) + 1
        rank = {p.article_id: i for i, p in reversed(list(enumerate(passages)))}
        best, best_key = None, (0.0, 0)
        for aid, ts in titles.items():
            shared = ts & q
            if not shared or (topical and (len(shared) < 2 or aid not in rank)):
                continue
            key = (sum(math.log(1 + n / df[t]) for t in shared), -rank.get(aid, 99))
            if key > best_key:
                best, best_key = aid, key
        return best or (passages[0].article_id if passages else None)

    def _title_terms(self) -> dict[str, set[str]]:
        """Each article's title, outlet and author as index terms (cached per catalog state)."""
        generation = self.stores.catalog.generation()
        if self._titles is None or self._titles[0] != generation:
            rows = self.stores.catalog.articles()
            self._titles = (
                generation,
                {
                    r.id: set(terms(" ".join(x for x in (r.title, r.outlet, r.author) if x)))
                    for r in rows
                },
            )
        return self._titles[1]

    def passage_naming_author(self, article_id: str) -> Passage | None:
        """The passage of an article that names its author (a bio line), if any."""
        row = self.stores.catalog.article(article_id)
        if row is None or not row.author:
            return None
        surname = row.author.split()[-1]
        chunks = self.stores.catalog.chunks(self.stores.catalog.chunk_ids_of(article_id))
        for c in sorted(chunks.values(), key=lambda c: -c.position):  # bio lines come last
            if surname in c.text:
                return to_passage(c, row, score=1.0)
        return None


def topic_words(question: str) -> set[str]:
    """The index terms of a question without its words about articles ("who wrote the column
    on cycling lanes" -> cycl, lane)."""
    return set(terms(METADATA_WORDS.sub(" ", question)))


def on_topic(p: Passage, words: set[str]) -> bool:
    """True when the passage (or its title) has one of ``words``."""
    return bool(words & set(terms(f"{p.title or ''} {p.text}")))


def is_opinion(p: Passage) -> bool:
    """True for an opinion piece, by its address or its title or byline label ("Opinion: ...",
    "Commentary: ...")."""
    return bool(
        _OPINION_ADDRESS.search(p.url or "")
        or _OPINION_LABEL.match(p.title or "")
        or re.match(r"opinion\b", p.author or "", re.IGNORECASE)
    )


_OPINION_ADDRESS = re.compile(rf"/{alternatives(OPINION_KINDS)}s?/", re.IGNORECASE)
_OPINION_LABEL = re.compile(rf"{alternatives(OPINION_KINDS)}\b", re.IGNORECASE)
