"""Composing the answer: statements built from chosen evidence, each with its citation ``[n]``.

Without a language model (the default) an answer is made of the evidence sentences themselves,
quoted verbatim and followed by their citation marker, so every statement is supported by the
passage it cites by construction. When the best evidence is too weak the answer is a refusal.
Questions about the articles themselves (who wrote it, when, where) are answered from metadata
(``metadata.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from assistant.answer.asked import WORD, bare
from assistant.answer.evidence import Evidence
from assistant.answer.metadata import metadata_kind, metadata_statement
from assistant.text import PARAGRAPH_BREAK, first_sentence_span
from assistant.types import Answer, Citation, Passage

REFUSAL = "The corpus does not say: none of its articles supports an answer to this question."


def _with_marker(sentence: str, n: int) -> str:
    """The sentence with ``[n]`` before its final punctuation: ``It is. `` -> ``It is [1].``"""
    s = sentence.strip()
    m = re.search(r"([.!?…]+[\"'”’)]*)$", s)
    if m:
        return f"{s[: m.start()]} [{n}]{m.group(1)}"
    return f"{s} [{n}]."


def _citation(
    n: int, p: Passage, start: int, end: int, score: float, around: str | None = None
) -> Citation:
    return Citation(
        n=n, article_id=p.article_id, title=p.title, author=p.author, outlet=p.outlet,
        published=p.published, url=p.url, paragraph=quoted_paragraph(p, start),
        quote=p.text[start:end], passage=around or p.text, score=round(score, 4),
    )  # fmt: skip


def quoted_paragraph(p: Passage, start: int) -> int:
    """The number of the paragraph holding ``p.text[start:]`` (a passage may join several)."""
    return p.paragraph + len(PARAGRAPH_BREAK.findall(p.text, 0, start))


class _Cited:
    """An answer's citations so far: each passage once, numbered in order of first use."""

    def __init__(self, around: Callable[[Passage], str]) -> None:
        self.around = around  # what a citation shows of its passage
        self.citations: list[Citation] = []
        self.number: dict[str, int] = {}  # chunk id -> citation number

    def cite(self, p: Passage, a: int, b: int, score: float) -> int:
        """The number of the citation of ``p`` (quoting ``p.text[a:b]``), a new one if needed."""
        if p.chunk_id not in self.number:
            n = len(self.citations) + 1
            self.citations.append(_citation(n, p, a, b, score, self.around(p)))
            self.number[p.chunk_id] = n
        return self.number[p.chunk_id]


def compose(
    question: str,
    chosen: Sequence[Evidence],
    scored: Sequence[Evidence],
    passages: Sequence[Passage],
    k: int,
    refuse_below: float,
    meta_passage: Passage | None = None,
    judge: Callable[[Evidence], float] = lambda ev: ev.support,
    around: Callable[[Passage], str] = lambda p: p.text,
    depth: int = 0,
) -> Answer:
    """The Answer: statements with markers, citations in order of first use, or a refusal.

    ``judge`` gives how strongly a piece of evidence answers the question (see support.py);
    only what is cited is judged.
    """
    chosen = [replace(ev, support=judge(ev)) for ev in chosen]
    support = chosen[0].support if chosen else 0.0
    statements: list[str] = []
    cited = _Cited(around)
    cite, citations = cited.cite, cited.citations

    kind = metadata_kind(question)
    unknown = False  # asked who wrote an article (when, where) the library does not record
    if kind and meta_passage is not None:
        text, (a, b) = metadata_statement(kind, meta_passage)
        if text:
            n = cite(meta_passage, a, b, max(support, 0.5))
            statements.append(f"{text} [{n}].")
            support = max(support, 0.5)
        else:
            unknown = True
    refused = (support < refuse_below and not statements) or unknown
    stated: list[tuple[int, str]] = []  # (citation number, quote) of each quoted statement
    if not refused:
        for ev in chosen:
            if ev.support < refuse_below and statements:
                continue
            n = cite(ev.passage, ev.start, ev.end, ev.support)
            statements.append(_with_marker(ev.quote, n))
            stated.append((n, ev.quote))
    # the other passages, for the reader who wants to look further
    best_of: dict[str, Evidence] = {}
    for ev in scored:
        best_of.setdefault(ev.passage.chunk_id, ev)
    for p in _further(passages, scored, citations, set(cited.number), depth, around):
        if len(citations) >= k:
            break
        if p.chunk_id not in cited.number:
            best = best_of.get(p.chunk_id)
            a, b = (best.start, best.end) if best else first_sentence_span(p.text)
            cite(p, a, b, judge(best) if best else 0.0)
    if refused:
        text = _unrecorded(kind, meta_passage) if unknown else REFUSAL
        return Answer(question, text, True, citations, support=support)
    conflicts = [
        (a, b) for i, (a, qa) in enumerate(stated) for b, qb in stated[i + 1 :] if disagree(qa, qb)
    ]
    return Answer(
        question, " ".join(statements), False, citations, support=support, conflicts=conflicts
    )


