"""Who says what, and since when: one entry per article, grouped by author or outlet, or in time.

A question about several sources ("What do commentators say about sanctions?", "How do CNN and
USA Today columnists differ on the midterms?") gets a **viewpoints** answer: for each article
that speaks to it, its author, outlet and date with the one or two sentences that do, quoted and
cited as in any answer. A question about change ("How has the view on a ceasefire changed since
June?") gets a **timeline**: the same entries, oldest first, undated ones last.

>>> recognise("What do commentators say about sanctions on Russia?")
'viewpoints'
>>> recognise("How has the view on a Ukraine ceasefire changed since June?")
'timeline'
>>> recognise("Which commentator warns that a degree no longer assures a middle-class life?")

Recognition asks for the plural, a comparison or a change over time, so a question about one
source ("the columnist", "compared to a year ago", "since the invasion began, how much ...")
stays an ordinary question. Each entry must pass the refusal rule on its own: its best sentence's
support (support.py) is at least ``refuse_below``, so a listed source always speaks to the question.

Which articles, and what of each: retrieval searches for the question's topic (``topic``: without
the words that ask for sources or for change); the articles it finds are ranked by how much they
are *about* the topic (``rank_articles``), and, in that order, each article's best sentences,
from whichever of its passages hold them (``best_passages``), are judged until ``MAX_ENTRIES``
pass. Choosing the articles by their best sentence instead listed round-ups that mention the
topic once (docs/quality.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer import evidence
from assistant.answer.compose import REFUSAL, _citation, _with_marker
from assistant.answer.evidence import Evidence
from assistant.answer.retrieval import retrieve
from assistant.errors import InputError
from assistant.index.stores import to_passage
from assistant.text import terms
from assistant.types import Answer, Citation, Filters, Passage, Viewpoint

if TYPE_CHECKING:
    from assistant.answer.reading import Reading
    from assistant.index.stores import Stores
    from assistant.index.sync import Library

MODES = ("viewpoints", "timeline", "answer")  # "answer": an ordinary answer, whatever the wording
GROUPINGS = ("article", "author", "outlet")
MAX_ENTRIES = 8  # articles listed at most
POOL = 30  # articles of the retrieved passages that may be listed, most about the topic first
PER_ARTICLE = 4  # passages of each article whose sentences are scored (the closest ones)
BATCH = 8  # articles whose sentences are scored and judged at a time, until MAX_ENTRIES pass
RETRIEVE = 200  # passages retrieved to find that many articles
JUDGED = 2  # best sentences of each article embedded on their own and judged
SECOND_WITHIN = 0.9  # a second sentence of an article only when nearly as good as its first

_SOURCES = (
    r"(?:commentators|columnists|opinion writers|writers|authors|analysts|experts|pundits|critics|"
    r"outlets|newspapers|publications|sources|articles|pieces|columns|contributions|contributors|"
    r"op-eds|editorials|observers|sides)"
)
_SOURCE = r"(?:commentator|columnist|writer|author|analyst|expert|outlet|newspaper|article|piece|column|side)"
_VIEWPOINTS = re.compile(
    r"\b(?:commentators|columnists|opinion writers|analysts|experts|pundits)\b"
    r"|\b(?:views|viewpoints|perspectives)\b"
    rf"|\b(?:different|various|several|both|each)\s+(?:[\w'-]+\s+)?{_SOURCES}\b"
    rf"|\bthe two\s+(?:[\w'-]+\s+){{0,3}}{_SOURCES}\b|\beach\s+(?:[\w'-]+\s+)?{_SOURCE}\b"
    r"|\bdiffer\b|\bdisagree\b|\bcompare\s*\??$|\bcompare\s+(?:what|how|the views|views|the "
    r"coverage|coverage|the arguments|arguments|positions|accounts)\b"
    r"|\beach of (?:them|the)\b|\bwho says\b|\baccording to whom\b",
    re.IGNORECASE,
)
_CHANGE = r"(?:chang|develop|evolv|shift|unfold|escalat|progress|mov)(?:e|ed|es|ing)?"
_TIMELINE = re.compile(
    rf"\bhow\s+(?:has|have|did|do|does)\b.{{0,160}}?\b{_CHANGE}\b"
    rf"|\b{_CHANGE}\s+since\b|\bsince when\b|\bover time\b|\btime ?line\b|\bchronolog",
    re.IGNORECASE,
)


# what asks for the mode rather than for the topic: the entries must speak to the topic (the
# ordering shows the change, the rows show who says what), so these words are not searched for
_MODE_WORDS = re.compile(
    rf"\bhow\s+(?:has|have|did|do|does)\b|\b{_CHANGE}\b|\bover time\b|\btime ?line\b|"
    r"\b(?:commentators|columnists|opinion writers|analysts|experts|pundits|views|viewpoints|"
    r"perspectives|different|various|compare|differ|who says|according to whom)\b",
    re.IGNORECASE,
)
# how a question about sources opens ("What do the two columnists say about", "How do different
# outlets report", "Who says that"): it asks who, not what
_AUX = r"(?:do|does|did|is|are|was|were|has|have|had)"
_FRAME = re.compile(
    rf"^\s*(?:(?:what|how|who|which|in what ways?)\s+(?:{_AUX}\s+)?"
    r"|(?:compare|describe|summari[sz]e|list|give me|show me)\s+)"
    r"(?:(?:[\w'-]+\s+){0,6}?(?:(?:say|says|said|saying|write|writes|wrote|think|argue|argues|"
    r"report|reports|reported|cover|covers|covered|describe|characteri[sz]e|portray|see)\b\s*)+)?"
    r"(?:(?:the|a|an|about|on|of|that)\s+)*",
    re.IGNORECASE,
)
# what is left at the head once the mode's words are out: "What views are there on" -> "are there on"
_LEAD = re.compile(
    rf"^\s*(?:(?:what|how|who|which)\s+)?(?:{_AUX}\s+)?(?:(?:there|the|a|an|about|on|of|that)\s+)*",
    re.IGNORECASE,
)


def topic(question: str) -> str:
    """The question without the words that ask for the mode or for sources: what it is about.

    >>> topic("How has the view on a Ukraine ceasefire changed since June?")
    'view on a Ukraine ceasefire since June?'
    >>> topic("What views are there on Ukraine's bid to join the EU?")
    "Ukraine's bid to join the EU?"
    >>> topic("How do different outlets report Serena Williams' reasons for stepping away?")
    "Serena Williams' reasons for stepping away?"

    The rest of the question is what retrieval searches for and what each entry's sentence is
    judged against: "What are there on ..." would read to asked.py as a question for an
    attribute called "there", which no sentence has, and every entry would be refused.
    """
    out = _FRAME.sub("", question, count=1)
    out = _LEAD.sub("", " ".join(_MODE_WORDS.sub(" ", out).split()), count=1)
    return out if re.search(r"\w", out) else question


def recognise(question: str) -> str | None:
    """ "timeline", "viewpoints" or None (an ordinary question), from the wording alone."""
    if _TIMELINE.search(question):
        return "timeline"
    if _VIEWPOINTS.search(question):
        return "viewpoints"
    return None


def mode_for(question: str, mode: str | None, by: str | None) -> str | None:
    """The mode to answer in: the one asked for, else the one the wording asks for.

    ``mode``: "viewpoints", "timeline", "answer" (ordinary, whatever the wording) or None;
    ``by`` ("article", "author", "outlet") on its own asks for viewpoints.
    """
    if mode is not None and mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)} (got {mode!r}).")
    if by is not None and by not in GROUPINGS:
        raise InputError(f"--by must be one of {', '.join(GROUPINGS)} (got {by!r}).")
    if mode == "answer":
        return None
    if mode is not None:
        return mode
    return recognise(question) or ("viewpoints" if by is not None else None)


@dataclass(frozen=True)
class Entry:
    """One article's say: its best sentence (and maybe a second), judged."""

    quotes: tuple[Evidence, ...]
    rank: int  # by relevance, 0 = best

    @property
    def passage(self) -> Passage:
        return self.quotes[0].passage


