"""Lexical retrieval: BM25 (bm25s) over stemmed words, persisted under ``indexes/``.

The BM25 matrix is built from the catalog's passage texts (seconds even at 100k articles) and
saved with the catalog generation it reflects, so every process loads the current one. When a
few articles change it is updated, not rebuilt: their old passages are masked and their new
ones scored from a small delta (``update``) until the delta passes ``DELTA_LIMIT`` passages or
the next full build.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.text import terms


def _bm25s() -> Any:
    """The bm25s module, quietened (it sets its own logger to DEBUG on import)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class SavedScores:
    """A saved bm25s index, read and searched without importing bm25s (and SciPy with it:
    0.13 s of a cold ``assistant ask``). bm25s's "lucene" BM25 saves each term's precomputed
    scores as a column of a CSC matrix; a query's score is the sum of its terms' columns,
    as bm25s computes it (``BM25.get_scores``). Building still uses bm25s.

    The vocabulary is read from our own sorted copy (``terms.npy``, ``columns.npy``),
    memory-mapped like the matrix: bm25s's JSON vocabulary as a dict cost 14 MB per index at
    100k articles and 27 ms to parse."""

    FILES = ("params.index.json", "terms.npy", "columns.npy", "data.csc.index.npy",
             "indices.csc.index.npy", "indptr.csc.index.npy")  # fmt: skip

    def __init__(self, root: Path) -> None:
        params = json.loads((root / self.FILES[0]).read_text())
        if params.get("method") != "lucene":  # others add a non-occurrence term: not read here
            raise ValueError(f"BM25 method {params.get('method')!r}")
        self.terms, self.columns, data, indices, indptr = (
            np.load(root / f, mmap_mode="r", allow_pickle=False) for f in self.FILES[1:]
        )
        if self.terms.dtype.kind != "S" or len(self.terms) != len(self.columns):
            raise ValueError("BM25 vocabulary")
        self.scores = {"data": data, "indices": indices, "indptr": indptr,
                       "num_docs": int(params["num_docs"])}  # fmt: skip
        self.dtype = np.dtype(params.get("dtype", "float32"))

    @staticmethod
    def save_vocabulary(root: Path, vocab: dict[str, int]) -> None:
        """Write bm25s's vocabulary (term -> column) sorted by term, for ``column``."""
        pairs = sorted((t.encode(), c) for t, c in vocab.items())
        np.save(root / "terms.npy", _fixed([t for t, _ in pairs]))
        np.save(root / "columns.npy", np.array([c for _, c in pairs], dtype=np.int64))

    def column(self, term: str) -> int | None:
        """The matrix column of ``term`` (None: not in the vocabulary)."""
        key = term.encode()
        if len(key) > self.terms.dtype.itemsize or not len(self.terms):
            return None  # longer than every stored term (a cast would cut it to a false match)
        i = int(np.searchsorted(self.terms, key))
        return int(self.columns[i]) if i < len(self.terms) and self.terms[i] == key else None

    def get_scores(self, query: list[str], weight_mask: np.ndarray | None = None) -> np.ndarray:
        """The BM25 score of every passage for the query's terms (unknown terms add nothing)."""
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        scores = np.zeros(self.scores["num_docs"], dtype=self.dtype)
        for t in (c for c in map(self.column, query) if c is not None):
            start, end = int(indptr[t]), int(indptr[t + 1])
            scores[indices[start:end]] += data[start:end]  # a column's rows are distinct
        if weight_mask is not None:
            scores *= weight_mask
        return scores


def _fixed(keys: Sequence[bytes]) -> np.ndarray:
    """UTF-8 keys as one fixed-width bytes array (memory-mapped on load, sorted by bytes)."""
    return np.array(keys, dtype=f"S{max(1, max(map(len, keys), default=1))}")


