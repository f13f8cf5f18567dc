"""Lexical retrieval: BM25 (bm25s) over stemmed words, persisted under ``indexes/``.

The BM25 matrix is rebuilt from the catalog's passage texts whenever the set of passages
changes (seconds even at 100k articles; the costly part of indexing, embedding, stays
incremental) and saved with the catalog generation it reflects, so every process loads the
current one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

# A stopword list longer than bm25s' built-in 33 words: question words carry no topic.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "did",
        "does",
        "said",
        "says",
        "say",
        "according",
        "whether",
        "mr",
        "mrs",
        "ms",
        "dr",
        "s",
        "t",
    ]
)
_WORD = re.compile(r"\w+", re.UNICODE)


def _bm25s() -> Any:
    """The bm25s module, quietened (it sets its own logger to DEBUG on import)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` that are not stopwords (unstemmed)."""
    return [
        w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


def terms(text: str) -> list[str]:
    """The stemmed index terms of ``text``: ``terms("Russia offered")`` -> ``['russia', 'offer']``."""
    return list(_stemmer().stemWords(words(text)))


class LexicalIndex:
    """BM25 over the passages' lexical texts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._model: Any = None
        self._ids: list[str] = []
        self._articles: np.ndarray = np.array([], dtype=object)
        self._generation = -1

    def build(
        self, ids: Sequence[str], article_ids: Sequence[str], texts: Sequence[str], generation: int
    ) -> None:
        """Index these passages and save the result atomically."""
        model = _bm25s().BM25()
        corpus = [terms(t) for t in texts]
        searchable = any(corpus)  # bm25s cannot index a vocabulary of nothing ("?!", "— …")
        if searchable:
            model.index(corpus, show_progress=False)
        tmp = self.root.with_name(self.root.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if searchable:
            model.save(str(tmp), show_progress=False)
        (tmp / "passages.json").write_text(
            json.dumps(
                {
                    "generation": generation,
                    "ids": list(ids),
                    "articles": list(article_ids),
                    "searchable": searchable,
                }
            )
        )
        old = self.root.with_name(self.root.name + f".old{os.getpid()}")
        if self.root.exists():
            os.replace(self.root, old)
        os.replace(tmp, self.root)
        shutil.rmtree(old, ignore_errors=True)
        with self._lock:
            self._set(model if searchable else None, list(ids), list(article_ids), generation)

    def forget(self) -> None:
        """Drop the loaded index: the next ``load`` reads the files again."""
        with self._lock:
            self._generation = -1

    def _set(self, model: Any, ids: list[str], article_ids: list[str], generation: int) -> None:
        self._model = model
        self._ids = ids
        self._articles = np.array(article_ids, dtype=object)
        self._generation = generation

    def load(self, generation: int) -> bool:
        """Load the saved index if it reflects ``generation``; False when it must be rebuilt."""
        with self._lock:
            if self._generation == generation:
                return True
            meta_path = self.root / "passages.json"
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                return False
            if meta.get("generation") != generation:
                return False
            model = None
            if meta.get("searchable", bool(meta["ids"])):
                try:
                    model = _bm25s().BM25.load(str(self.root), mmap=False, show_progress=False)
                except Exception:
                    return False
            self._set(model, meta["ids"], meta["articles"], generation)
            return True

    def search(
        self, query: str, n: int, allowed_articles: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """(passage id, BM25 score) of the ``n`` best passages with a score above zero."""
        with self._lock:
            model, ids, articles = self._model, self._ids, self._articles
        q = terms(query)
        if model is None or not q:
            return []
        mask = None
        if allowed_articles is not None:
            mask = np.fromiter(
                (a in allowed_articles for a in articles), dtype=np.float32, count=len(articles)
            )
        scores = model.get_scores(q, weight_mask=mask)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def idf(self, query_terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the passages (unknown terms: the highest).

        A word the corpus never uses weighs most: a question about it is probably not covered.
        """
        with self._lock:
            model = self._model
        if model is None:
            return {t: 1.0 for t in query_terms}
        n = model.scores["num_docs"]
        indptr = model.scores["indptr"]
        out = {}
        for t in query_terms:
            col = model.vocab_dict.get(t)
            df = 0 if col is None else int(indptr[col + 1] - indptr[col])
            out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out
