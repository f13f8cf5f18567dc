"""The vector index: passages' embeddings in Chroma (the only module that imports chromadb).

Embedded by default (``PersistentClient`` under ``indexes/chroma``); with ``chroma_url`` set it
talks to a Chroma server (``chroma run``) instead. The collection is named after the settings
fingerprint, so vectors built with another model or chunking are never queried by mistake.
We always hand Chroma our own embeddings: its default embedding function would download a model.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import (
    AssistantError,
    IndexStateError,
    InputError,
    StoreUnavailable,
    disk_problem,
)
from assistant.index.embedding import DIM
from assistant.settings import Settings

MAX_BATCH = 5000  # Chroma refuses batches over 5,461 records
# How widely HNSW searches (Chroma's default is 100). At 100 the same question could get a
# different 40 nearest passages in another process: on the 58k passages of the real-news library
# one process in three missed a passage closer than the 40th it returned, and a news answer
# changed with it. At 400 eight processes out of eight agreed, on the exact neighbours, and a
# query at 500k passages took 3.0-3.4 ms either way (docs/quality.md).
EF_SEARCH = 400


# Embedded Chroma writes its HNSW graph to disk only every SYNC_THRESHOLD new vectors; a process
# that opens the store adds the vectors written since to its own copy of the graph, on several
# threads, so the copy differs a little from process to process and so can the nearest
# passages of a question (docs/quality.md, "Same question, same answer"). After a sync that
# wrote at least SETTLE_AFTER vectors the graph is written whole (``VectorIndex.settle``).
SYNC_THRESHOLD = 1000  # Chroma's default
SETTLE_AFTER = 100


def _embedding_function(embed: Callable[[Sequence[str]], np.ndarray]) -> Any:
    """A Chroma embedding function that calls our embedder (so Chroma never loads its own)."""
    from chromadb.api.types import Documents, EmbeddingFunction

    class AssistantEmbedding(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Any:
            return [row for row in embed(list(input))]

        @staticmethod
        def name() -> str:
            return "commentary-assistant"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Any:
            raise NotImplementedError("Open the collection through the assistant package.")

    return AssistantEmbedding()


@contextlib.contextmanager
def _store_errors(where: str) -> Iterator[None]:
    """Turn connection failures into StoreUnavailable with the fix in the message."""
    try:
        yield
    except (StoreUnavailable, IndexStateError):
        raise
    except Exception as e:
        name = type(e).__name__
        text = str(e)
        if any(s in (name + text) for s in ("Connect", "connect", "Timeout", "refused", "HTTP")):
            raise StoreUnavailable(
                f"Cannot reach the Chroma server at {where} ({name}). Start it with "
                f"`chroma run --path DIR --host 127.0.0.1 --port PORT`, or unset ASSISTANT_CHROMA_URL "
                "to use the embedded index."
            ) from e
        raise


class VectorIndex:
    """Passage vectors in one Chroma collection."""

    def __init__(self, settings: Settings, embed: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.settings = settings
        # one collection per settings fingerprint, and per library when several share a server
        prefix = f"{settings.chroma_collection}-" if settings.chroma_collection else ""
        self.name = f"{prefix}passages-{settings.index_fingerprint()}"
        if not (
            3 <= len(self.name) <= 512 and re.fullmatch(r"[A-Za-z0-9][\w.-]*[A-Za-z0-9]", self.name)
        ):
            raise InputError(
                f"ASSISTANT_CHROMA_COLLECTION={settings.chroma_collection!r} cannot name a Chroma "
                "collection: use letters, digits, '.', '_' and '-', e.g. team-news."
            )
        self._embed = embed
        self._client: Any = None
        self._collection: Any = None
        self.where = settings.chroma_url or str(settings.index_dir / "chroma")

    def _connect(self) -> Any:
        if self._collection is not None:
            return self._collection
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        with _store_errors(self.where):
            if self.settings.chroma_url:
                url = urlparse(self.settings.chroma_url)
                if url.scheme not in ("http", "https") or not url.hostname:
                    raise InputError(
                        f"Invalid Chroma URL {self.settings.chroma_url!r}: "
                        "use http://HOST:PORT, e.g. http://127.0.0.1:8000"
                    )
                self._client = chromadb.HttpClient(
                    host=url.hostname,
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
            else:
                path = self.settings.index_dir / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                try:
                    self._client = chromadb.PersistentClient(
                        path=str(path), settings=chroma_settings
                    )
                except Exception as e:
                    raise self._damaged(e) from e
            try:
                self._collection = self._client.get_or_create_collection(
                    self.name,
                    embedding_function=_embedding_function(self._embed),
                    metadata={"hnsw:space": "cosine"},
                )
            except Exception as e:
                if self.settings.chroma_url:
                    raise
                raise self._damaged(e) from e
            _search_widely(self._collection)
        return self._collection

    def _damaged(self, e: Exception) -> AssistantError:
        if problem := disk_problem(e, self.settings.library_dir, self.settings.index_dir):
            return problem  # a full or read-only disk is no damage: rebuilding would not help
        return IndexStateError(
            f"The vector index in {self.where} cannot be opened ({type(e).__name__}: "
            f"{str(e)[:200]}); it is damaged. Run: assistant index --rebuild"
        )

    def reconnect(self) -> None:
        """Forget the connection (the next call opens a new one)."""
        self._client = None
        self._collection = None

    def reopen(self) -> None:
        """Forget the connection and, when embedded, Chroma's in-process copy of the store.

        An embedded Chroma keeps a collection's vectors in memory once per process (shared by
        every client of that path) and never sees what another process wrote since: a query
        would miss the other process's articles. Dropping the cached System makes the next
        connection read the files again. (Clients still holding the old one keep working.)
        """
        if not self.settings.chroma_url:
            from chromadb.api.shared_system_client import SharedSystemClient

            key = (
                self._client._identifier
                if self._client is not None
                else str(self.settings.index_dir / "chroma")
            )
            SharedSystemClient._identifier_to_system.pop(key, None)
            SharedSystemClient._identifier_to_refcount.pop(key, None)
        self.reconnect()

    def _call(self, method: str, **kwargs: Any) -> Any:
        """Call a collection method; after a lost server connection, retry once on a new one."""
        try:
            with _store_errors(self.where):
                return getattr(self._connect(), method)(**kwargs)
        except StoreUnavailable:
            if not self.settings.chroma_url:
                raise
            self.reconnect()
            with _store_errors(self.where):
                return getattr(self._connect(), method)(**kwargs)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        for i in range(0, len(ids), MAX_BATCH):
            self._call(
                "upsert",
                ids=list(ids[i : i + MAX_BATCH]),
                embeddings=vectors[i : i + MAX_BATCH],
                metadatas=list(metadatas[i : i + MAX_BATCH]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), MAX_BATCH):
            self._call("delete", ids=list(ids[i : i + MAX_BATCH]))

    def query(
        self, vector: np.ndarray, n: int, article_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest passages, best first."""
        if n <= 0:
            return []
        where = None
        if article_ids is not None:
            if not article_ids:
                return []
            where = (
                {"article_id": article_ids[0]}
                if len(article_ids) == 1
                else {"article_id": {"$in": list(article_ids)}}
            )
        # Chroma 1.5 returns fewer hits when n exceeds the stored count (and none when empty),
        # so no count() first: that was a second round trip on every query (~15% of retrieval).
        res = self._call(
            "query",
            query_embeddings=[vector],
            n_results=n,
            where=where,
            include=["distances"],
        )
        return [
            (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def count(self) -> int:
        return int(self._call("count"))

    def load(self) -> None:
        """Have embedded Chroma read its HNSW graph now, letting other threads run meanwhile.

        The first call on a store reads the whole graph (1.0-1.4 s at 100k articles). ``count``
        holds Python's GIL all that time; ``query`` lets it go (a thread beside it ran 1.2 s of
        Python in a 1.0 s query, 15 ms beside a count). Reading it by a query lets the model,
        BM25 and the web app's import of Gradio go on meanwhile."""
        self.query(np.full(DIM, DIM**-0.5, dtype=np.float32), 1)

    def settle(self) -> None:
        """Have embedded Chroma write its HNSW graph with every vector in it, so that no process
        opening the store later builds part of the graph itself (see ``SETTLE_AFTER``).

        Chroma writes the graph when opening a store finds at least ``sync_threshold`` vectors
        not yet in it: the store is opened once with the threshold at 1. That costs one load and
        one write of the graph (at 100k articles ~1.3 s and ~1.5 s). A server keeps its graph in
        memory: nothing to do there.
        """
        if self.settings.chroma_url:
            return
        self._call("modify", configuration={"hnsw": {"sync_threshold": 1}})
        try:
            self.reopen()
            self.load()  # opening it adds the newest vectors to the graph and writes it
        finally:
            self._call("modify", configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})
            self.reopen()  # the next opening keeps Chroma's usual threshold

    def ids(self) -> list[str]:
        """Every stored passage id (for consistency checks)."""
        out: list[str] = []
        offset = 0
        while True:
            res = self._call("get", include=[], limit=MAX_BATCH, offset=offset)
            out.extend(res["ids"])
            if len(res["ids"]) < MAX_BATCH:
                return out
            offset += MAX_BATCH

    def drop(self) -> None:
        """Delete the whole collection (for a rebuild); a damaged embedded store is deleted whole."""
        if not self.settings.chroma_url:
            import shutil

            # the embedded store holds only derived vectors: removing its files is always safe,
            # and it is the one thing that works when they are damaged
            self.reopen()
            shutil.rmtree(self.settings.index_dir / "chroma", ignore_errors=True)
            return
        self._connect()
        with _store_errors(self.where), contextlib.suppress(Exception):
            self._client.delete_collection(self.name)
        self.reconnect()


def _search_widely(collection: Any) -> None:
    """Set the collection's HNSW search width to ``EF_SEARCH`` if it is not (new stores, and once
    for stores made before it). Chroma keeps it with the collection. A store that cannot be
    written to (a read-only disk, a server that refuses) keeps searching as it did."""
    config = getattr(collection, "configuration", None) or {}
    hnsw = config.get("hnsw") or {}
    if hnsw.get("ef_search") == EF_SEARCH:
        return
    with contextlib.suppress(Exception):
        collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})