def disagree(a: str, b: str) -> bool:
    """True when two quoted statements say nearly the same thing with another name or number
    ("Google CEO Sundar Pichai appointed ..." / "Google CEO Tim Cook appointed ..."): the
    sources contradict each other, or speak of different things, and the reader should know.

    Mostly the same words (60% of the shorter's), and each has a name (a capitalised word after
    the first) or a number the other lacks, among at most five words of its own.
    """
    ta, tb = WORD.findall(a), WORD.findall(b)
    sa, sb = {bare(t) for t in ta}, {bare(t) for t in tb}
    if not sa or not sb or len(sa & sb) < 0.6 * min(len(sa), len(sb)):
        return False
    own_a, own_b = sa - sb, sb - sa
    if not own_a or not own_b or len(own_a) > 5 or len(own_b) > 5:
        return False
    return bool(_facts(ta) & own_a) and bool(_facts(tb) & own_b)


def _facts(tokens: Sequence[str]) -> set[str]:
    """The names (capitalised after the first word) and numbers among ``tokens``, lower-cased."""
    return {
        bare(t)
        for i, t in enumerate(tokens)
        if any(c.isdigit() for c in t) or (i > 0 and t[:1].isupper())
    }


def _further(
    passages: Sequence[Passage], scored: Sequence[Evidence], citations: Sequence[Citation],
    cited: set[str], depth: int, around: Callable[[Passage], str],
) -> list[Passage]:  # fmt: skip
    """The passages to cite after the statements', in order: for a piece's argument (``depth``)
    more of that piece, each showing more of it; then the best passage of each article not
    cited yet (a reader looking further wants other sources, not the next paragraph of an
    article already cited: that one is in the cited passage's context); then the rest.
    ``cited``: the ids of the passages cited so far."""
    used = {c.article_id for c in citations}
    firsts = []
    for p in passages:
        if p.article_id not in used:
            used.add(p.article_id)
            firsts.append(p)
    deeper: list[Passage] = []
    if depth and (citations or scored):
        top = citations[0].article_id if citations else scored[0].passage.article_id
        shown = [c.passage for c in citations]
        for ev in scored:
            p = ev.passage
            if len(deeper) == depth:
                break
            if p.article_id != top or p.chunk_id in cited or any(p.text in t for t in shown):
                continue  # another article's, cited already, or shown around a cited passage
            deeper.append(p)
            shown.append(around(p))
    return [*deeper, *firsts, *passages]


def _unrecorded(kind: str | None, meta_passage: Passage | None) -> str:
    """The refusal for a question about an article's record that the library lacks."""
    if meta_passage is None:
        return REFUSAL
    what = {"author": "its author", "published": "its date"}.get(kind or "", "its outlet")
    name = f"“{meta_passage.title}”" if meta_passage.title else "The article"
    return f"The corpus does not say: {name} does not record {what}."