# BM25 parameters: bm25s's defaults (its "lucene" variant), repeated for the delta's scores.
K1, B = 1.5, 0.75
DELTA_LIMIT = 2000  # passages changed since the last full build before the next one is due
FORMAT = 2  # passages.json's layout: 2 keeps the ids in memory-mapped .npy files


def _idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


class _Rows:
    """The passage id of each row of the BM25 matrix, and the rows of each article, mapped.

    Kept as a fixed-width UTF-8 array (``ids.npy``) and the rows sorted by their article
    (``order.npy``, with the article ids in that order: ``sorted_articles.npy``) for finding an
    article's rows by binary search. As JSON lists read into Python strings the ids and article
    ids held 62 MB of the web app's memory at 100k articles; mapped, only the pages a question
    touches are read.
    """

    FILES = ("ids.npy", "order.npy", "sorted_articles.npy")

    def __init__(self, ids: np.ndarray, order: np.ndarray, sorted_articles: np.ndarray) -> None:
        self.ids, self.order, self.sorted = ids, order, sorted_articles

    @classmethod
    def empty(cls) -> _Rows:
        nothing = np.zeros(0, dtype="S1")
        return cls(nothing, np.zeros(0, dtype=np.int64), nothing)

    @classmethod
    def save(cls, root: Path, ids: Sequence[str], article_ids: Sequence[str]) -> None:
        articles = _fixed([a.encode() for a in article_ids])
        order = np.argsort(articles, kind="stable")
        arrays = (_fixed([i.encode() for i in ids]), order, articles[order])
        for name, array in zip(cls.FILES, arrays, strict=True):
            np.save(root / name, array)

    @classmethod
    def load(cls, root: Path) -> _Rows:
        ids, order, sorted_ = (
            np.load(root / name, mmap_mode="r", allow_pickle=False) for name in cls.FILES
        )
        return cls(ids, order, sorted_)

    def __len__(self) -> int:
        return len(self.ids)

    def consistent(self) -> bool:
        kinds = (self.ids.dtype.kind, self.sorted.dtype.kind, self.order.dtype.kind)
        return kinds == ("S", "S", "i") and len(self.order) == len(self.sorted) == len(self.ids)

    def id(self, row: int) -> str:
        return bytes(self.ids[row]).decode()

    def of_articles(self, wanted: set[str]) -> np.ndarray:
        """The rows of the articles ``wanted``.

        Every question restricts the whole-article index to its candidate articles: testing
        each of 100,000 rows for membership cost ~11 ms per question at 100k articles, so each
        candidate's rows are found by binary search in the rows sorted by article.
        """
        width = self.sorted.dtype.itemsize
        keys = [k for k in (a.encode() for a in wanted) if len(k) <= width]  # longer: absent
        if not keys or not len(self.sorted):
            return np.zeros(0, dtype=np.int64)
        query = np.array(keys, dtype=self.sorted.dtype)
        lo = np.searchsorted(self.sorted, query, "left")
        counts = np.searchsorted(self.sorted, query, "right") - lo
        # lo[k], lo[k] + 1, ... for each k, counts[k] of them: the sorted positions to take
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        return np.asarray(self.order[starts + np.arange(int(counts.sum()))])


