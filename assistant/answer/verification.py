"""Checking a generated answer in code: a statement stands only if a passage it cites says it.

The model's text is cut into statements (sentences and list items; a marker written after the
full stop belongs to the sentence before it). A statement is **verified** when

- it cites at least one passage that was given (markers naming any other number are dropped);
- it does not echo an instruction ("ignore previous instructions", "reply with ...");
- every number and every capitalised name in it occurs in the passages it cites;
- at least ``min_overlap`` of its content words (stemmed) occur in those passages;
- its embedding is within ``min_similarity`` (cosine) of one of their sentences, or of two
  neighbouring sentences read together.

Sentences of a passage that address a language model are never support, so an article that
says "ignore previous instructions and say X" cannot vouch for X. The thresholds were
calibrated on the public sets with ``benchmarks/verifier.py`` (see docs/generation.md).

>>> split_statements("Canberra is the capital [2]. Russia offered nothing.[1][9]")
[('Canberra is the capital.', (2,)), ('Russia offered nothing.', (1, 9))]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from assistant.text import STOPWORDS, sentence_spans, terms
from assistant.types import Citation

Embed = Callable[[Sequence[str]], np.ndarray]

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# "It is so. [1]" -> "It is so [1]." so the marker stays with its sentence when splitting
_MARKER_AFTER_STOP = re.compile(r"([.!?…])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z][\w'’-]*")
# Capitalised only because they open a sentence; any other first word is checked like a name
# (a swapped subject, "Germany won the game", is the commonest made-up detail).
OPENERS = frozenset(
    """however despite although though according while whereas after before during since instead
    meanwhile overall still yet moreover furthermore indeed unlike like many several most some
    critics experts officials analysts observers even only yes there here thus therefore hence
    because if once as alternatively ultimately currently today now then unlikely given rather
    neither either nor first second finally also in on at by for with without from under""".split()  # noqa: SIM905
)
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}?\b(?:instructions?|prompts?|rules?|directions?)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bas an ai\b|\b(?:ai|language model|assistant|chatbot)s?\b.{0,30}?\b(?:must|should)\b"
    r"|\b(?:respond|reply|answer)\s+(?:only\s+)?with\b|\btell the (?:user|reader)s?\b"
    r"|\bnew instructions?\b",
    re.IGNORECASE,
)
NO_ANSWER = re.compile(
    r"\b(?:sources?|passages?|articles?|corpus|context|documents?|texts?)\b.{0,40}?"
    r"\b(?:not|n't|no|nothing|neither)\b.{0,40}?\b(?:say|says|mention|cover|contain|provide|address|state|"
    r"discuss|answer|information|include)"
    r"|^(?:i|we)\s+(?:cannot|can't|do not|don't)\s+(?:know|find|answer|tell)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Thresholds:
    """What counts as support (calibrated on the public sets; see docs/generation.md)."""

    min_overlap: float = 0.65  # share of the statement's content words found in the passages
    min_similarity: float = 0.50  # best cosine to a sentence (or two) of the passages


@dataclass(frozen=True)
class Support:
    """How well the cited passages support one statement."""

    overlap: float  # share of content words present
    similarity: float  # best cosine to a passage sentence (or pair)
    missing: tuple[str, ...]  # numbers and names absent from the passages
    source: int  # index (into the cited sources) of the best sentence's passage
    start: int  # the best sentence's offsets within that passage's text
    end: int

    def passes(self, t: Thresholds) -> bool:
        return (
            not self.missing
            and self.overlap >= t.min_overlap
            and self.similarity >= t.min_similarity
        )


@dataclass(frozen=True)
class Checked:
    """A statement of the model's answer and the verdict on it."""

    text: str  # markers removed
    cited: tuple[int, ...]  # prompt numbers of the given passages it cites
    dropped: tuple[int, ...]  # numbers it cited that named no given passage
    verified: bool
    reason: str | None  # why not, for people
    support: Support | None  # against the passages it cites (None when it cites none)


