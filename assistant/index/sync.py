"""Keeping the index in line: ``Library``, the corpus and its indexes kept in agreement.

``add`` stores articles (made and checked for duplicates by ``ingest/articles.py``), ``remove`` deletes them, ``sync`` brings
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
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import (
    AssistantError,
    DuplicateError,
    IndexStateError,
    NotFoundError,
    StoreUnavailable,
)
from assistant.index.catalog import ArticleRow, Catalog
from assistant.index.chunking import chunk_article, lede_text
from assistant.index.lexical import LexicalIndex
from assistant.index.stores import Stores
from assistant.index.vectors import SETTLE_AFTER, VectorIndex
from assistant.ingest import cleaning, duplicates
from assistant.ingest.articles import AddResult, check_duplicate, choose_id, make_article, now
from assistant.ingest.corpus import Corpus, content_hash
from assistant.ingest.sources import Failure, RawDoc
from assistant.settings import ARTICLE_SIGNALS, CLEANING_VERSION, Settings
from assistant.text import iso_date, sentence_spans
from assistant.types import Article, Chunk

EMBED_GROUP = 1024  # passages embedded and stored per step of a sync
STAGING = ".rebuild"  # under indexes/: where `index --rebuild` builds before swapping in
READY = "READY"  # in STAGING once the new index is complete


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed."""

    indexed: int = 0
    removed: int = 0
    passages: int = 0
    problems: tuple[str, ...] = ()
    rebuilt_lexical: bool = False
    notes: tuple[str, ...] = ()  # worth knowing, not wrong: a front-matter id that is not used


