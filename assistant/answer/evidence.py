"""Evidence at sentence level: which sentences of the retrieved passages answer the question.

Each sentence of the candidate passages (the best few retrieved and every passage of the first
article: retrieval finds the right article far more often than the right paragraph of a long
one) is scored by its embedding similarity to the question and by how many of the question's
content words it contains:

    score = 0.50 · cos(question, sentence) + 0.10 · coverage + 0.05 · article prior
            − 0.2 for a byline, bio or standfirst − 0.1 for a quoted source in an opinion piece

(the article prior is 1 / (1 + the rank of the sentence's article in retrieval)). The
similarity is that of the sentence vectors stored at indexing time, pooled from the passage's
own forward pass, so they read each sentence in its context: within a long opinion piece they
find the sentence that makes the argument better than the sentence read alone (docs/quality.md),
and nothing is embedded for ranking at question time. The best ``RERANK`` are then embedded on
their own: that similarity (``Evidence.dense``) is what the support model judges, the one its
threshold was calibrated on (a sentence a rule moves up from below them is read alone when
chosen: ``read_alone``).

A sentence that leans on the one before it ("This has made sure...", "But such a deal...") takes
that sentence along. Near-identical evidence is dropped, and a second article that speaks to the
question is preferred to a second sentence from the same one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answer.metadata import is_opinion
from assistant.bylines import is_bio
from assistant.text import sentence_spans, terms
from assistant.types import Passage

MAX_PASSAGES = 6  # sentences are scored in this many of the best passages
RERANK = 6  # sentences embedded at question time to judge the contenders
COVERAGE = 0.10  # word overlap: 0.20 before the in-context vectors ranked (news level, commentary
#                  hit@1 .419 -> .465)
ARTICLE_PRIOR = 0.05  # news gains up to 0.20, but RGB's twin snippets lose hit@1 above 0.05
PREFER_WITHIN = 0.7  # a sentence giving what is asked for beats a closer one down to 70%
BYLINE = 0.2  # a passage naming its author
#               or a bio line: a byline or standfirst, not an answer
QUOTED = 0.1  # in an opinion piece, a sentence in quotation marks is a source's, not the piece's
MIN_WORDS = 4  # shorter lines (a byline, a live blog's heading) state nothing to quote

# a photo's caption caught in the text ("FILE - In this photo of 2016, a student looks ...")
CAPTION = re.compile(r"^(?:FILE\s*[-–—]\s*)?In this (?:\w+ ){0,2}(?:photo|image|picture)\b", re.I)
# a link to another story, set in the text as USA Today does ("More:Supreme Court overturns Roe v.
# Wade in 6-3 decision", "BLOODSHED SINCE SANDY HOOK:Uvalde school shooting among deadliest ...")
LINK_LABEL = re.compile(r"^(?:more|related|read more|see also|watch|listen)\s*:", re.IGNORECASE)
LINK = re.compile(r"^[A-Z][\w'’.-]*(?:\s+[\w'’.&-]+){0,7}:[A-Z“\"]")
DEPENDENT_START = re.compile(
    r"^(?:this|that|these|those|such|it|its|he|she|they|them|his|her|their|but|however|yet|"
    r"so|thus|therefore|by contrast|in contrast|instead|both|either|neither|the latter|the former)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Evidence:
    """A quotable span of a passage and how well it answers the question."""

    passage: Passage
    rank: int  # the passage's rank in retrieval (0 = best)
    start: int  # offsets of the quote within passage.text
    end: int
    score: float
    dense: float
    coverage: float
    support: float = 0.0  # how strongly it answers the question (0..1), set by support.py
    in_context: float = 0.0  # cosine of the question and the sentence read in its passage
    alone: bool = True  # ``dense`` is the sentence read alone (False: only read in its passage)

    @property
    def quote(self) -> str:
        return self.passage.text[self.start : self.end]


def names_of(author: str | None) -> list[str]:
    """The surnames in an article's byline ("Ivana Kottasová and Rob Picheta")."""
    if not author:
        return []
    parts = re.split(r"\s*(?:,|\band\b|&)\s*", author)
    return [p.split()[-1] for p in parts if p.split() and len(p.split()[-1]) >= 3]