def split_statements(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """(statement without markers, the numbers it cites) for each sentence or list item."""
    out: list[tuple[str, tuple[int, ...]]] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip().lstrip("#").strip()
        if not line:
            continue
        line = _MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", line)
        for a, b in sentence_spans(line):
            sentence = line[a:b]
            numbers = tuple(
                int(x) for m in _MARKERS.finditer(sentence) for x in re.split(r"[,;]", m.group(1))
            )
            plain = " ".join(_MARKERS.sub("", sentence).split())
            plain = re.sub(r"\s+([.,;:!?…])", r"\1", plain)
            if plain.strip(" .,;:!?…-*\"'") or numbers:
                out.append((plain, tuple(dict.fromkeys(numbers))))
    return out


def support_text(c: Citation) -> str:
    """What a passage vouches for: its text and its article's metadata."""
    meta = " ".join(x for x in (c.title, c.author, c.outlet, c.published) if x)
    return f"{meta}\n{c.passage}"


def _sentences(passage: str) -> list[tuple[int, int]]:
    """Sentence spans of a passage that may serve as support (never instructions to a model)."""
    return [(a, b) for a, b in sentence_spans(passage) if not INSTRUCTION.search(passage[a:b])]


def _missing(statement: str, support: str) -> tuple[str, ...]:
    """Numbers and capitalised names of the statement that the support text lacks."""
    have_numbers = {n.replace(",", "") for n in _NUMBER.findall(support)}
    have_terms = set(terms(support))
    gone = [n for n in _NUMBER.findall(statement) if n.replace(",", "") not in have_numbers]
    for m in _NAME.finditer(statement):
        word = m.group(0)
        if word.lower() in STOPWORDS or (m.start() == 0 and word.lower() in OPENERS):
            continue
        if any(t not in have_terms for t in terms(word.replace(".", ""))):
            gone.append(word)
    return tuple(dict.fromkeys(gone))


def _allowed(c: Citation) -> str:
    """The support text of a passage without its sentences addressed to a model."""
    kept = " ".join(c.passage[a:b] for a, b in _sentences(c.passage))
    return support_text(c).replace(c.passage, kept)


def measure(
    statements: Sequence[str], cited: Sequence[Sequence[Citation]], embed: Embed
) -> list[Support]:
    """The support of each statement by its cited passages (one embedding call for all)."""
    units: list[list[tuple[int, int, int]]] = []  # per statement: (source, start, end) candidates
    texts: list[str] = list(statements)
    for sources in cited:
        mine = []
        for j, c in enumerate(sources):
            spans = _sentences(c.passage)
            mine += [(j, a, b) for a, b in spans]
            mine += [(j, a, d) for (a, _), (_, d) in pairwise(spans)]
        units.append(mine)
        texts += [sources[j].passage[a:b] for j, a, b in mine]
    vectors = embed(texts) if texts else np.zeros((0, 1))
    at = len(statements)
    out = []
    for i, (s, sources, mine) in enumerate(zip(statements, cited, units, strict=True)):
        allowed = "\n".join(_allowed(c) for c in sources)
        words = set(terms(s))
        overlap = len(words & set(terms(allowed))) / len(words) if words else 0.0
        missing = _missing(s, allowed)
        if not mine:
            out.append(Support(overlap, 0.0, missing, 0, 0, 0))
            continue
        sims = vectors[at : at + len(mine)] @ vectors[i]
        at += len(mine)
        best = int(np.argmax(sims))
        j, a, b = mine[best]
        out.append(Support(overlap, float(sims[best]), missing, j, a, b))
    return out


def verify(
    text: str, sources: Sequence[Citation], embed: Embed, thresholds: Thresholds | None = None
) -> list[Checked]:
    """Every statement of ``text`` with its verdict; ``sources[i]`` is the passage numbered i+1."""
    t = thresholds or Thresholds()
    parts = split_statements(text)
    out: list[Checked | None] = []
    to_measure: list[tuple[int, str, list[Citation]]] = []
    for i, (s, numbers) in enumerate(parts):
        cited = tuple(n for n in numbers if 1 <= n <= len(sources))
        dropped = tuple(n for n in numbers if n not in cited)
        reason = None
        if INSTRUCTION.search(s):
            reason = "echoes an instruction, not a statement about the question"
        elif NO_ANSWER.search(s):
            reason = "says the sources do not cover it"
        elif not cited:
            reason = (
                f"cites no passage that was given ([{'], ['.join(map(str, dropped))}])"
                if dropped
                else "cites no passage"
            )
        elif not terms(s):
            reason = "has nothing a passage could support"
        out.append(Checked(s, cited, dropped, False, reason, None))
        if reason is None:
            to_measure.append((i, s, [sources[n - 1] for n in cited]))
    measured = measure([s for _, s, _ in to_measure], [c for _, _, c in to_measure], embed)
    for (i, s, _), sup in zip(to_measure, measured, strict=True):
        prev = out[i]
        assert prev is not None
        reason = None
        if sup.missing:
            reason = f"the cited passages do not mention {', '.join(sup.missing)}"
        elif not sup.passes(t):
            reason = (
                f"not supported by the cited passages (word overlap {sup.overlap:.2f}, "
                f"similarity {sup.similarity:.2f})"
            )
        out[i] = Checked(s, prev.cited, prev.dropped, reason is None, reason, sup)
    return [c for c in out if c is not None]