def rank_articles(
    stores: Stores, query: str, query_vector: np.ndarray | None, passages: Sequence[Passage],
    pool: int, rrf_k: int,
) -> list[str]:  # fmt: skip
    """The first ``pool`` articles of the retrieved passages, those most about the topic first.

    Three rankings of the articles, fused by reciprocal rank as retrieval fuses its own: the
    order in which retrieval found their passages, the similarity of their title and lede to
    the topic, and BM25 over their whole text. Ranking them by their best sentence instead
    listed round-ups that mention the topic once ("5 things to know", "News from around our 50
    states") before the articles about it, and more candidates made it worse (docs/quality.md).
    """
    found = list(dict.fromkeys(p.article_id for p in passages))[:pool]
    lede, by_text = stores.article_rankings(query, query_vector, found)
    by_lede = sorted(found, key=lambda a: -lede.get(a, -1.0))
    fused = dict.fromkeys(found, 0.0)
    for ranking in (found, by_lede, by_text):
        for r, aid in enumerate(ranking):
            fused[aid] += 1 / (rrf_k + r + 1)
    return sorted(found, key=lambda a: -fused[a])


def best_passages(
    stores: Stores, article_ids: Sequence[str], query_vector: np.ndarray, per_article: int
) -> tuple[list[Passage], dict[str, np.ndarray]]:
    """Of each article, the ``per_article`` passages holding its sentences closest to the
    question (by the stored sentence vectors, which read each sentence in its passage), article
    by article; and those vectors. All of an article's passages are looked at: its say is often
    not in the passage retrieval found (an opinion piece's argument); scoring every sentence of
    a long live blog (a thousand and more) only made the slowest answers twice as slow."""
    ids = [cid for aid in article_ids for cid in stores.catalog.chunk_ids_of(aid)]
    stored = stores.catalog.sentence_vectors(ids, len(query_vector))
    best: dict[str, list[tuple[float, str]]] = {}
    for cid in ids:
        v = stored.get(cid)
        sim = float((v @ query_vector).max()) if v is not None and len(v) else -1.0
        best.setdefault(cid.rsplit(":", 1)[0], []).append((sim, cid))
    keep = [
        cid
        for aid in article_ids
        for _, cid in sorted(best.get(aid, []), key=lambda x: -x[0])[:per_article]
    ]
    passages = [to_passage(row, meta) for row, meta in stores.passage_rows(keep)]
    return passages, {cid: stored[cid] for cid in keep if cid in stored}