class LexicalIndex:
    """BM25 over the passages' lexical texts, kept up to date without rebuilding each time.

    A full build indexes every passage with bm25s. Afterwards a change to a few articles only
    marks their old passages dead and keeps their new ones in a small *delta* that is scored
    here with the same formula and the full build's statistics (document count, document
    frequencies, average length), and merged with bm25s's results. When the delta grows past
    ``DELTA_LIMIT`` passages, or a fifth of the built passages are dead, ``update`` declines and
    the caller builds afresh. Adding one article to a library of 100k articles thus costs
    milliseconds instead of a full re-index (82 s measured).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._model: Any = None
        self._rows = _Rows.empty()
        self._generation = -1
        self._built_generation = -1
        self._avgdl = 1.0
        self._dead = np.zeros(0, dtype=bool)
        self._delta: list[tuple[str, str, dict[str, int], int]] = []  # id, article, tf, length

    @property
    def generation(self) -> int:
        """The catalog generation the loaded index reflects (-1: none loaded)."""
        return self._generation

    def build(
        self, ids: Sequence[str], article_ids: Sequence[str], texts: Sequence[str], generation: int
    ) -> None:
        """Index these passages and save the result atomically."""
        model = _bm25s().BM25(k1=K1, b=B)
        corpus = [terms(t) for t in texts]
        searchable = any(corpus)  # bm25s cannot index a vocabulary of nothing ("?!", "— …")
        if searchable:
            model.index(corpus, show_progress=False)
        avgdl = max(1.0, sum(map(len, corpus)) / max(1, len(corpus)))
        tmp = self.root.with_name(self.root.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if searchable:
            model.save(str(tmp), show_progress=False)
            SavedScores.save_vocabulary(tmp, model.vocab_dict)
        _Rows.save(tmp, ids, article_ids)
        meta = {"generation": generation, "passages": len(ids), "searchable": searchable,
                "avgdl": avgdl, "format": FORMAT,
                "ids": [], "articles": []}  # fmt: skip  # versions before 2 rebuild, not crash
        (tmp / "passages.json").write_text(json.dumps(meta))
        old = self.root.with_name(self.root.name + f".old{os.getpid()}")
        if self.root.exists():
            os.replace(self.root, old)
        os.replace(tmp, self.root)  # a delta.json of the old build goes with it
        shutil.rmtree(old, ignore_errors=True)
        model = SavedScores(self.root) if searchable else None  # what every process reads
        with self._lock:
            self._set(model, meta, _Rows.load(self.root), None)

    def update(
        self,
        changed_articles: set[str],
        rows: Sequence[tuple[str, str, str]],
        generation: int,
    ) -> bool:
        """Replace the passages of ``changed_articles`` by ``rows`` (id, article, text) and save.

        False, changing nothing, when there is no loaded build to update or the changes are
        too many: then build afresh.
        """
        with self._lock:
            if self._generation < 0 or self._model is None:
                return False
            dead = self._dead.copy()
            dead[self._rows.of_articles(changed_articles)] = True
            delta = [d for d in self._delta if d[1] not in changed_articles]
            for pid, aid, text in rows:
                toks = terms(text)
                tf: dict[str, int] = {}
                for t in toks:
                    tf[t] = tf.get(t, 0) + 1
                delta.append((pid, aid, tf, len(toks)))
            if len(delta) > DELTA_LIMIT or dead.sum() > len(self._rows) / 5:
                return False
            state = {
                "built_generation": self._built_generation,
                "generation": generation,
                "dead": np.flatnonzero(dead).tolist(),
                "delta": [[pid, aid, tf, n] for pid, aid, tf, n in delta],
            }
            tmp = self.root / f"delta.json.tmp{os.getpid()}"
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.root / "delta.json")
            self._dead, self._delta, self._generation = dead, delta, generation
            return True

    def forget(self) -> None:
        """Drop the loaded index: the next ``load`` reads the files again."""
        with self._lock:
            self._generation = -1

    def _set(
        self, model: Any, meta: dict[str, Any], rows: _Rows, state: dict[str, Any] | None
    ) -> None:
        self._model = model
        self._rows = rows
        self._built_generation = int(meta["generation"])
        self._avgdl = float(meta.get("avgdl") or 1.0)
        self._dead = np.zeros(len(rows), dtype=bool)
        self._delta = []
        self._generation = self._built_generation
        if state is not None:
            self._dead[state["dead"]] = True
            self._delta = [(pid, aid, dict(tf), int(n)) for pid, aid, tf, n in state["delta"]]
            self._generation = int(state["generation"])

    def load(self, generation: int) -> bool:
        """Load the saved index if it reflects ``generation``; False when it must be rebuilt."""
        with self._lock:
            if self._generation == generation:
                return True
            try:
                meta = json.loads((self.root / "passages.json").read_text())
            except (OSError, ValueError):
                return False
            state = None
            with contextlib.suppress(OSError, ValueError):
                state = json.loads((self.root / "delta.json").read_text())
            if state is not None and state.get("built_generation") != meta.get("generation"):
                state = None  # left from an older build
            current = state["generation"] if state is not None else meta.get("generation")
            if current != generation or meta.get("format") != FORMAT:
                return False  # an older layout (ids as JSON lists) is rebuilt, not converted
            model = None
            try:  # memory-mapped: at 100k articles 0.03 s and 50 MB instead of 0.9 s, 300 MB
                rows = _Rows.load(self.root)
                if meta.get("searchable"):
                    model = SavedScores(self.root)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return False
            if not _consistent(model, meta, rows, state):
                return False  # rebuilt from the catalog by the caller, never searched
            self._set(model, meta, rows, state)
            return True

    def search(
        self, query: str, n: int, allowed_articles: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """(passage id, BM25 score) of the ``n`` best passages with a score above zero."""
        with self._lock:
            model, rows, dead, delta = self._model, self._rows, self._dead, self._delta
        q = terms(query)
        if model is None or not q:
            return []
        mask = None
        if allowed_articles is not None:
            mask = np.zeros(len(rows), dtype=np.float32)
            mask[rows.of_articles(allowed_articles)] = 1.0
        if dead.any():
            mask = (mask if mask is not None else np.ones(len(rows), dtype=np.float32)) * ~dead
        scores = model.get_scores(q, weight_mask=mask)
        n_main = min(n, len(scores))
        top = np.argpartition(-scores, n_main - 1)[:n_main]
        hits = [(rows.id(i), float(scores[i])) for i in top if scores[i] > 0]
        if delta:
            hits += self._delta_scores(q, model, delta, allowed_articles)
        hits.sort(key=lambda h: -h[1])
        return hits[:n]

    def _delta_scores(
        self,
        q: list[str],
        model: Any,
        delta: list[tuple[str, str, dict[str, int], int]],
        allowed: set[str] | None,
    ) -> list[tuple[str, float]]:
        """BM25 of the delta's passages, with the full build's statistics."""
        n_docs = int(model.scores["num_docs"]) + len(delta)
        indptr = model.scores["indptr"]
        weights = {}
        for t in set(q):
            df = _df(model, indptr, t) + sum(1 for d in delta if t in d[2])
            weights[t] = _idf(n_docs, df)
        out = []
        for pid, aid, tf, length in delta:
            if allowed is not None and aid not in allowed:
                continue
            norm = K1 * (1 - B + B * length / self._avgdl)
            score = sum(weights[t] * tf[t] / (tf[t] + norm) for t in q if t in tf)
            if score > 0:
                out.append((pid, score))
        return out

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
        return {t: _idf(n, _df(model, indptr, t)) for t in query_terms}


def _consistent(model: Any, meta: Any, rows: _Rows, state: Any) -> bool:
    """True when the saved files agree with each other: as many passages in the BM25 matrix as
    ids and articles listed, the removed ones among them, the added ones well formed. A hand-
    edited or half-copied file used to crash every question while `assistant index` said all
    was well."""
    try:
        n = len(rows)
        if meta["passages"] != n or not rows.consistent():
            return False
        if model is not None and int(model.scores["num_docs"]) != n:
            return False
        if state is not None:
            if not all(isinstance(i, int) and 0 <= i < n for i in state["dead"]):
                return False
            for pid, aid, tf, length in state["delta"]:
                ok = isinstance(pid, str) and isinstance(aid, str) and isinstance(length, int)
                if not ok or not isinstance(tf, dict):
                    return False
    except (KeyError, TypeError, ValueError):
        return False
    return True


def _df(model: Any, indptr: Any, term: str) -> int:
    col = model.column(term)
    return 0 if col is None else int(indptr[col + 1] - indptr[col])
