"""The catalog: a SQLite file under ``indexes/`` that mirrors the corpus and tracks the index.

It knows every article file (metadata, content hash, near-duplicate signature, the file hash the
index was built from) and every indexed passage (text, provenance, and the vectors of its
sentences, which answering compares with the question). Each article's own vector (its title and
lede, see ``chunking.lede_text``) is kept with the sentence vectors under ``<article id>:article``. It is derived data:
``assistant index --rebuild`` recreates it from ``corpus/``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.types import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, file_sha TEXT, content_hash TEXT,
    signature BLOB, title TEXT, author TEXT, outlet TEXT, published TEXT, url TEXT, added TEXT,
    indexed_sha TEXT, n_passages INTEGER DEFAULT 0
);
CREATE INDEX IF NOT EXISTS articles_hash ON articles(content_hash);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, article_id TEXT, position INTEGER, paragraph INTEGER,
    start INTEGER, "end" INTEGER, heading TEXT, text TEXT, lexical_text TEXT
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS sentence_vectors (
    chunk_id TEXT PRIMARY KEY, article_id TEXT, vectors BLOB
);
CREATE INDEX IF NOT EXISTS sentence_vectors_article ON sentence_vectors(article_id);
"""


def article_key(article_id: str) -> str:
    """Where an article's own vector is kept among the sentence vectors."""
    return f"{article_id}:article"


def pack(vectors: np.ndarray) -> bytes:
    """Unit vectors as bytes: one float32 scale per row, then the rows in int8 (a quarter of
    float32; the cosine to the original stays above 0.999)."""
    scale = np.abs(vectors).max(axis=1).astype(np.float32) / 127
    scale[scale == 0] = 1
    return scale.tobytes() + np.round(vectors / scale[:, None]).astype(np.int8).tobytes()


def unpack(blob: bytes, dim: int) -> np.ndarray:
    """The float32 rows ``pack`` stored."""
    n = len(blob) // (4 + dim)
    scale = np.frombuffer(blob, dtype=np.float32, count=n)
    rows = np.frombuffer(blob, dtype=np.int8, offset=4 * n).reshape(n, dim)
    return rows.astype(np.float32) * scale[:, None]


@dataclass(frozen=True)
class ArticleRow:
    """What the catalog knows of one article file."""

    id: str
    mtime_ns: int
    size: int
    file_sha: str
    content_hash: str
    signature: bytes
    title: str | None
    author: str | None
    outlet: str | None
    published: str | None
    url: str | None
    added: str | None
    indexed_sha: str | None = None
    n_passages: int = 0


@dataclass(frozen=True)
class ChunkRow:
    """An indexed passage as stored."""

    id: str
    article_id: str
    position: int
    paragraph: int
    start: int
    end: int
    heading: str | None
    text: str