def _judged(
    scored: Sequence[Evidence],
    embed: Callable[[Sequence[str]], np.ndarray],
    query_vector: np.ndarray,
    judge: Callable[[Evidence], float],
) -> dict[str, list[Evidence]]:
    """Each article's ``JUDGED`` best sentences, embedded on their own and judged, best first.

    score_sentences embeds only the best few sentences overall on their own; the others carry
    similarities from their passage's context, which the support model was not fitted on.
    """
    best: dict[str, list[Evidence]] = {}
    for ev in scored:
        own = best.setdefault(ev.passage.article_id, [])
        if len(own) < JUDGED:
            own.append(evidence.with_context(ev))
    flat = [ev for own in best.values() for ev in own]
    if not flat:
        return {}
    sims = embed([ev.quote for ev in flat]) @ query_vector
    out: dict[str, list[Evidence]] = {}
    for ev, sim in zip(flat, sims, strict=True):
        ev = replace(ev, dense=float(sim), score=ev.score + 0.5 * (float(sim) - ev.dense))
        out.setdefault(ev.passage.article_id, []).append(replace(ev, support=judge(ev)))
    for own in out.values():
        own.sort(key=lambda e: -e.score)
    return out


def repeats(a: str, b: str) -> bool:
    """True when two quotes say the same (80% of the words of the longer one in common): a
    syndicated copy or a live blog repeating a story.

    Measured on the longer quote, not the shorter as evidence._same does: a fragment ("Wade
    ruling, as indicated by a leaked draft opinion", cut at "Roe v.") shares its few words with
    many sentences, and two outlets quoting the same remark in their own words are two sources.
    """
    wa, wb = set(terms(a)), set(terms(b))
    return bool(wa and wb) and len(wa & wb) / max(len(wa), len(wb)) >= 0.8


def entries(judged: dict[str, list[Evidence]], refuse_below: float, limit: int) -> list[Entry]:
    """The articles whose best sentence has support, in the order of ``judged`` (the articles'
    ranking), each with one or two quotes.

    An article that says what an earlier entry already said (a syndicated copy, a live blog
    repeating a story) is left out: a reader comparing sources wants different sources.
    """
    found: list[tuple[Evidence, ...]] = []
    for own in judged.values():
        first = own[0]
        if first.support < refuse_below:
            continue
        if any(repeats(first.quote, ev.quote) for qs in found for ev in qs):
            continue
        quotes = [first]
        for ev in own[1:]:
            if (
                ev.support >= refuse_below
                and ev.score >= first.score * SECOND_WITHIN
                and ev.passage.chunk_id != first.passage.chunk_id
                and not evidence._same(ev.quote, first.quote)
            ):
                quotes.append(ev)
                break
        found.append(tuple(quotes))
        if len(found) >= limit:
            break
    return [Entry(qs, i) for i, qs in enumerate(found)]


