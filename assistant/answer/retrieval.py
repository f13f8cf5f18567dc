"""Hybrid retrieval: dense (Chroma) and lexical (BM25) passages fused by reciprocal rank.

    fused(p) = w_dense / (k + rank_dense(p)) + w_lexical / (k + rank_lexical(p))
             + w_lede / (k + rank_lede(article(p))) + w_text / (k + rank_text(article(p)))
             [+ 4 / (k + 1) · 0.5 ^ (days behind the newest candidate / 90)   "this week", "latest"]

Fusion is never worse than the better retriever on the public sets, and it finds the passages
one of them misses (names and numbers for BM25, paraphrases for the embeddings). Filters are
resolved to a set of article ids and applied inside both retrievers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.index.stores import Stores, to_passage
from assistant.types import Filters, Passage

DENSE_IN_LIMIT = 2000  # above this many allowed articles, filter dense results afterwards


@dataclass(frozen=True)
class Retrieved:
    """Passages, best first, and the question's embedding (reused for sentence scoring)."""

    passages: list[Passage]
    query_vector: np.ndarray | None
    best_dense: float | None = None  # the question's closest passage of those searched (cosine)


RECENCY = 4.0  # "this week": the newest candidate earns 4 first ranks' share, halving every
RECENT_WITHIN = 0.2  # ... whose closest passage is within this cosine of the closest of all
RECENT_POOL = 10  # only the best candidate articles (by everything else) compete on date
HALF_LIFE_DAYS = 90  # 90 days older (realtimeqa dev: hit@5 .852 -> .901, MRR .708 -> .790;
#                      weights 3-5 and half-lives of 60-180 days all within a question of it)


def _prefer_recent(
    stores: Stores,
    fused: dict[str, float],
    article_of: dict[str, str],
    bonus: float,
    dense: list[tuple[str, float]],
) -> None:
    """Add to each dated article among the ``RECENT_POOL`` best candidates ``bonus``, halved for
    every ``HALF_LIFE_DAYS`` it is older than the newest of them (undated articles get nothing;
    newer articles off the topic are not in the pool)."""
    best: dict[str, float] = {}
    for cid, aid in article_of.items():
        best[aid] = max(best.get(aid, 0.0), fused[cid])
    close: dict[str, float] = {}
    for cid, sim in dense:
        aid = cid.rsplit(":", 1)[0]
        close[aid] = max(close.get(aid, -1.0), sim)
    top = max(close.values(), default=0.0)
    pool = [
        a
        for a in sorted(best, key=lambda a: (-best[a], a))
        if close.get(a, top) >= top - RECENT_WITHIN
    ]
    pool = pool[:RECENT_POOL]
    days: dict[str, int] = {}
    for aid in pool:
        row = stores.catalog.article(aid)
        if row is not None and row.published:
            try:
                days[aid] = dt.date.fromisoformat(row.published[:10]).toordinal()
            except ValueError:
                continue
    if not days:
        return
    newest = max(days.values())
    for cid, aid in article_of.items():
        if aid in days:
            fused[cid] += bonus * 0.5 ** ((newest - days[aid]) / HALF_LIFE_DAYS)


def retrieve(
    stores: Stores,
    query: str,
    filters: Filters | None = None,
    n: int = 10,
    boost_articles: Sequence[str] = (),
    only_articles: Sequence[str] | None = None,
    boost: float = 0.5,
    recent: bool = False,
    vector: np.ndarray | None = None,
) -> Retrieved:
    """The ``n`` best passages for ``query`` within the filters (and ``only_articles``, if given).

    Passages of ``boost_articles`` (those of the conversation so far; opinion pieces when the
    question asks about one) earn ``boost`` times a first rank's share of the fusion. With
    ``recent`` (the question asks what is new) newer candidates earn more (``_prefer_recent``).
    ``vector``: the query's embedding when the caller has it (asking again costs no model call).
    """
    s = stores.settings.answer
    allowed = stores.allowed_articles(filters or Filters())
    if only_articles is not None:
        allowed = [a for a in only_articles if allowed is None or a in set(allowed)]
    if allowed is not None and not allowed:
        return Retrieved([], None)
    vector, dense, lexical = _ranked_passages(stores, query, vector, allowed)
    fused: dict[str, float] = {}
    for weight, hits in ((s.dense_weight, dense), (s.lexical_weight, lexical)):
        for rank, (cid, _) in enumerate(hits):
            fused[cid] = fused.get(cid, 0.0) + weight / (s.rrf_k + rank + 1)
    article_of = {cid: cid.rsplit(":", 1)[0] for cid in fused}
    if s.retriever == "hybrid" and article_of:
        _add_article_ranks(stores, query, vector, fused, article_of)
    if recent and article_of:  # "this week", "the latest": the newer coverage of the topic first
        _prefer_recent(stores, fused, article_of, RECENCY / (s.rrf_k + 1), dense)
    boosted = set(boost_articles)
    if boosted:
        bonus = boost / (s.rrf_k + 1)
        for cid in fused:
            if cid.rsplit(":", 1)[0] in boosted:
                fused[cid] += bonus
    order = sorted(fused, key=lambda c: -fused[c])[: max(n, 1) * 2]
    dense_of, lex_of = dict(dense), dict(lexical)
    passages: list[Passage] = []
    for row, meta in stores.passage_rows(order):
        cid = row.id
        passages.append(to_passage(row, meta, fused[cid], dense_of.get(cid), lex_of.get(cid)))
        if len(passages) >= n:
            break
    return Retrieved(passages, vector, dense[0][1] if dense else None)


def _ranked_passages(
    stores: Stores, query: str, vector: np.ndarray | None, allowed: list[str] | None
) -> tuple[np.ndarray | None, list[tuple[str, float]], list[tuple[str, float]]]:
    """The query's vector and the passages each retriever ranks first (within ``allowed``)."""
    s = stores.settings.answer
    allowed_set = None if allowed is None else set(allowed)
    dense: list[tuple[str, float]] = []
    if s.retriever in ("hybrid", "dense"):
        if vector is None:
            vector = stores.embed([query])[0]
        if allowed is not None and len(allowed) > DENSE_IN_LIMIT:
            wanted = set(allowed)
            hits = stores.vectors.query(vector, s.candidates * 5)
            dense = [(i, d) for i, d in hits if i.rsplit(":", 1)[0] in wanted][: s.candidates]
        else:
            dense = stores.vectors.query(vector, s.candidates, allowed)
    lexical: list[tuple[str, float]] = []
    if s.retriever in ("hybrid", "bm25"):  # BM25 loaded by the caller (Library.ensure_lexical)
        lexical = stores.lexical.search(query, s.candidates, allowed_set)
    return vector, dense, lexical


def _add_article_ranks(
    stores: Stores, query: str, vector: np.ndarray | None,
    fused: dict[str, float], article_of: dict[str, str],
) -> None:  # fmt: skip
    """A news question is mostly about what a whole article covers, and one short paragraph
    seldom holds all its words: each candidate passage also earns its article's ranks (by its
    title and lede's similarity, and by BM25 over the whole article)."""
    s = stores.settings.answer
    lede_sims, by_text = stores.article_rankings(query, vector, sorted(set(article_of.values())))
    by_lede = sorted(lede_sims, key=lambda a: -lede_sims[a])
    for weight, ranked in ((s.article_dense_weight, by_lede), (s.article_lexical_weight, by_text)):
        rank_of = {aid: r for r, aid in enumerate(ranked)}
        for cid, aid in article_of.items():
            if aid in rank_of:
                fused[cid] += weight / (s.rrf_k + rank_of[aid] + 1)
