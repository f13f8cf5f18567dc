"""Answering one question: the stages, in the order they run.

    reading = read(question, turns)         the question, read once (reading.py)
    found   = find(...)                     passages: retrieval, the piece asked about first
    cands   = candidates(...)               the passages whose sentences may answer
    scored  = score(...)                    every sentence of those, ranked (evidence.py)
    chosen  = choose(...)                   what to state, and the judge of its support
    answer  = compose(...)                  statements with citations, or a refusal

``Answering`` holds what the stages share (the library and its settings); it is built once per
``Assistant`` and knows nothing of the CLI or the web.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answer import asked, evidence, gist, support, viewpoints
from assistant.answer import compose as composing
from assistant.answer.metadata import Articles, is_opinion, on_topic, topic_words
from assistant.answer.reading import Reading
from assistant.answer.retrieval import Retrieved, retrieve
from assistant.index.stores import to_passage
from assistant.index.sync import Library
from assistant.types import Answer, Filters, Passage

PER_CITATION = 16  # passages per citation when the first 20 hold fewer than k articles
DEPTH = 4  # a question about what a piece argues cites this many more of its passages
OPINION_BOOST = 2.0  # "the commentary on ...": opinion pieces earn twice a first rank's share

FILTER_ADVICE = "(assistant list shows the outlets, authors and dates)"  # the web names its tab

Judge = Callable[[evidence.Evidence], float]


@dataclass
class Found:
    """What retrieval gave for a question: the passages, the piece the question is about (the
    conversation's, for "What is its main point?"), and, for a question about an article's
    record, the passage that states it."""

    retrieved: Retrieved
    piece: str | None = None
    meta_passage: Passage | None = None
    by_author: frozenset[str] = frozenset()


class Answering:
    """The answering stages over one library."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.articles = Articles(library.stores)

    @property
    def settings(self) -> Any:
        return self.library.settings.answer

    # -- the stages ----------------------------------------------------------------------------
    def answer(
        self, reading: Reading, filters: Filters | None, k: int, vp: str | None, by: str | None
    ) -> Answer:
        """The cited answer (or refusal) to a question already read."""
        lib = self.library
        lib.check_manifest()
        lib.ensure_lexical()
        if unmatched := unmatched_filters(lib, filters):
            return Answer(reading.question, unmatched, refused=True)
        if vp is not None:  # who says what (and when): one entry per article
            return viewpoints.answer(
                lib, reading.question, reading, filters, vp, by, self.judge, self.around
            )
        found = self.find(reading, filters, k)
        cands = self.candidates(
            [p for p in found.retrieved.passages if p.article_id in found.by_author]
            or found.retrieved.passages,
            whole_first=found.meta_passage is None,
        )  # an author's own words answer "What does Nicole Hemmer say ...", not her subject's
        stored = lib.catalog.sentence_vectors([p.chunk_id for p in cands], lib.embedder.dim)
        scored = evidence.score_sentences(
            reading.gist or reading.focus, found.retrieved.query_vector, cands, lib.embed,
            idf=lib.lexical.idf, stored=stored, max_passages=len(cands),
        )  # fmt: skip
        views = reading.views or bool(by_named_author(reading.focus, cands[:1]))
        chosen, scored, judge, views = self.choose(reading, found, cands, scored, stored, views)
        return composing.compose(
            reading.question, chosen, scored, found.retrieved.passages, k,
            self.settings.refuse_below, found.meta_passage, judge, self.around,
            DEPTH if views else 0,
        )  # fmt: skip

    def find(self, reading: Reading, filters: Filters | None, k: int) -> Found:
        """The passages to answer from: retrieved for the question, the piece it names first."""
        stores = self.library.stores

        def fetch(n: int, vector: Any = None, boost: Sequence[str] = (), weight: float = 0.5) -> Retrieved:  # fmt: skip
            return retrieve(
                stores, reading.query, filters, n=n,
                boost_articles=[*reading.boost_articles, *boost], boost=weight,
                recent=reading.recent, vector=vector,
            )  # fmt: skip

        n = max(4 * k, 20)  # enough passages to cite k different articles, most of the time
        piece = None
        if reading.gist_unnamed and reading.last_articles:
            # "What is its main argument?" after an answer: the piece that answer cited first
            piece = reading.last_articles[0]
            found = retrieve(stores, reading.query, filters, n=n, only_articles=[piece])
        else:
            found = fetch(n)
        if len({p.article_id for p in found.passages}) < k and piece is None:
            n = PER_CITATION * k  # a few long articles took them all
            found = fetch(n, found.query_vector)
        by_author = by_named_author(reading.focus, found.passages)
        opinion: set[str] = set()
        if reading.commentary:  # "the column on cycling lanes": pieces on it, not every piece
            topic = topic_words(reading.focus)
            opinion = {p.article_id for p in found.passages if is_opinion(p) and on_topic(p, topic)}
        if piece is None and (preferred := (opinion | by_author) - set(reading.boost_articles)):
            # "the CNN commentary on ...", "What does Nicole Hemmer say ...": those pieces first
            found = fetch(n, found.query_vector, sorted(preferred), OPINION_BOOST)
        result = Found(found, piece, None, frozenset(by_author))
        if reading.metadata:  # "who wrote the commentary ...?": the article, then inside it
            self.within_article(reading, filters, n, result)
        return result

    def within_article(self, reading: Reading, filters: Filters | None, n: int, found: Found) -> None:  # fmt: skip
        """For a question about an article's record: the article it means, its passages, and
        the passage that names its author."""
        passages = found.retrieved.passages
        aid = self.articles.article_named(reading.query, passages, reading.boost_articles)
        if not aid:
            return
        found.retrieved = retrieve(
            self.library.stores, reading.query, filters, n=n, only_articles=[aid],
            vector=found.retrieved.query_vector,
        )  # fmt: skip
        found.meta_passage = self.articles.passage_naming_author(aid) or (
            found.retrieved.passages[0] if found.retrieved.passages else None
        )

    def candidates(self, passages: Sequence[Passage], whole_first: bool) -> list[Passage]:
        """The passages whose sentences may answer: the best few retrieved, and (``whole_first``)
        every passage of the first article. Retrieval finds the right article far more often
        than the right paragraph of a long one: an opinion piece's argument is seldom in the
        paragraph that shares the question's words (docs/quality.md)."""
        out = list(passages[: evidence.MAX_PASSAGES])
        if whole_first and out:
            lib = self.library
            have = {p.chunk_id for p in out}
            ids = [i for i in lib.catalog.chunk_ids_of(out[0].article_id) if i not in have]
            out += [to_passage(row, meta) for row, meta in lib.stores.passage_rows(ids)]
        return out

    def choose(
        self, reading: Reading, found: Found, cands: list[Passage],
        scored: list[evidence.Evidence], stored: Any, views: bool,
    ) -> tuple[list[evidence.Evidence], list[evidence.Evidence], Judge, bool]:  # fmt: skip
        """The evidence to state, every sentence in the order the answer prefers them (the
        nearest passages of a refusal follow it), the judge of support, and whether the answer
        is a piece's argument (then more of that piece is cited)."""
        if reading.said:  # "what else": not what was said before
            scored = [e for e in scored if e.quote not in reading.said] or scored
        if reading.gist is not None and cands and found.meta_passage is None:
            judge = self.judge(reading.gist, best=found.retrieved.best_dense)
            chosen, speaks = gist.answer(  # the piece's central sentences
                scored, stored, cands[0].article_id, judge
            )
            if reading.gist_unnamed:  # the piece the conversation cited, or none to speak of
                speaks = 1.0 if found.piece is not None else 0.0
            return chosen, scored, (lambda ev: speaks), True
        need, focus = reading.need, reading.focus
        scored = evidence.prefer(  # "how many tons ...": a sentence with the tonnage, if close
            scored,
            lambda ev: asked.answers(need, focus, ev.quote, ev.passage.published),
            evidence.PREFER_WITHIN,
        )
        if reading.form is not None:  # a figure or its source (advice, ...), if close
            form = reading.form
            scored = evidence.prefer(
                scored, lambda ev: form.search(ev.quote) is not None, evidence.PREFER_WITHIN
            )
        chosen = evidence.choose(scored)
        if found.retrieved.query_vector is not None:  # the judge reads what it was calibrated on
            chosen = evidence.read_alone(chosen, found.retrieved.query_vector, self.library.embed)
        return chosen, scored, self.judge(focus, need, found.retrieved.best_dense), views

    # -- shared by the stages (and by viewpoints.py) ---------------------------------------------
    def judge(
        self, question: str, need: asked.Asked | bool | None = False, best: float | None = None
    ) -> Judge:
        """How strongly a piece of evidence answers ``question`` (support.py's model); ``best``:
        the question's closest passage in the library searched, when retrieval found it."""
        model = support.load_model()
        wanted = asked.asked_for(question) if need is False else need

        def judge(ev: evidence.Evidence) -> float:
            if asked.contradicts(question, ev.quote, ev.passage.published):
                return 0.0  # about another year than the one asked: a contradiction (support.py)
            # the asked-for kind of thing missing (a number of tons, a name): weighed by the model
            misses = not asked.gives(wanted, ev.quote, question)  # type: ignore[arg-type]
            signals = support.features(ev.dense, ev.coverage, ev.in_context, misses, best)
            return model.support(signals)

        return judge

    def around(self, p: Passage) -> str:
        """The passage with its neighbouring paragraphs, as the article has them, up to
        ``passage_chars`` (a reader of news, where a paragraph is often one sentence, needs the
        sentences around a quote; the recipe's chunks show 1,000 characters)."""
        aid, pos = p.chunk_id.rsplit(":", 1)
        i = int(pos)
        ids = [f"{aid}:{j}" for j in range(i - REACH, i + REACH + 1) if j != i]
        rows = self.library.catalog.chunks(ids)
        near = {int(cid.rsplit(":", 1)[1]): row for cid, row in rows.items()}
        return window(p, i, near, self.settings.passage_chars)


REACH = 6  # neighbours looked up on each side (a 1,000-character window seldom needs more)


def window(p: Any, i: int, near: dict[int, Any], budget: int) -> str:
    """``p``'s text (passage number ``i``) grown by whole neighbouring passages of ``near``
    (number -> passage), one after and one before in turn, while the text stays within
    ``budget`` characters and the neighbours stand next to each other in the article."""
    text, lo, hi = p.text, i, i
    first = last = p
    grown = True
    while grown:
        grown = False
        before, after = near.get(lo - 1), near.get(hi + 1)
        if (
            after is not None
            and len(text) + len(after.text) + 2 <= budget
            and (s := _between(last, after)) is not None
        ):
            text, last, hi, grown = text + s + after.text, after, hi + 1, True
        if (
            before is not None
            and len(text) + len(before.text) + 2 <= budget
            and (s := _between(before, first)) is not None
        ):
            text, first, lo, grown = before.text + s + text, before, lo - 1, True
    return text


def _between(a: Any, b: Any) -> str | None:
    """What stands between two neighbouring passages in the article, when known."""
    gap = b.start - a.end
    if a.paragraph == b.paragraph:
        return " " if gap == 1 else None
    return "\n\n" if gap == 2 else None


def by_named_author(question: str, passages: Sequence[Passage]) -> set[str]:
    """The candidate articles whose author the question names ("What does Nicole Hemmer say")."""
    return {
        p.article_id
        for p in passages
        if any(re.search(rf"\b{re.escape(n)}\b", question) for n in evidence.names_of(p.author))
    }


def unmatched_filters(library: Library, filters: Filters | None) -> str | None:
    """The refusal to give when the filters admit no article at all (else the answer would
    read as if the corpus had nothing on the question); None when some article passes."""
    if filters is None or library.stores.allowed_articles(filters) != []:
        return None
    given = {"outlet": filters.outlet, "author": filters.author, "since": filters.since,
             "until": filters.until, "as of": filters.as_of}  # fmt: skip
    named = ", ".join(f"{k} {v!r}" for k, v in given.items() if v)
    return (
        f"No article in the corpus matches the filters ({named}), so there is nothing to answer "
        f"from. Widen or clear the filters {FILTER_ADVICE}."
    )