def order(found: Sequence[Entry], timeline: bool, by: str) -> list[Entry]:
    """Entries in display order: by relevance or by date (oldest first, undated last), with the
    entries of one author or outlet together (groups in the order of their first entry)."""

    def when(e: Entry) -> tuple[int, str, int]:
        published = e.passage.published
        return (0, published, e.rank) if published else (1, "", e.rank)

    ranked = sorted(found, key=when) if timeline else sorted(found, key=lambda e: e.rank)
    if by == "article":
        return ranked
    groups: dict[str, list[Entry]] = {}
    for e in ranked:
        key = getattr(e.passage, by) or ""
        groups.setdefault(key.casefold(), []).append(e)
    known = [g for k, g in groups.items() if k]
    return [e for g in [*known, groups.get("", [])] for e in g]


def label(e: Entry | Passage, timeline: bool, by: str) -> str:
    """Who and when, for the line of an entry: ``Stefan Wolff (CNA, 2025-03-01)``."""
    p = e.passage if isinstance(e, Entry) else e
    who = p.author or "Unknown author"
    outlet = p.outlet or "unknown outlet"
    date = p.published or "date unknown"
    if timeline:
        return f"{p.published or 'Date unknown'} — {who}, {outlet}"
    if by == "outlet":
        return f"{outlet} — {who}, {date}"
    return f"{who} ({outlet}, {date})"


def compose(
    question: str, shown: Sequence[Entry], timeline: bool, by: str, around: Callable[[Passage], str]
) -> Answer:
    """The Answer: a lead line, then one line per entry with its quotes and markers."""
    if not shown:
        return Answer(question, REFUSAL, True, [], support=0.0, viewpoints=[])
    citations: list[Citation] = []
    lines: list[str] = []
    views: list[Viewpoint] = []
    for e in shown:
        ns = []
        said = []
        for ev in e.quotes:
            n = len(citations) + 1
            citations.append(
                _citation(n, ev.passage, ev.start, ev.end, ev.support, around(ev.passage))
            )
            ns.append(n)
            said.append(_with_marker(ev.quote, n))
        lines.append(f"- {label(e, timeline, by)}: {' '.join(said)}")
        p = e.passage
        views.append(Viewpoint(p.article_id, p.title, p.author, p.outlet, p.published, tuple(ns)))
    how = "oldest first" if timeline else "most relevant first"
    if by != "article":
        how = f"by {by}, {how}"
    n = len(shown)
    lead = f"What {n} article{'s' if n != 1 else ''} say{'s' if n == 1 else ''} ({how}):"
    support = max(ev.support for e in shown for ev in e.quotes)
    return Answer(question, "\n".join([lead, *lines]), False, citations, support=support,
                  viewpoints=views)  # fmt: skip


def answer(
    lib: Library,
    question: str,
    reading: Reading,
    filters: Filters | None,
    mode: str,
    by: str | None,
    judge_for: Callable[[str], Callable[[Evidence], float]],
    around: Callable[[Passage], str],
) -> Answer:
    """The viewpoints or timeline answer to ``question`` (its follow-up resolution given).

    ``judge_for`` gives the support judge for a question, ``around`` a passage's context.
    """
    s = lib.settings.answer
    query, focus = topic(reading.query), topic(reading.focus)
    found = retrieve(lib.stores, query, filters, n=RETRIEVE, boost_articles=reading.boost_articles)
    qv = found.query_vector
    if qv is None:
        qv = lib.embed([query])[0]
    ranked = rank_articles(lib.stores, query, qv, found.passages, POOL, s.rrf_k)
    judge = judge_for(focus)
    judged: dict[str, list[Evidence]] = {}
    listed: list[Entry] = []
    for start in range(0, len(ranked), BATCH):  # the next articles, until enough have support
        batch = ranked[start : start + BATCH]
        passages, stored = best_passages(lib.stores, batch, qv, PER_ARTICLE)
        scored = evidence.score_sentences(
            focus, qv, passages, lib.embed, max_passages=len(passages), idf=lib.lexical.idf,
            stored=stored,
        )  # fmt: skip
        new = _judged(scored, lib.embed, qv, judge)
        judged.update((aid, new[aid]) for aid in batch if aid in new)
        listed = entries(judged, s.refuse_below, MAX_ENTRIES)
        if len(listed) >= MAX_ENTRIES:
            break
    shown = order(listed, mode == "timeline", by or "article")
    return compose(question, shown, mode == "timeline", by or "article", around)
