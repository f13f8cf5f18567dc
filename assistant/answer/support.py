"""Does the evidence answer the question? A small logistic model over signals already computed.

The signals of the sentence an answer would rest on:

- ``dense``: cosine of the question and the sentence (embedded alone);
- ``in_context``: the same with the sentence's stored vector, which read it in its passage
  (an argument's sentence often says "this" or "such a deal": alone it is vaguer than it is);
- ``coverage``: the IDF-weighted share of the question's words in the sentence (and its heading);
- ``misses``: the question asks for a kind of thing (a number of tons, a name, a year: asked.py)
  and the sentence holds none;
- ``best``: the cosine of the question and the closest passage of the library searched (at
  least the sentence's ``in_context``): how near the library as a whole comes to the question,
  whichever sentence is judged.

The weights are fitted by ``benchmarks/fit_support.py`` on the development question sets (real
news, opinion pieces, the seed, HotpotQA, RGB, and unanswerable questions of each kind) and
shipped as data in ``support_model.json``; the decision threshold is folded into the bias so
that ``support >= 0.5`` means "answer". None of the signals depends on the library's size.
``misses`` was a veto before (support 0, however similar); fitted with the rest on the pooled
development sets (the outside writers' commentary tune split among them) it weighs about -3.9:
it fired on 47 questions, 44 of them unanswerable, so it still all but decides, but a sentence
close enough to the question can outweigh it. A year that clashes with the asked one
(asked.contradicts: a 2021 report for "Who won in 2022?") stays a veto in the judge: it is a
contradiction, not a likelihood, and it fired on 2 development questions, both unanswerable.
Fitted, the sentence's similarity carries most of the weight: in a library of 1,200 news
articles a question on a topic the library lacks ("What is the capital of Australia?") finds
sentences of similarity 0.2-0.45, where answerable ones reach 0.45-0.9; the old score added
0.4 x coverage to it, which lifted such questions over the threshold. Signals tried and left
out (they did not improve the cross-validated trade-off; docs/quality.md): the share of the
question's words around the sentence, its names and numbers missing there (tried twice: it
traded false refusals between sets without refusing more), the IDF of the rarest missing word,
the similarity of the article's title and lede, and (once asked.py's rule was in place) whether
the sentence offers a number or a name when one is asked for: the rule had taken every
unanswerable question it separated, and its weight came out with the wrong sign.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

FEATURES = ("dense", "in_context", "coverage", "misses", "best")


def features(
    dense: float,
    coverage: float,
    in_context: float,
    misses: bool = False,
    best: float | None = None,
) -> dict[str, float]:
    """The judge's signals for one evidence sentence (see the module docstring); ``best``: the
    question's closest passage in the library searched (unknown: the sentence's own)."""
    return {"dense": dense, "in_context": in_context, "coverage": coverage,
            "misses": float(misses), "best": max(best or in_context, in_context)}  # fmt: skip


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