def _coverage(weights: dict[str, float], text: str) -> float:
    """Share of the question's term weight (IDF) that the text contains."""
    total = sum(weights.values())
    if not total:
        return 0.0
    present = set(terms(text))
    return sum(w for t, w in weights.items() if t in present) / total


def score_sentences(
    question: str,
    query_vector: np.ndarray | None,
    passages: Sequence[Passage],
    embed: Callable[[Sequence[str]], np.ndarray],
    max_passages: int = MAX_PASSAGES,
    idf: Callable[[Sequence[str]], dict[str, float]] | None = None,
    stored: Mapping[str, np.ndarray] | None = None,
) -> list[Evidence]:
    """Every sentence of the first ``max_passages`` passages, scored, best first.

    ``idf`` weighs the question's words (rare words count more); without it all count the same.
    ``stored`` holds sentence vectors computed at indexing time (one row per sentence, by
    passage id); a passage without them has its sentences embedded now.
    """
    q_list = sorted(set(terms(question)))
    q_terms = idf(q_list) if idf else dict.fromkeys(q_list, 1.0)
    spans, rows = _sentences(passages[:max_passages], stored or {})
    if not spans:
        return []
    texts = [passages[i].text[a:b] for i, a, b in spans]
    if query_vector is None:
        query_vector = embed([question])[0]
    missing = [k for k, r in enumerate(rows) if r is None]
    matrix = np.zeros((len(texts), len(query_vector)), dtype=np.float32)
    if missing:
        matrix[missing] = embed([texts[k] for k in missing])
    for k, r in enumerate(rows):
        if r is not None:
            matrix[k] = r
    sims = matrix @ query_vector
    covs = [
        max(_coverage(q_terms, text), 0.8 * _coverage(q_terms, f"{text} {_context(passages[i])}"))
        for (i, _, _), text in zip(spans, texts, strict=True)
    ]  # the heading and title count, a little less

    article_rank: dict[str, int] = {}
    for p in passages:
        article_rank.setdefault(p.article_id, len(article_rank))

    opinion = [is_opinion(p) for p in passages]
    signed = [any(n in p.text for n in names_of(p.author)) or is_bio(p.text) for p in passages]

    def score(k: int) -> float:
        prior = 1 / (1 + article_rank[passages[spans[k][0]].article_id])
        own = BYLINE * signed[spans[k][0]]
        if opinion[spans[k][0]] and texts[k][:1] in '"“':
            own += QUOTED
        return 0.50 * float(sims[k]) + COVERAGE * covs[k] + ARTICLE_PRIOR * prior - own

    # Stored vectors read a sentence in its passage's context: they rank. The best few are
    # embedded on their own for the judge (support.py), which was calibrated on such vectors.
    contenders = sorted((k for k, r in enumerate(rows) if r is not None), key=score, reverse=True)
    contenders = contenders[:RERANK]
    judged = sims.copy()
    if contenders:
        judged[contenders] = embed([texts[k] for k in contenders]) @ query_vector
    solo = set(contenders) | set(missing)  # their ``dense`` is the sentence read alone

    def found(k: int, i: int, a: int, b: int) -> Evidence:
        dense, sim = float(judged[k]), float(sims[k])
        return Evidence(passages[i], i, a, b, score(k), dense, covs[k], 0.0, sim, k in solo)

    out = [found(k, i, a, b) for k, (i, a, b) in enumerate(spans) if quotable(texts[k])]
    out.sort(key=lambda e: -e.score)
    return out


def _context(p: Passage) -> str:
    return f"{p.heading or ''} {p.title or ''}"


def _sentences(
    passages: Sequence[Passage], stored: Mapping[str, np.ndarray]
) -> tuple[list[tuple[int, int, int]], list[np.ndarray | None]]:
    """Every sentence of the passages as (passage index, start, end), and its stored vector
    (None when the passage has none, or they no longer match its sentences)."""
    spans: list[tuple[int, int, int]] = []
    rows: list[np.ndarray | None] = []
    for i, p in enumerate(passages):
        own = sentence_spans(p.text)
        vectors = stored.get(p.chunk_id)
        usable = vectors is not None and len(vectors) == len(own)
        spans.extend((i, a, b) for a, b in own)
        rows.extend(vectors[k] if usable else None for k in range(len(own)))  # type: ignore[index]
    return spans, rows