ProgressFactory = Callable[
    [int, str], Any
]  # (total, description) -> object with update(n), close()


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class Library:
    """The corpus directory plus the derived catalog, vector index and BM25 index.

    The writer; what readers read (``stores``, a ``Stores``) is opened and followed by
    ``index/stores.py``.
    """

    def __init__(self, settings: Settings, progress: ProgressFactory | None = None) -> None:
        self.settings = settings
        self.corpus = Corpus(settings.corpus_dir)
        self.progress = progress or (lambda total, desc: _NoProgress())
        self.stores = Stores(settings)
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self._lock_file: Any = None
        self.watcher: Any = None  # a running ``index/watch.py`` Watcher keeps the index in line
        self.wrote = False  # this process took the write lock (it may have changed the index)

    # -- the read side's parts, shared ---------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        return self.stores.catalog

    @property
    def vectors(self) -> VectorIndex:
        return self.stores.vectors

    @property
    def lexical(self) -> LexicalIndex:
        return self.stores.lexical

    @property
    def embedder(self) -> Any:
        return self.stores.embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.stores.embed(texts)

    def close(self) -> None:
        self.stores.close()

    # -- one writer at a time ------------------------------------------------------------------
    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time: across threads of this process and across processes."""
        with self._thread_lock:
            if self._lock_depth == 0:
                self.settings.index_dir.mkdir(parents=True, exist_ok=True)
                self._lock_file = open(self.settings.index_dir / "write.lock", "w")  # noqa: SIM115
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
                self.wrote = True
            self._lock_depth += 1
            self.stores.writer = threading.get_ident()
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    self.stores.writer = None
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                    self._lock_file.close()

    def writer_busy(self) -> bool:
        """True when another thread or process holds the write lock right now."""
        if not self._thread_lock.acquire(blocking=False):
            return True
        try:
            if self._lock_depth:
                return False  # this thread is the writer
            path = self.settings.index_dir / "write.lock"
            if not path.exists():
                return False
            with open(path, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return True
                fcntl.flock(f, fcntl.LOCK_UN)
            return False
        finally:
            self._thread_lock.release()

    # -- manifest ------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        s = self.settings
        return {
            "fingerprint": s.index_fingerprint(),
            "embedding_model": s.embedding.model,
            "embedding_runtime": s.embedding.runtime,
            "chunking": asdict(s.chunks),  # every field: a new one must not pass unseen
            "cleaning_version": CLEANING_VERSION,
            "article_signals": ARTICLE_SIGNALS,
            "vector_store": s.chroma_url or "embedded",
        }  # fmt: skip

    def check_manifest(self) -> None:
        """IndexStateError when the index was built with other settings than the current ones."""
        stored = self.catalog.get_meta("manifest")
        if stored is None:
            return
        old, new = json.loads(stored), self.manifest()
        diffs = _changes(old, new)
        if old.get("vector_store") != new["vector_store"]:
            diffs.append(f"vector store: {old.get('vector_store')} -> {new['vector_store']}")
        if diffs:
            raise IndexStateError(
                f"The index in {self.settings.index_dir}/ was built with other settings ("
                + "; ".join(diffs)
                + "). Run: assistant index --rebuild"
            )

    def changed_settings(self) -> list[str]:
        """What shapes the index (model, chunking, cleaning, article signals) and differs from
        what it was built with, one entry per field (``chunking.join_words: None -> 60``)."""
        stored = self.catalog.get_meta("manifest")
        return [] if stored is None else _changes(json.loads(stored), self.manifest())

    def _write_manifest(self) -> None:
        m = self.manifest()
        self.catalog.set_meta("manifest", json.dumps(m, sort_keys=True))
        m["passages"] = self.catalog.count_chunks()
        m["articles"] = self.catalog.count_articles()  # a second scan cost ~0.3 s at 100k
        m["updated"] = now()
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
            given["published"] = iso_date(given["published"])
        results: list[AddResult] = []
        with self.write_lock():
            self.check_manifest()
            self.vectors.count()  # an unreachable Chroma server fails here, before any write
            # in line with the directory as the last sync saw it: only what this call writes
            # needs looking at (a scan of every file took seconds at 100k articles)
            clean = not self.corpus_changed()
            if not clean:
                self.refresh_catalog()
            signatures = list(self.catalog.signatures())
            for item in items:
                result = self._add_one(item, given, force, signatures)
                results.append(result)
                if on_result:
                    on_result(result)
            if added := [r.id for r in results if r.status == "added" and r.id]:
                try:
                    self.sync(only=added if clean else None)
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
            article = make_article(item, flags)
            sig = duplicates.signature(article.body)
            check_duplicate(
                article, sig, signatures, force or item.id_given, self.corpus,
                self.catalog.by_content_hash, self.settings.ingest.near_duplicate_jaccard,
            )  # fmt: skip
            article = replace(article, id=choose_id(item, article, self.corpus))
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

    # -- removing ------------------------------------------------------------------------------
    def remove(self, article_ids: Sequence[str]) -> None:
        """Delete articles from the corpus and every index (NotFoundError for an unknown id)."""
        with self.write_lock():
            for aid in article_ids:  # NotFoundError before anything is deleted
                # an id whose file is gone but which the index still holds (a `remove a b c`
                # interrupted after deleting a) is removed again, not refused
                if not self.corpus.present(aid) and self.catalog.article(aid) is None:
                    raise NotFoundError(
                        f"No article {aid!r} in {self.corpus.root}/. See: assistant list"
                    )
            clean = not self.corpus_changed()  # as in ``add``
            for aid in article_ids:
                if self.corpus.present(aid):
                    self.corpus.remove(aid)
            self.sync(only=list(article_ids) if clean else None)

    # -- bringing the indexes in line ----------------------------------------------------------
    def refresh_catalog(
        self, only: Sequence[str] | None = None
    ) -> tuple[list[str], list[str], list[str]]:
        """Update the catalog from the corpus files (``only``: these articles' files, the rest
        being known to be in line); returns (changed ids, removed ids, notes on the files
        read)."""
        if only is None:
            files = self.corpus.scan()
            known = self.catalog.file_states()  # not whole rows: ~10× less to read at 100k
        else:
            files = {a: st for a in only if (st := self.corpus.stat(a)) is not None}
            rows = [r for a in only if (r := self.catalog.article(a)) is not None]
            known = {r.id: (r.mtime_ns, r.size, r.indexed_sha == r.file_sha) for r in rows}
        changed = []
        notes = []
        broken: dict[str, tuple[int, int, str]] = {}
        for aid, st in files.items():
            state = known.get(aid)
            if state and state[:2] == (st.st_mtime_ns, st.st_size):
                continue
            try:
                article, note = self.corpus.read_noting(aid)
            except AssistantError as e:
                # recorded and reported (``problems``); a last good version stays indexed
                broken[aid] = (st.st_mtime_ns, st.st_size, str(e))
                continue
            if note:
                notes.append(note)
            self._catalog_row(
                aid, self.corpus.path_for(aid), article, duplicates.signature(article.body)
            )
            changed.append(aid)
        removed = [aid for aid in known if aid not in files]
        if only is not None:  # the other files' problems stand
            broken = {a: p for a, p in self.catalog.problems().items() if a not in only} | broken
        self.catalog.set_problems(broken)
        return changed, removed, notes

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
        return not self.stores.load_lexical(self.catalog.generation())

    def corpus_changed(self) -> bool:
        """A cheap "has the corpus changed?": the corpus directory's times against those the
        last sync saw, so no file is looked at. A file added, deleted or saved by renaming (as
        most editors save) changes them; an edit written in place into an existing file does
        not, and is seen by ``sync`` (``assistant index``) or a running Watcher."""
        stored = self.catalog.get_meta("corpus_dir")
        return stored is None or json.loads(stored) != self._corpus_dir_state()

    def _corpus_dir_state(self, settle: bool = False) -> list[int] | None:
        """The corpus directory's (mtime, ctime) in ns, None when it is missing. ``settle``:
        first wait until the clock has left the tick of its last change (file times come from a
        coarse clock: a file created within that same tick after a scan would change nothing)."""
        try:
            st = os.stat(self.corpus.root)
        except OSError:
            return None
        if settle:
            wait = (max(st.st_mtime_ns, st.st_ctime_ns) + 20_000_000 - time.time_ns()) / 1e9
            if wait > 0:
                time.sleep(min(wait, 0.05))
        return [st.st_mtime_ns, st.st_ctime_ns]

    def sync(self, rebuild: bool = False, only: Sequence[str] | None = None) -> SyncReport:
        """Bring catalog, vectors and BM25 in line with the corpus; re-embed only what changed.

        ``only``: the articles ``add`` or ``remove`` just wrote or deleted, when the corpus was
        in line before (``corpus_changed``): their files alone are looked at.
        """
        with self.write_lock():
            self._finish_swap()
            if rebuild and not self.settings.chroma_url:
                return self._rebuild_beside()
            if rebuild:
                self._reset()
            else:
                self.check_manifest()
            seen = self._corpus_dir_state(settle=True)  # before the scan: a later change differs
            self.stores.fresh_vectors()
            if only is None:  # a crash's temp files change the directory: never "only" then
                self.corpus.clean_temp_files()
            lexical_current = not rebuild and self.stores.load_lexical(self.catalog.generation())
            _, removed, notes = self.refresh_catalog(None if rebuild else only)
            deleted = 0
            for aid in removed:
                gone = self.catalog.chunk_ids_of(aid)
                self.vectors.delete(gone)
                deleted += len(gone)
                self.catalog.forget_article(aid)
            if removed:
                self.catalog.reclaim()
            problems: list[str] = self.problems()
            pending = [r for a in self.catalog.unindexed() if (r := self.catalog.article(a))]
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
                current = self.stores.load_lexical(generation)
            if not current:
                self._build_lexical(generation)
                rebuilt = True
            if changed or rebuild:
                self.catalog.set_meta("changed", now())  # "last changed" in the web header
            self._settle_vectors(passages + deleted)
            self._write_manifest()
            self.catalog.set_meta("corpus_dir", json.dumps(seen))
            self.stores.vector_generation = self.catalog.generation()
            return SyncReport(
                len(pending), len(removed), passages, tuple(problems), rebuilt, tuple(notes)
            )

    def _settle_vectors(self, written: int) -> None:
        """Count the vectors written since the graph was last written whole; past
        ``SETTLE_AFTER``, write it (``VectorIndex.settle``: the same nearest passages in every
        process). Fewer leave the newest few to each process's own graph, as Chroma does."""
        stored = self.catalog.get_meta("unsettled_vectors")
        if self.settings.chroma_url or (not written and stored is not None):
            return
        # a store from before this count may hold up to Chroma's 999 vectors outside its graph
        unsettled = (SETTLE_AFTER if stored is None else int(stored)) + written
        if unsettled >= SETTLE_AFTER:
            # a failure (a full disk, say) leaves answers right: the next sync tries again
            with contextlib.suppress(Exception):
                self.vectors.settle()
                unsettled = 0
        self.catalog.set_meta("unsettled_vectors", str(unsettled))

    def unsettled(self) -> int:
        """Vectors written since Chroma's graph was last written whole (0 for a server)."""
        if self.settings.chroma_url:
            return 0
        return int(self.catalog.get_meta("unsettled_vectors") or 0)

    def settle(self) -> None:
        """Write Chroma's graph whole now, whatever the count (a long-running process does it
        when it has been idle a while: ``Watcher``)."""
        with self.write_lock():
            if self.unsettled():
                self.vectors.settle()
                self.catalog.set_meta("unsettled_vectors", "0")
                self.vectors.load()  # the graph read again now (letting questions run meanwhile)

    def _build_lexical(self, generation: int) -> None:
        for index, texts_of in self.stores.lexical_indexes():
            ids, arts, texts = texts_of()
            index.build(ids, arts, texts, generation)

    def _update_lexical(self, changed: set[str], generation: int) -> bool:
        """Replace the BM25 entries of the changed articles only (False: build afresh)."""
        ok = True
        for index, texts_of in self.stores.lexical_indexes():
            ids, arts, texts = texts_of(sorted(changed))
            ok = index.update(changed, list(zip(ids, arts, texts, strict=True)), generation) and ok
        return ok

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

    # -- rebuilding beside the old index ----------------------------------------------------------
    def _rebuild_beside(self) -> SyncReport:
        """Build a whole new index in ``indexes/.rebuild/``, then swap it in.

        A rebuild that fails (a full disk, Ctrl-C, a crash) leaves the old index as it was and
        answering; deleting it first, as rebuilds did, lost it whenever the new one could not
        be written.
        """
        staging = self.settings.index_dir / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        e = self.settings.embedding
        cache = e.cache_dir or self.settings.index_dir / "models"  # the export is not redone
        staged = replace(self.settings, index_dir=staging, embedding=replace(e, cache_dir=cache))
        beside = Library(staged, self.progress)
        try:
            report = beside.sync()
            beside.catalog.reclaim()  # the write-ahead log folded in: the catalog is one file
        except BaseException:
            beside.close()
            beside.vectors.reopen()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        beside.close()
        beside.vectors.reopen()  # Chroma's in-process copy of the staged store is let go
        (staging / READY).touch()
        self._finish_swap()
        return replace(report, rebuilt_lexical=True)

    def _finish_swap(self) -> None:
        """Move a finished rebuild (``.rebuild/`` with its READY mark) into place; drop an
        unfinished one. Safe to repeat after a crash at any point of it."""
        staging = self.settings.index_dir / STAGING
        if not staging.is_dir():
            return
        if not (staging / READY).exists():
            shutil.rmtree(staging, ignore_errors=True)  # a rebuild cut short: the old index stays
            return
        old = self.settings.index_dir / ".replaced"
        old.mkdir(exist_ok=True)
        names = sorted(
            p.name for p in staging.iterdir() if p.name not in (READY, "write.lock", "models")
        )
        # directories first; the catalog last, replaced in one step: readers that see the new
        # catalog file (a new inode, Stores.follow_rebuild) reopen everything and find it all new
        names.sort(key=lambda n: (n.startswith("catalog.sqlite"), n == "manifest.json"))
        for name in names:
            target = self.settings.index_dir / name
            if name == "catalog.sqlite":
                for side in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.replace(self.settings.index_dir / side, old / side)
            elif target.is_dir():
                shutil.rmtree(old / name, ignore_errors=True)
                os.replace(target, old / name)
            os.replace(staging / name, target)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        self.close()
        self.vectors.reopen()
        self.lexical.forget()
        self.stores.article_lexical.forget()
        self.stores.vector_generation = None

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

    def ensure_lexical(self) -> None:
        """Load the BM25 index of the current catalog generation (rebuild it if missing).

        Also the moment a reader picks up what other processes changed (``Stores.refresh``).
        While a writer is at work, a reader that has BM25 loaded answers from it rather than
        wait (the writer brings it in line when it is done).
        """
        if self.stores.refresh():
            return
        if self.stores.lexical_loaded() and self.writer_busy():
            return
        with self.write_lock():
            if not self.stores.load_lexical(self.catalog.generation()):  # not done meanwhile
                self._build_lexical(self.catalog.generation())


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The fields that shape the index and differ between two manifests (the vector store and
    the fingerprint, which hashes the rest, left out)."""
    return [
        _difference(k, old.get(k), new[k])
        for k in new
        if k not in ("vector_store", "fingerprint") and old.get(k) != new[k]
    ]


def _difference(key: str, old: Any, new: Any) -> str:
    """``chunking.join_words: None -> 60`` (each changed field of a group), or ``key: a -> b``."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
        return "; ".join(f"{key}.{k}: {old.get(k)} -> {new.get(k)}" for k in keys)
    return f"{key}: {old} -> {new}"


def sentence_spans_in(chunk: Chunk) -> list[tuple[int, int]]:
    """The sentences of a passage as character spans of the text that is embedded (the title
    comes first there), in the order ``sentence_spans(chunk.text)`` gives them."""
    shift = len(chunk.dense_text) - len(chunk.text)
    return [(a + shift, b + shift) for a, b in sentence_spans(chunk.text)]
