"""The read side of the index: what retrieval and answering read, opened on first use.

``Stores`` holds the catalog, the vector index, the two BM25 indexes and the embedder. Reading
never writes: ``refresh`` follows what other processes changed (a rebuild, a sync) and reports
whether the BM25 indexes of the current catalog state are loaded; building them when they are
not is the writer's job (``Library.ensure_lexical``, under the write lock).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from assistant.errors import IndexStateError, disk_problem
from assistant.index.catalog import ArticleRow, Catalog, ChunkRow
from assistant.index.lexical import LexicalIndex
from assistant.index.vectors import VectorIndex
from assistant.settings import Settings
from assistant.types import Filters, Passage


class Stores:
    """The catalog, vectors, BM25 indexes and embedder of one index directory, for reading."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog: Catalog | None = None
        self._embedder: Any = None
        self.vectors = VectorIndex(settings, self.embed)
        fingerprint = settings.index_fingerprint()
        self.lexical = LexicalIndex(settings.index_dir / f"bm25-{fingerprint}")
        self.article_lexical = LexicalIndex(settings.index_dir / f"bm25-articles-{fingerprint}")
        self.vector_generation: int | None = None  # the catalog state the open vectors reflect
        self._reopen_lock = threading.Lock()
        self.writer: int | None = None  # the thread of this process that holds the write lock
        self._embedder_lock = threading.Lock()  # loaded once, whichever thread asks first

    # -- parts, opened on first use ------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            path = self.settings.index_dir / "catalog.sqlite"
            try:
                self._catalog = Catalog(path)
            except (OSError, sqlite3.Error) as e:
                if problem := disk_problem(e, self.settings.library_dir, path):
                    raise problem from None  # a full or read-only disk is no damage
                if not isinstance(e, sqlite3.DatabaseError):
                    raise
                raise IndexStateError(
                    f"The catalog {path} is damaged ({e}). Run: assistant index --rebuild"
                ) from None
        return self._catalog

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    from assistant.index.embedding import load_embedder

                    e = self.settings.embedding
                    # One export serves every library: a fresh index dir must not re-export (and
                    # import torch, ~10 s) when ASSISTANT_MODEL_CACHE points at an existing cache.
                    self._embedder = load_embedder(
                        e.runtime,
                        e.cache_dir or self.settings.index_dir / "models",
                        threads=e.threads,
                        batch_size=e.batch_size,
                    )
        return self._embedder

    def prefetch(self) -> None:
        """Start loading the embedding model and BM25 on a background thread, for a question
        to come.

        A first question opens the vector store (Chroma reads its whole HNSW graph: seconds
        at 100k articles), then BM25, then embeds the question: loading the other two
        meanwhile makes the first answer wait for the longest part, not their sum. A failure
        here is met again, and reported, when the part is used.
        """
        if self._embedder is not None:
            return
        catalog = self.catalog  # opened here, on the caller's thread: one connection

        def load() -> None:
            with contextlib.suppress(Exception):
                self.embedder.embed(["warm"])  # the first run also allocates the session's buffers
                self.load_lexical(catalog.generation())

        threading.Thread(target=load, name="load-model", daemon=True).start()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    # -- following other processes ---------------------------------------------------------------
    def refresh(self) -> bool:
        """True when the BM25 indexes of the current catalog generation are loaded.

        Also the moment a reader picks up what other processes changed: the embedded vector
        store is reopened when the catalog moved on, and checked once per catalog state.
        """
        self.follow_rebuild()
        generation = self.catalog.generation()
        if generation != self.vector_generation:
            self.fresh_vectors()
            self.check_vectors()
        return self.load_lexical(generation)

    def follow_rebuild(self) -> None:
        """Reopen everything when another process rebuilt the index (a new catalog file).

        A long-running reader (the web app) would otherwise go on reading the deleted catalog,
        and the new catalog's generation numbers may repeat the old ones.
        """
        if self._catalog is None:
            return
        try:
            inode = (self.settings.index_dir / "catalog.sqlite").stat().st_ino
        except FileNotFoundError:
            return  # being rebuilt right now: the old catalog answers until the new one is there
        if inode != self._catalog.inode:
            with self._reopen_lock:
                if self._catalog is not None and inode != self._catalog.inode:
                    self._catalog = None  # not closed: a reader on another thread may use it still
                    self.vectors.reopen()
                    self.lexical.forget()
                    self.article_lexical.forget()
                    self.vector_generation = None

    def fresh_vectors(self) -> None:
        """Reopen the embedded vector store when another process changed the index since."""
        with self._reopen_lock:  # readers run in parallel (the web app): reopen once, not twice
            generation = self.catalog.generation()
            # a writer of this process writes through the store readers use: nothing to reopen
            # (reopening would reload the whole HNSW graph, seconds at 100k, for each sync)
            ours = self.writer is not None and self.writer != threading.get_ident()
            if (
                self.vector_generation is not None
                and generation != self.vector_generation
                and not ours
            ):
                self.vectors.reopen()
            self.vector_generation = generation

    def check_vectors(self) -> None:
        """IndexStateError when the vector store is empty but the catalog lists passages."""
        expected = self.catalog.count_chunks()
        if expected:
            self.vectors.load()  # the graph read without holding up other threads
        if expected and self.vectors.count() == 0:
            raise IndexStateError(
                f"The vector index in {self.vectors.where} is empty or missing, but the catalog "
                f"lists {expected:,} passages (deleted or damaged?). Run: assistant index --rebuild"
            )

    def lexical_indexes(self) -> list[tuple[LexicalIndex, Any]]:
        """Each BM25 index with the catalog method giving its texts: passages, whole articles."""
        window = self.settings.chunks.lexical_window
        return [
            (self.lexical, lambda ids=None: self.catalog.lexical_texts(ids, window)),
            (self.article_lexical, self.catalog.article_texts),
        ]

    def lexical_loaded(self) -> bool:
        """True when every BM25 index has some generation loaded (current or not)."""
        return all(index.generation >= 0 for index, _ in self.lexical_indexes())

    def load_lexical(self, generation: int) -> bool:
        """True when every BM25 index of this catalog generation is loaded."""
        return all([index.load(generation) for index, _ in self.lexical_indexes()])

    # -- reading -------------------------------------------------------------------------------
    def allowed_articles(self, filters: Filters) -> list[str] | None:
        """Ids of the articles the filters admit (None: no filter)."""
        if not filters.active():
            return None
        since = _day(filters.since)
        until = _day(filters.until)
        out = []
        for (
            aid,
            outlet,
            author,
            published,
        ) in self.catalog.bylines():  # not whole rows: per question
            if filters.outlet and (outlet or "").casefold() != filters.outlet.casefold():
                continue
            if filters.author and filters.author.casefold() not in (author or "").casefold():
                continue
            day = _day(published)
            if since and not (day and day >= since):
                continue
            if until and not (day and day <= until):
                continue
            if filters.as_of and published and published[:10] > filters.as_of:
                continue
            out.append(aid)
        return out

    def article_rankings(
        self, query: str, vector: np.ndarray | None, candidates: Sequence[str]
    ) -> tuple[dict[str, float], list[str]]:
        """The candidate articles' title + lede similarity to the question, and the candidates
        ranked by BM25 over their whole text (best first; articles without a match left out)."""
        if not candidates:
            return {}, []
        sims: dict[str, float] = {}
        if vector is not None:
            stored = self.catalog.article_vectors(candidates, len(vector))
            sims = {aid: float(v @ vector) for aid, v in stored.items()}
        wanted = set(candidates)
        lexical = [a for a, _ in self.article_lexical.search(query, len(wanted), wanted)]
        return sims, lexical

    def passage_rows(self, ids: Sequence[str]) -> Iterator[tuple[ChunkRow, ArticleRow]]:
        """Each of ``ids`` the catalog holds, with its article's row, in the order given (lazy:
        a caller that stops early reads no further)."""
        rows = self.catalog.chunks(ids)
        articles: dict[str, ArticleRow | None] = {}
        for cid in ids:
            row = rows.get(cid)
            if row is None:
                continue  # a vector whose article is gone (repaired by the next sync)
            if row.article_id not in articles:
                articles[row.article_id] = self.catalog.article(row.article_id)
            meta = articles[row.article_id]
            if meta is not None:
                yield row, meta


def to_passage(
    row: ChunkRow,
    meta: ArticleRow,
    score: float = 0.0,
    dense: float | None = None,
    lexical: float | None = None,
) -> Passage:
    """A Passage from a catalog chunk row and its article's row."""
    return Passage(
        chunk_id=row.id, article_id=row.article_id, paragraph=row.paragraph, start=row.start,
        end=row.end, text=row.text, heading=row.heading, title=meta.title, author=meta.author,
        outlet=meta.outlet, published=meta.published, url=meta.url, score=score, dense=dense,
        lexical=lexical,
    )  # fmt: skip


def _day(value: str | None) -> dt.date | None:
    """The date ``value`` names (None when empty or not a date): filters compare dates, not
    text, so a catalog row from before dates were checked ("yesterday") never passes one."""
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