def quotable(sentence: str) -> bool:
    """False for what states nothing on its own: a line of a few words, a photo's caption, a
    link to another story, a lead-in to what follows ("More from Suzette Hackney:"), a question
    ("What is the location and date for the Super Bowl in 2022?" echoes the reader's question,
    it does not answer it)."""
    return (
        len(sentence.split()) >= MIN_WORDS
        and not is_link(sentence)
        and not CAPTION.match(sentence)
        and not sentence.endswith(":")
        and not sentence.rstrip("\"'”’)").endswith("?")
    )


def is_link(sentence: str) -> bool:
    """A link to another story ("More:...", "RELATED:...", or a label glued to a headline that
    has no full stop or shouts: "Salvador Ramos:Texas school shooter lived in Uvalde: What we
    know ..."); "Austin:Although calling the rising number of cases ..., Gov. Abbott said no."
    in a round-up of the states is a statement."""
    if LINK_LABEL.match(sentence):
        return True
    if not LINK.match(sentence):
        return False
    headline = not sentence.rstrip("\"'”’)").endswith((".", "!", "?"))
    return headline or sentence.split(":", 1)[0].isupper()


def read_alone(
    chosen: Sequence[Evidence],
    query_vector: np.ndarray,
    embed: Callable[[Sequence[str]], np.ndarray],
) -> list[Evidence]:
    """``chosen`` with each sentence's similarity read alone, what the judge was calibrated on:
    a sentence a rule moved up from below the best few had only been read in its passage."""
    todo = [i for i, ev in enumerate(chosen) if not ev.alone]
    if not todo:
        return list(chosen)
    sims = embed([chosen[i].passage.text[chosen[i].start : chosen[i].end] for i in todo])
    out = list(chosen)
    for i, v in zip(todo, sims @ query_vector, strict=True):
        out[i] = replace(out[i], dense=float(v), alone=True)
    return out


def with_context(ev: Evidence) -> Evidence:
    """The evidence extended back to the previous sentence when it depends on it."""
    if not DEPENDENT_START.match(ev.quote):
        return ev
    before = [(a, b) for a, b in sentence_spans(ev.passage.text) if b <= ev.start]
    if not before:
        return ev
    return replace(ev, start=before[-1][0])


def _same(a: str, b: str) -> bool:
    wa, wb = set(terms(a)), set(terms(b))
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.8


def choose(scored: Sequence[Evidence], limit: int = 3, within: float = 0.85) -> list[Evidence]:
    """The evidence to state: the best sentence, then others nearly as good from other articles.

    One statement per article: a second sentence of the same article pushed other sources out
    of the citations (a reader who wants more of that article opens it at the cited paragraph).
    """
    if not scored:
        return []
    best = scored[0]
    chosen = [with_context(best)]
    floor = best.score * within
    pool = [e for e in scored[1:] if e.score >= floor and e.coverage > 0]
    for ev in pool:
        if len(chosen) >= limit:
            break
        if ev.passage.article_id in {c.passage.article_id for c in chosen}:
            continue
        ev = with_context(ev)
        if any(_same(ev.quote, c.quote) for c in chosen):
            continue
        if any(
            ev.passage.chunk_id == c.passage.chunk_id and ev.start < c.end and c.start < ev.end
            for c in chosen
        ):
            continue
        chosen.append(ev)
    return chosen


def prefer(
    scored: Sequence[Evidence], fits: Callable[[Evidence], bool], within: float
) -> list[Evidence]:
    """``scored`` with its best evidence that ``fits`` first, if its score is ``within`` of the
    best (a sentence that gives what is asked beats a closer one that does not)."""
    if not scored or fits(scored[0]):
        return list(scored)
    floor = scored[0].score * within
    for i, ev in enumerate(scored):
        if ev.score < floor:
            break
        if fits(ev):
            return [ev, *scored[:i], *scored[i + 1 :]]
    return list(scored)