class Catalog:
    """Access to the catalog database (safe to share between threads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
        self.inode = path.stat().st_ino  # a rebuild by another process replaces the file
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def problems(self) -> dict[str, tuple[int, int, str]]:
        """Corpus files the last refresh could not read, by id: (mtime_ns, size, what is wrong)."""
        raw = self.get_meta("problems")
        return {k: (v[0], v[1], v[2]) for k, v in json.loads(raw).items()} if raw else {}

    def set_problems(self, problems: Mapping[str, tuple[int, int, str]]) -> None:
        if dict(problems) != self.problems():
            self.set_meta("problems", json.dumps(problems, sort_keys=True))

    def generation(self) -> int:
        """A number that changes whenever the set of indexed passages changes."""
        return int(self.get_meta("generation") or 0)

    # -- articles -------------------------------------------------------------------------------
    def articles(self) -> list[ArticleRow]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_ARTICLE_COLS} FROM articles ORDER BY id").fetchall()
        return [ArticleRow(*r) for r in rows]

    def file_states(self) -> dict[str, tuple[int, int, bool]]:
        """Per article: (mtime_ns, size, indexed from its current file?) — what a "has the
        corpus changed?" check needs, without reading every row's metadata and signature."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, mtime_ns, size, indexed_sha IS file_sha FROM articles"
            ).fetchall()
        return {r[0]: (r[1], r[2], bool(r[3])) for r in rows}

    def bylines(self) -> list[tuple[str, str | None, str | None, str | None]]:
        """(id, outlet, author, published) of every article, by id: what filters look at."""
        with self._lock:
            return self._db.execute(
                "SELECT id, outlet, author, published FROM articles ORDER BY id"
            ).fetchall()

    def unindexed(self) -> list[str]:
        """Ids of the articles whose current file is not what their passages came from."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM articles WHERE indexed_sha IS NOT file_sha ORDER BY id"
            ).fetchall()
        return [r[0] for r in rows]

    def article(self, article_id: str) -> ArticleRow | None:
        with self._lock:
            r = self._db.execute(
                f"SELECT {_ARTICLE_COLS} FROM articles WHERE id=?", (article_id,)
            ).fetchone()
        return None if r is None else ArticleRow(*r)

    def by_content_hash(self, digest: str) -> str | None:
        with self._lock:
            r = self._db.execute(
                "SELECT id FROM articles WHERE content_hash=? LIMIT 1", (digest,)
            ).fetchone()
        return None if r is None else r[0]

    def signatures(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return self._db.execute("SELECT id, signature FROM articles").fetchall()

    def upsert_article(self, row: ArticleRow) -> None:
        """Record an article file's state (keeps what the index has of it)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO articles (id, mtime_ns, size, file_sha, content_hash, signature, title,"
                " author, outlet, published, url, added) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET mtime_ns=excluded.mtime_ns, size=excluded.size,"
                " file_sha=excluded.file_sha, content_hash=excluded.content_hash,"
                " signature=excluded.signature, title=excluded.title, author=excluded.author,"
                " outlet=excluded.outlet, published=excluded.published, url=excluded.url,"
                " added=excluded.added",
                (
                    row.id, row.mtime_ns, row.size, row.file_sha, row.content_hash,
                    row.signature, row.title, row.author, row.outlet, row.published, row.url,
                    row.added,
                ),
            )  # fmt: skip

    def forget_article(self, article_id: str) -> None:
        """Drop an article and its passages (the vector store is cleaned by the caller first)."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
            self._db.execute("DELETE FROM sentence_vectors WHERE article_id=?", (article_id,))
            self._db.execute("DELETE FROM articles WHERE id=?", (article_id,))
            self._bump()
            self._db.execute("COMMIT")

    # -- passages -------------------------------------------------------------------------------
    def record_indexed(
        self,
        items: Iterable[tuple[str, str, Sequence[Chunk]]],
        sentence_vectors: Mapping[str, np.ndarray] | None = None,
        article_vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """In one transaction: for each (article id, file hash, chunks), store its passages
        and, when given, each passage's sentence vectors and the article's vector (stored as
        int8, see ``pack``)."""
        vectors = dict(sentence_vectors or {})
        for aid, v in (article_vectors or {}).items():
            vectors[article_key(aid)] = v.reshape(1, -1)
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for article_id, file_sha, chunks in items:
                    self._db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
                    self._db.execute(
                        "DELETE FROM sentence_vectors WHERE article_id=?", (article_id,)
                    )
                    self._db.executemany(
                        "INSERT INTO sentence_vectors VALUES (?,?,?)",
                        [
                            (key, article_id, pack(vectors[key]))
                            for key in [c.id for c in chunks] + [article_key(article_id)]
                            if key in vectors
                        ],
                    )
                    self._db.executemany(
                        "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)",
                        [
                            (c.id, c.article_id, c.position, c.paragraph, c.start, c.end,
                             c.heading, c.text, None)
                            for c in chunks
                        ],
                    )  # fmt: skip
                    self._db.execute(
                        "UPDATE articles SET indexed_sha=?, n_passages=? WHERE id=?",
                        (file_sha, len(chunks), article_id),
                    )
                self._bump()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def chunk_ids_of(self, article_id: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM chunks WHERE article_id=?", (article_id,)
            ).fetchall()
        return [r[0] for r in rows]

    def chunks(self, ids: Sequence[str]) -> dict[str, ChunkRow]:
        """The stored passages with these ids (missing ids are left out)."""
        out: dict[str, ChunkRow] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = list(ids[i : i + 500])
                marks = ",".join("?" * len(part))
                for r in self._db.execute(
                    f'SELECT id, article_id, position, paragraph, start, "end", heading, text'
                    f" FROM chunks WHERE id IN ({marks})",
                    part,
                ):
                    out[r[0]] = ChunkRow(*r)
        return out

    def sentence_vectors(self, ids: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """The stored sentence vectors (float32, one row per sentence) of these passages."""
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = list(ids[i : i + 500])
                marks = ",".join("?" * len(part))
                for cid, blob in self._db.execute(
                    f"SELECT chunk_id, vectors FROM sentence_vectors WHERE chunk_id IN ({marks})",
                    part,
                ):
                    out[cid] = unpack(blob, dim)
        return out

    def lexical_texts(
        self, article_ids: Sequence[str] | None = None, window: int = 1
    ) -> tuple[list[str], list[str], list[str]]:
        """(chunk ids, article ids, what BM25 reads of each passage) of every passage (or of
        these articles'), in a stable order.

        Made here from the passages' own texts (``chunking.lexical_view``), not stored: a
        passage's neighbourhood stored per passage repeated the text two or three times over.
        """
        from assistant.index.chunking import lexical_view

        ids, arts, texts, heads = self._passage_texts(article_ids)
        rows = (
            self.articles()
            if article_ids is None
            else [r for a in set(arts) if (r := self.article(a)) is not None]
        )  # a few changed articles (a BM25 update) read their own rows only
        context = {r.id: " · ".join(x for x in (r.title, r.author, r.outlet) if x) for r in rows}
        out: list[str] = []
        start = 0
        for end in range(1, len(ids) + 1):
            if end == len(ids) or arts[end] != arts[start]:  # one article's passages, in order
                mine = texts[start:end]
                out += [
                    lexical_view(context.get(arts[start], ""), heads[i], mine, i - start, window)
                    for i in range(start, end)
                ]
                start = end
        return ids, arts, out

    def _passage_texts(
        self, article_ids: Sequence[str] | None = None
    ) -> tuple[list[str], list[str], list[str], list[str | None]]:
        query = "SELECT id, article_id, text, heading FROM chunks"
        order = "ORDER BY article_id, position"
        with self._lock:
            if article_ids is None:
                rows = self._db.execute(f"{query} {order}").fetchall()
            else:
                rows = []
                for i in range(0, len(article_ids), 500):
                    part = list(article_ids[i : i + 500])
                    marks = ",".join("?" * len(part))
                    rows += self._db.execute(
                        f"{query} WHERE article_id IN ({marks}) {order}", part
                    ).fetchall()
        return (
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
        )

    def article_vectors(self, article_ids: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """The stored vector (title + lede) of each of these articles that has one."""
        rows = self.sentence_vectors([article_key(a) for a in article_ids], dim)
        return {key.rsplit(":", 1)[0]: v[0] for key, v in rows.items()}

    def article_texts(
        self, article_ids: Sequence[str] | None = None
    ) -> tuple[list[str], list[str], list[str]]:
        """(article ids, article ids, whole texts with title, author and outlet) for article-level
        BM25, in the shape ``lexical_texts`` has for passages."""
        ids, _, texts, _ = self._passage_texts(article_ids)
        by_article: dict[str, list[str]] = {}
        for cid, text in zip(ids, texts, strict=True):
            by_article.setdefault(cid.rsplit(":", 1)[0], []).append(text)
        rows = (
            self.articles()
            if article_ids is None  # a few changed articles: their rows alone (100k at 100k)
            else [r for a in by_article if (r := self.article(a)) is not None]
        )
        heads = {r.id: " · ".join(x for x in (r.title, r.author, r.outlet) if x) for r in rows}
        out = sorted(by_article)
        return out, out, [f"{heads.get(a, '')}\n" + "\n".join(by_article[a]) for a in out]

    def reclaim(self) -> None:
        """Give the space of deleted rows back to the disk once a quarter of the file is free
        (SQLite keeps freed pages for reuse: removing a large article left the file at its
        largest size), and empty the write-ahead log."""
        with self._lock:
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            total = self._db.execute("PRAGMA page_count").fetchone()[0]
            if free and free * 4 >= total:
                self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def count_articles(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def count_chunks(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE"
            " SET value = CAST(value AS INTEGER) + 1"
        )


_ARTICLE_COLS = (
    "id, mtime_ns, size, file_sha, content_hash, signature, title, author, outlet, published,"
    " url, added, indexed_sha, n_passages"
)
