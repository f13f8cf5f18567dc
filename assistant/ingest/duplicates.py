"""Near-duplicate detection: MinHash signatures of word shingles.

Two articles whose 5-word shingle sets have Jaccard similarity >= 0.8 (a syndicated copy with a
new headline or a trimmed ending) are near-duplicates. A 64-number MinHash signature estimates
that similarity; candidates above the threshold are confirmed on the real shingle sets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from assistant.text import normalise

SHINGLE = 5
PERMUTATIONS = 64
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20261125)
_A = _rng.integers(1, (1 << 61) - 1, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, PERMUTATIONS, dtype=np.uint64)


def shingles(text: str) -> set[int]:
    """Hashes of the normalised text's overlapping 5-word runs."""
    words = normalise(text).split()
    runs = (" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1)))
    return {
        int.from_bytes(hashlib.blake2b(r.encode(), digest_size=7).digest(), "big") for r in runs
    }


def signature(text: str) -> bytes:
    """The MinHash signature of the text (64 × uint64, as bytes for storage)."""
    sh = np.fromiter(shingles(text), dtype=np.uint64)
    if sh.size == 0:
        return np.zeros(PERMUTATIONS, dtype=np.uint64).tobytes()
    # (a*x + b) mod p on uint64 wraps around; that is still a fine hash family for MinHash.
    hashed = (np.outer(sh, _A) + _B) % _PRIME
    return hashed.min(axis=0).astype(np.uint64).tobytes()


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / max(1, len(sa | sb))


def candidates(sig: bytes, others: Iterable[tuple[str, bytes]], threshold: float) -> list[str]:
    """Ids whose signature estimates a Jaccard similarity near or above ``threshold``, best first."""
    items = list(others)
    if not items:
        return []
    mine = np.frombuffer(sig, dtype=np.uint64)
    matrix = np.frombuffer(b"".join(s for _, s in items), dtype=np.uint64).reshape(len(items), -1)
    estimate = (matrix == mine).mean(axis=1)
    order = np.argsort(-estimate)
    return [items[i][0] for i in order if estimate[i] >= threshold - 0.15]
