"""Does the evidence answer the question? A small logistic model over signals already computed.

The signals of the sentence an answer would rest on:

- ``dense``: cosine of the question and the sentence (embedded alone);
- ``in_context``: the same with the sentence's stored vector, which read it in its passage
  (an argument's sentence often says "this" or "such a deal": alone it is vaguer than it is);
- ``coverage``: the IDF-weighted share of the question's words in the sentence (and its heading);
- ``type_missing``: 1 when the question asks for a number ("how many", "what year") or a name
  ("who", "the name of", "which team") and the sentence holds none beyond the question's own.

The weights are fitted by ``benchmarks/fit_support.py`` on the development question sets (real
news, opinion pieces, the seed, HotpotQA, RGB, and unanswerable questions of each kind) and
shipped as data in ``support_model.json``; the decision threshold is folded into the bias so
that ``support >= 0.5`` means "answer". None of the signals depends on the library's size.
Before the model, asked.py's rule: evidence that lacks what the question asks for (a number of
tons, a name, a year) is not support at all (its support is 0), however similar.
Fitted, the sentence's similarity carries most of the weight: in a library of 1,200 news
articles a question on a topic the library lacks ("What is the capital of Australia?") finds
sentences of similarity 0.2-0.45, where answerable ones reach 0.45-0.9; the old score added
0.4 x coverage to it, which lifted such questions over the threshold. Signals tried and left
out (they did not improve the cross-validated trade-off; docs/quality.md): the share of the
question's words around the sentence, its names and numbers missing there (tried twice: it
traded false refusals between sets without refusing more), the IDF of the rarest missing word,
the similarity of the article's title and lede.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

FEATURES = ("dense", "in_context", "coverage", "type_missing")
_NAME_OR_NUMBER = re.compile(r"\b(?:[A-Z][\w'’.-]*|\d[\d,.]*)")
_ASKS_NUMBER = re.compile(
    r"\bhow (?:many|much|old|long|far|tall|high|big|large|often|fast)\b|\bin what year\b|"
    r"\bwhat (?:year|percentage|percent|share|number|amount|price|age|date|time)\b|^when\b",
    re.IGNORECASE,
)
_ASKS_NAME = re.compile(
    r"^(?:who|whom|whose)\b|\bname(?:s|d)? (?:of|the)\b|\bwhat is the name\b|"
    r"^(?:which|what) (?:team|country|state|city|company|person|man|woman|player|singer|actor|actress|"
    r"movie|film|show|island|nation|party|university|school|organi[sz]ation|group|agency|court|"
    r"judge|official|senator|leader|president|brand|network|app|airline|bank|club)\b",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|trillions?|half|percent|January|February|March|April|May|"
    r"June|July|August|September|October|November|December)\b",
    re.IGNORECASE,
)


def asks_for(question: str) -> str | None:
    """ "number", "name" or None: the kind of answer the question wants.

    >>> asks_for("How many moons does Jupiter have?"), asks_for("Who won the 2022 World Cup?")
    ('number', 'name')
    """
    text = question.strip()
    if _ASKS_NUMBER.search(text):
        return "number"
    return "name" if _ASKS_NAME.search(text) else None


def offers(asks: str | None, sentence: str, question: str) -> bool:
    """True when the sentence holds an answer of the kind asked for that the question lacks."""
    if asks is None:
        return True
    own = {w.lower() for w in re.findall(r"[\w'’.-]+", question)}
    if asks == "number":
        return any(m.group(0).lower() not in own for m in _NUMBER_WORD.finditer(sentence))
    return any(
        m.start() > 0 and m.group(0).lower() not in own and not m.group(0)[0].isdigit()
        for m in _NAME_OR_NUMBER.finditer(sentence)
    )


def features(
    question: str, sentence: str, dense: float, coverage: float, in_context: float
) -> dict[str, float]:
    """The judge's signals for one evidence sentence (see the module docstring)."""
    return {
        "dense": dense,
        "in_context": in_context,
        "coverage": coverage,
        "type_missing": 0.0 if offers(asks_for(question), sentence, question) else 1.0,
    }


@dataclass(frozen=True)
class SupportModel:
    """Logistic weights over ``FEATURES``; ``support >= 0.5`` means the evidence answers."""

    weights: dict[str, float]
    bias: float

    def support(self, signals: dict[str, float]) -> float:
        z = self.bias + sum(w * signals[f] for f, w in self.weights.items())
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@cache
def load_model() -> SupportModel:
    """The shipped model (``assistant/support_model.json``)."""
    data = json.loads(
        resources.files("assistant.answer").joinpath("support_model.json").read_text()
    )
    return SupportModel(
        {f: float(data["weights"].get(f, 0.0)) for f in FEATURES}, float(data["bias"])
    )
