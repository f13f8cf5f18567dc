"""The library: the corpus and its indexes, kept in agreement.

``add`` cleans and stores articles (refusing duplicates), ``remove`` deletes them, ``sync`` brings
the catalog, the vector index and the BM25 index in line with ``corpus/`` — incrementally: only
articles whose file changed are re-embedded. Writers take a lock (one writer at a time across
processes); every step is ordered so that a crash at any point leaves state that the next
``sync`` repairs: corpus file first (atomic), then vectors, then the catalog row that says the
vectors are there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant import cleaning, duplicates
from assistant.catalog import ArticleRow, Catalog
from assistant.chunking import chunk_article, lede_text, sentence_spans
from assistant.corpus import Corpus, check_id, content_hash, slug
from assistant.errors import (
    AssistantError,
    DuplicateError,
    IndexStateError,
    InputError,
    NotFoundError,
    StoreUnavailable,
)
from assistant.index import VectorIndex
from assistant.lexical import LexicalIndex
from assistant.settings import CLEANING_VERSION, Settings
from assistant.sources import Failure, RawDoc, looks_like_html
from assistant.types import Article, Chunk, Filters

EMBED_GROUP = 1024  # passages embedded and stored per step of a sync


@dataclass(frozen=True)
class AddResult:
    """What happened to one source given to ``add``."""

    origin: str
    status: str  # "added", "duplicate" or "error"
    id: str | None = None
    message: str = ""

    def line(self) -> str:
        """The line the CLI prints: ``ID added`` / ``SOURCE duplicate of OTHER`` / ``SOURCE error: ...``.

        One line whatever the message holds, the source named once (messages that start with
        it, as the readers' do, lose that start).
        """
        if self.status == "added":
            return f"{self.id} added"
        message = " ".join(self.message.removeprefix(f"{self.origin}: ").split())
        if self.status == "duplicate":
            return f"{self.origin} {message}"
        return f"{self.origin} error: {message}"


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed."""

    indexed: int = 0
    removed: int = 0
    passages: int = 0
    problems: tuple[str, ...] = ()
    rebuilt_lexical: bool = False


ProgressFactory = Callable[
    [int, str], Any
]  # (total, description) -> object with update(n), close()


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class Library:
    """The corpus directory plus the derived catalog, vector index and BM25 index."""

    def __init__(self, settings: Settings, progress: ProgressFactory | None = None) -> None:
        self.settings = settings
        self.corpus = Corpus(settings.corpus_dir)
        self.progress = progress or (lambda total, desc: _NoProgress())
        self._catalog: Catalog | None = None
        self._embedder: Any = None
        self.vectors = VectorIndex(settings, self.embed)
        fingerprint = settings.index_fingerprint()
        self.lexical = LexicalIndex(settings.index_dir / f"bm25-{fingerprint}")
        self.article_lexical = LexicalIndex(settings.index_dir / f"bm25-articles-{fingerprint}")
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self._lock_file: Any = None
        self._vector_generation: int | None = None  # the catalog state the open vectors reflect
        self._reopen_lock = threading.Lock()

    # -- parts, opened on first use ------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            path = self.settings.index_dir / "catalog.sqlite"
            try:
                self._catalog = Catalog(path)
            except sqlite3.DatabaseError as e:
                raise IndexStateError(
                    f"The catalog {path} is damaged ({e}). Run: assistant index --rebuild"
                ) from None
        return self._catalog

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from assistant.embedding import load_embedder

            e = self.settings.embedding
            # One export serves every library: a fresh index dir must not re-export (and import
            # torch, ~10 s) when ASSISTANT_MODEL_CACHE points at an existing cache.
            self._embedder = load_embedder(
                e.runtime,
                e.cache_dir or self.settings.index_dir / "models",
                threads=e.threads,
                batch_size=e.batch_size,
            )
        return self._embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time: across threads of this process and across processes."""
        with self._thread_lock:
            if self._lock_depth == 0:
                self.settings.index_dir.mkdir(parents=True, exist_ok=True)
                self._lock_file = open(self.settings.index_dir / "write.lock", "w")  # noqa: SIM115
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                    self._lock_file.close()

    # -- manifest ------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        s = self.settings
        return {
            "fingerprint": s.index_fingerprint(),
            "embedding_model": s.embedding.model,
            "embedding_runtime": s.embedding.runtime,
            "chunking": {"max_words": s.chunks.max_words, "max_tokens": s.chunks.max_tokens,
                         "lexical_window": s.chunks.lexical_window},
            "cleaning_version": CLEANING_VERSION,
            "vector_store": s.chroma_url or "embedded",
        }  # fmt: skip

    def check_manifest(self) -> None:
        """IndexStateError when the index was built with other settings than the current ones."""
        stored = self.catalog.get_meta("manifest")
        if stored is None:
            return
        old = json.loads(stored)
        new = self.manifest()
        diffs = [
            f"{k}: {old.get(k)} -> {new[k]}"
            for k in new
            if k != "vector_store" and old.get(k) != new[k] and k != "fingerprint"
        ]
        if old.get("vector_store") != new["vector_store"]:
            diffs.append(f"vector store: {old.get('vector_store')} -> {new['vector_store']}")
        if diffs:
            raise IndexStateError(
                f"The index in {self.settings.index_dir}/ was built with other settings ("
                + "; ".join(diffs)
                + "). Run: assistant index --rebuild"
            )

    def _write_manifest(self) -> None:
        m = self.manifest()
        self.catalog.set_meta("manifest", json.dumps(m, sort_keys=True))
        m["passages"] = self.catalog.count_chunks()
        m["articles"] = len(self.corpus.scan())
        m["updated"] = _now()
        path = self.settings.index_dir / "manifest.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(m, indent=2) + "\n")
        tmp.replace(path)

    # -- adding --------------------------------------------------------------------------------
    def add(
        self,
        items: Iterable[RawDoc | Failure],
        flags: dict[str, str | None] | None = None,
        force: bool = False,
        on_result: Callable[[AddResult], None] | None = None,
    ) -> list[AddResult]:
        """Clean, check and store each article, then bring the index up to date."""
        given = {k: cleaning.safe_text(v) for k, v in (flags or {}).items() if v}
        if given.get("published"):
            given["published"] = cleaning_date(given["published"])
        results: list[AddResult] = []
        with self.write_lock():
            self.check_manifest()
            self.vectors.count()  # an unreachable Chroma server fails here, before any write
            self.refresh_catalog()
            signatures = list(self.catalog.signatures())
            for item in items:
                result = self._add_one(item, given, force, signatures)
                results.append(result)
                if on_result:
                    on_result(result)
            if any(r.status == "added" for r in results):
                try:
                    self.sync()
                except StoreUnavailable as e:
                    raise StoreUnavailable(
                        f"{e} The articles reported as added are saved in "
                        f"{self.settings.corpus_dir}/; `assistant index` indexes them once the "
                        "server is back."
                    ) from e
        return results

    def _add_one(
        self,
        item: RawDoc | Failure,
        flags: dict[str, str],
        force: bool,
        signatures: list[tuple[str, bytes]],
    ) -> AddResult:
        if isinstance(item, Failure):
            safe = cleaning.safe_text
            return AddResult(safe(item.origin), "error", message=safe(item.message))
        item = replace(item, origin=cleaning.safe_text(item.origin))
        try:
            article = self.make_article(item, flags)
            sig = duplicates.signature(article.body)
            self._check_duplicate(article, sig, signatures, force or item.id_given)
            article = replace(article, id=self._choose_id(item, article))
            path = self.corpus.write(article)
            self._catalog_row(article.id, path, article, sig)
            signatures.append((article.id, sig))
            return AddResult(item.origin, "added", article.id)
        except DuplicateError as e:
            return AddResult(item.origin, "duplicate", e.existing_id, str(e))
        except AssistantError as e:
            return AddResult(item.origin, "error", message=str(e))
        except (ValueError, TypeError, LookupError) as e:  # a cleaner's bug must not stop the rest
            return AddResult(item.origin, "error", message=f"cannot be cleaned ({e!r}).")

    def make_article(self, raw: RawDoc, flags: dict[str, str]) -> Article:
        """A cleaned Article (id still provisional) from a raw document."""
        # a JSONL record is cleaned like a file: as HTML when it is HTML, else as text
        kind = raw.kind
        if kind == "record":
            kind = "html" if looks_like_html(raw.text) else "text"
        cleaned = {
            "text": cleaning.clean_text,
            "markdown": cleaning.clean_markdown,
            "html": lambda t: cleaning.clean_html(t, url=raw.meta.get("url")),
        }[kind](cleaning.safe_text(raw.text, keep_lines=True))
        body = cleaned.body
        found = {k: getattr(cleaned, k) for k in ("title", "author", "outlet", "published", "url")}
        found = {k: v for k, v in found.items() if v}
        if raw.kind == "record":  # the record's own fields are trusted over flags and heuristics
            meta = {**found, **flags, **raw.meta}
            if meta.get("published"):
                meta["published"] = cleaning_date(meta["published"])
        else:
            # Declared metadata (front matter, HTML meta) beats flags; flags beat text heuristics.
            meta = (
                {**raw.meta, **found, **flags}
                if raw.kind == "text"
                else {**raw.meta, **flags, **found}
            )
        meta = {k: cleaning.safe_text(v) if isinstance(v, str) else v for k, v in meta.items()}
        if not body.strip():
            raise InputError(f"{raw.origin}: no article text left after cleaning.")
        return Article(
            id=raw.id or "pending",
            body=body,
            title=meta.get("title"),
            author=meta.get("author"),
            outlet=meta.get("outlet"),
            published=meta.get("published"),
            url=meta.get("url"),
            added=_now(),
            content_hash=content_hash(body),
            source=Path(raw.origin).name if "://" not in raw.origin else raw.origin,
        )

    def _check_duplicate(
        self, article: Article, sig: bytes, signatures: list[tuple[str, bytes]], exact_only: bool
    ) -> None:
        assert article.content_hash
        same = self.catalog.by_content_hash(article.content_hash)
        if same:
            raise DuplicateError(f"duplicate of {same}", same)
        if exact_only:
            return
        threshold = self.settings.ingest.near_duplicate_jaccard
        for other in duplicates.candidates(sig, signatures, threshold)[:5]:
            try:
                other_body = self.corpus.read(other).body
            except AssistantError:
                continue
            similarity = duplicates.jaccard(article.body, other_body)
            if similarity >= threshold:
                raise DuplicateError(
                    f"duplicate of {other} (near-duplicate, {similarity:.0%} the same; "
                    "add with --force to keep both)",
                    other,
                )

    def _choose_id(self, raw: RawDoc, article: Article) -> str:
        assert article.content_hash
        if raw.id_given and raw.id is not None:
            given = check_id(raw.id)
            if self.corpus.exists(given):
                raise InputError(
                    f"id {given!r} is already used by another article; give this one another id."
                )
            return given
        base = _safe_stem(raw.id) if raw.id else None
        if base is None:
            base = slug(article.title or " ".join(article.body.split()[:8]))
            return f"{base}-{article.content_hash[:8]}"
        if self.corpus.exists(base):
            return f"{base}-{article.content_hash[:8]}"
        return base

    # -- removing ------------------------------------------------------------------------------
    def remove(self, article_ids: Sequence[str]) -> None:
        """Delete articles from the corpus and every index (NotFoundError for an unknown id)."""
        with self.write_lock():
            for aid in article_ids:  # NotFoundError before anything is deleted
                if not self.corpus.present(aid):
                    raise NotFoundError(
                        f"No article {aid!r} in {self.corpus.root}/. See: assistant list"
                    )
            for aid in article_ids:
                self.corpus.remove(aid)
            self.sync()

    # -- bringing the indexes in line ----------------------------------------------------------
    def refresh_catalog(self) -> tuple[list[str], list[str]]:
        """Update the catalog from the corpus files; returns (changed ids, removed ids)."""
        files = self.corpus.scan()
        known = {r.id: r for r in self.catalog.articles()}
        changed = []
        broken: dict[str, tuple[int, int, str]] = {}
        for aid, st in files.items():
            row = known.get(aid)
            if row and row.mtime_ns == st.st_mtime_ns and row.size == st.st_size:
                continue
            try:
                article = self.corpus.read(aid)
            except AssistantError as e:
                # recorded and reported (``problems``); a last good version stays indexed
                broken[aid] = (st.st_mtime_ns, st.st_size, str(e))
                continue
            self._catalog_row(
                aid, self.corpus.path_for(aid), article, duplicates.signature(article.body)
            )
            changed.append(aid)
        removed = [aid for aid in known if aid not in files]
        self.catalog.set_problems(broken)
        return changed, removed

    def problems(self) -> list[str]:
        """The corpus files that cannot be read, each with what is wrong, the fix, and whether
        its last good version is still answerable (as of the last refresh)."""
        out = []
        for aid, (_, _, message) in sorted(self.catalog.problems().items()):
            kept = self.catalog.article(aid) is not None
            out.append(
                f"{message} ({'its last good version is still answerable' if kept else 'not in the index until fixed'})"
            )
        return out

    def _catalog_row(self, aid: str, path: Path, article: Article, sig: bytes) -> None:
        data = path.read_bytes()
        st = path.stat()
        self.catalog.upsert_article(
            ArticleRow(
                id=aid, mtime_ns=st.st_mtime_ns, size=st.st_size,
                file_sha=hashlib.sha256(data).hexdigest(), content_hash=content_hash(article.body),
                signature=sig, title=article.title, author=article.author, outlet=article.outlet,
                published=article.published, url=article.url, added=article.added,
            )
        )  # fmt: skip

    def needs_sync(self) -> bool:
        """True when the corpus has changed since the index was last brought in line."""
        files = self.corpus.scan()
        known = self.catalog.file_states()
        broken = self.catalog.problems()
        if known.keys() - files.keys() or broken.keys() - files.keys():
            return True
        for aid, st in files.items():
            if aid in broken and broken[aid][:2] == (st.st_mtime_ns, st.st_size):
                continue  # unreadable, reported, and not touched since
            if aid not in known:
                return True
            mtime_ns, size, indexed = known[aid]
            if mtime_ns != st.st_mtime_ns or size != st.st_size or not indexed:
                return True
        return not self._load_lexical(self.catalog.generation())

    def sync(self, rebuild: bool = False) -> SyncReport:
        """Bring catalog, vectors and BM25 in line with the corpus; re-embed only what changed."""
        with self.write_lock():
            if rebuild:
                self._reset()
            else:
                self.check_manifest()
            self._fresh_vectors()
            self.corpus.clean_temp_files()
            lexical_current = not rebuild and self._load_lexical(self.catalog.generation())
            _, removed = self.refresh_catalog()
            for aid in removed:
                self.vectors.delete(self.catalog.chunk_ids_of(aid))
                self.catalog.forget_article(aid)
            problems: list[str] = self.problems()
            pending = [r for r in self.catalog.articles() if r.indexed_sha != r.file_sha]
            passages = self._index_articles(pending, problems)
            repaired, restored = self._reconcile_vectors(problems)
            pending += repaired
            passages += restored
            rebuilt = False
            generation = self.catalog.generation()
            changed = set(removed) | {r.id for r in pending}
            if changed:  # a few articles: their passages alone, when BM25 was current before
                current = lexical_current and self._update_lexical(changed, generation)
            else:
                current = self._load_lexical(generation)
            if not current:
                self._build_lexical(generation)
                rebuilt = True
            self._write_manifest()
            self._vector_generation = self.catalog.generation()
            return SyncReport(len(pending), len(removed), passages, tuple(problems), rebuilt)

    def _lexical_indexes(self) -> list[tuple[LexicalIndex, Any]]:
        """Each BM25 index with the catalog method giving its texts: passages, whole articles."""
        return [
            (self.lexical, self.catalog.lexical_texts),
            (self.article_lexical, self.catalog.article_texts),
        ]

    def _load_lexical(self, generation: int) -> bool:
        """True when every BM25 index of this catalog generation is loaded."""
        return all([index.load(generation) for index, _ in self._lexical_indexes()])

    def _build_lexical(self, generation: int) -> None:
        for index, texts_of in self._lexical_indexes():
            ids, arts, texts = texts_of()
            index.build(ids, arts, texts, generation)

    def _update_lexical(self, changed: set[str], generation: int) -> bool:
        """Replace the BM25 entries of the changed articles only (False: build afresh)."""
        ok = True
        for index, texts_of in self._lexical_indexes():
            ids, arts, texts = texts_of(sorted(changed))
            ok = index.update(changed, list(zip(ids, arts, texts, strict=True)), generation) and ok
        return ok

    def _follow_rebuild(self) -> None:
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
                    self._vector_generation = None

    def _fresh_vectors(self) -> None:
        """Reopen the embedded vector store when another process changed the index since."""
        with self._reopen_lock:  # readers run in parallel (the web app): reopen once, not twice
            generation = self.catalog.generation()
            if self._vector_generation is not None and generation != self._vector_generation:
                self.vectors.reopen()
            self._vector_generation = generation

    def _reconcile_vectors(self, problems: list[str]) -> tuple[list[ArticleRow], int]:
        """Make the stored vectors match the catalog: drop strays, re-embed what the store lost.

        Strays are left by a crash between storing an article's vectors and recording them;
        losses by a deleted or replaced store. Counting is cheap, so the ids are compared only
        when the counts differ.
        """
        if self.vectors.count() == self.catalog.count_chunks():
            return [], 0
        ids, article_ids, _ = self.catalog.lexical_texts()
        have = set(self.vectors.ids())
        want = set(ids)
        if stray := sorted(have - want):
            self.vectors.delete(stray)
        lost = {aid for cid, aid in zip(ids, article_ids, strict=True) if cid not in have}
        rows = [r for r in self.catalog.articles() if r.id in lost]
        return rows, self._index_articles(rows, problems)

    def check_vectors(self) -> None:
        """IndexStateError when the vector store is empty but the catalog lists passages."""
        expected = self.catalog.count_chunks()
        if expected and self.vectors.count() == 0:
            raise IndexStateError(
                f"The vector index in {self.vectors.where} is empty or missing, but the catalog "
                f"lists {expected:,} passages (deleted or damaged?). Run: assistant index --rebuild"
            )

    def _reset(self) -> None:
        """Forget every derived thing (the corpus stays)."""
        self.vectors.drop()
        self.close()
        for name in ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"):
            (self.settings.index_dir / name).unlink(missing_ok=True)
        self.catalog.set_meta("manifest", json.dumps(self.manifest(), sort_keys=True))

    def _index_articles(self, rows: list[ArticleRow], problems: list[str]) -> int:
        bar = self.progress(len(rows), "indexing") if rows else _NoProgress()
        total = 0
        group: list[tuple[ArticleRow, list[Chunk]]] = []
        size = 0
        try:
            for row in rows:
                try:
                    article = self.corpus.read(row.id)
                except AssistantError as e:
                    if str(e) not in "\n".join(problems):
                        problems.append(str(e))
                    continue
                chunks = chunk_article(article, self.settings.chunks, self.embedder.count_tokens)
                group.append((row, chunks))
                size += len(chunks)
                if size >= EMBED_GROUP:
                    total += self._store(group)
                    bar.update(len(group))
                    group, size = [], 0
            if group:
                total += self._store(group)
                bar.update(len(group))
        finally:
            bar.close()
        return total

    def _store(self, group: list[tuple[ArticleRow, list[Chunk]]]) -> int:
        chunks = [c for _, cs in group for c in cs]
        old = [
            cid for row, _ in group if row.indexed_sha for cid in self.catalog.chunk_ids_of(row.id)
        ]
        new_ids = {c.id for c in chunks}
        stale = [cid for cid in old if cid not in new_ids]
        if stale:
            self.vectors.delete(stale)
        sentence_vectors: dict[str, np.ndarray] = {}
        article_vectors: dict[str, np.ndarray] = {}
        if chunks:
            # one forward pass gives the passage vectors and, pooled per sentence, the sentence
            # vectors that answering compares with the question (not embedded again per question)
            vectors, parts = self.embedder.embed_passages(
                [c.dense_text for c in chunks], [sentence_spans_in(c) for c in chunks]
            )
            sentence_vectors = {c.id: v for c, v in zip(chunks, parts, strict=True)}
            with_text = [(row, cs) for row, cs in group if cs]
            ledes = self.embedder.embed([lede_text(row.title, cs) for row, cs in with_text])
            article_vectors = {row.id: v for (row, _), v in zip(with_text, ledes, strict=True)}
            self.vectors.upsert(
                [c.id for c in chunks],
                vectors,
                [{"article_id": c.article_id, "paragraph": c.paragraph} for c in chunks],
            )
        self.catalog.record_indexed(
            ((row.id, row.file_sha, cs) for row, cs in group), sentence_vectors, article_vectors
        )
        return len(chunks)

    # -- reading -------------------------------------------------------------------------------
    def allowed_articles(self, filters: Filters) -> list[str] | None:
        """Ids of the articles the filters admit (None: no filter)."""
        if not filters.active():
            return None
        out = []
        for r in self.catalog.articles():
            if filters.outlet and (r.outlet or "").casefold() != filters.outlet.casefold():
                continue
            if filters.author and filters.author.casefold() not in (r.author or "").casefold():
                continue
            if filters.since and not (r.published and r.published >= filters.since):
                continue
            if filters.until and not (r.published and r.published <= filters.until):
                continue
            out.append(r.id)
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

    def ensure_lexical(self) -> None:
        """Load the BM25 index of the current catalog generation (rebuild it if missing).

        Also the moment a reader picks up what other processes changed: the embedded vector
        store is reopened when the catalog moved on, and checked once per catalog state.
        """
        self._follow_rebuild()
        generation = self.catalog.generation()
        if generation != self._vector_generation:
            self._fresh_vectors()
            self.check_vectors()
        if not self._load_lexical(generation):
            with self.write_lock():
                self._build_lexical(self.catalog.generation())


def sentence_spans_in(chunk: Chunk) -> list[tuple[int, int]]:
    """The sentences of a passage as character spans of the text that is embedded (the title
    comes first there), in the order ``sentence_spans(chunk.text)`` gives them."""
    shift = len(chunk.dense_text) - len(chunk.text)
    return [(a + shift, b + shift) for a, b in sentence_spans(chunk.text)]


def _safe_stem(stem: str) -> str | None:
    import re

    s = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:100]
    try:
        return check_id(s) if s else None
    except InputError:
        return None


def cleaning_date(value: str) -> str:
    """``YYYY-MM-DD`` from a date given by the user, or InputError naming the expected form."""
    try:
        return datetime.fromisoformat(str(value).strip()[:10]).date().isoformat()
    except ValueError:
        raise InputError(f"Invalid date {value!r}: use YYYY-MM-DD, e.g. 2025-04-24.") from None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
