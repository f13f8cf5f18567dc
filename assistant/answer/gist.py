"""Questions about a piece as a whole: "What is the main argument of the commentary on the SAT?",
"Summarise the column on food waste".

No sentence is similar to "the main argument" — the closest to such a question is the piece's
news hook ("The SAT is going digital."), and it was refused. The argument is what the piece keeps
coming back to: its **central** sentences, those closest to the mean of all its sentence vectors
(stored at indexing time, each read in its passage). The question is answered when the piece
speaks to the topic (the question without its frame, judged like any answer's evidence) with
the piece's two most central sentences, in the order the piece has them.

>>> topic("What is the main argument of the commentary on the digital SAT?")
'the digital SAT?'
>>> topic("Summarize Nicole Hemmer's column on the SAT")
"Nicole Hemmer's column on the SAT"
>>> topic("What does the commentary argue about the SAT?") is None
True
>>> topic("What is the main point of contention in the talks?") is None
True
>>> unnamed(topic("What is the main argument of this piece?")), topic("What is its main point?")
(True, '')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from assistant.answer.asked import ARTICLE_KINDS, PIECE, WRITERS
from assistant.answer.evidence import Evidence, names_of
from assistant.bylines import is_bio
from assistant.text import sentence_spans, words

STATED = 2  # central sentences stated
JUDGED = 3  # best sentences for the topic judged: does the piece speak to it at all?

_MAIN = r"(?:main|central|key|chief|overall|basic)"
_POINT = r"(?:argument|point|claim|idea|message|thesis|takeaway)s?"
_GIST = re.compile(
    rf"^\s*(?:what(?:'s|\s+is|\s+was|\s+are)\s+(?:the|its|his|her|their)\s+{_MAIN}\s+{_POINT}"
    r"(?:\s+(?:of|in|made in)\s+|\s*\??\s*$)|summari[sz]e\s+|give\s+(?:me\s+)?(?:a\s+)?summary\s+of\s+"
    r"|what\s+is\s+the\s+gist\s+of\s+)",
    re.IGNORECASE,
)
_FRAME = re.compile(rf"^(?:the|this|that|a)\s+(?:\w+\s+){{0,2}}?{PIECE}\s+(?:on|about)\s+", re.I)


def topic(question: str) -> str | None:
    """What the piece the question asks about is about, when it asks for the piece's gist."""
    m = _GIST.match(question)
    if not m:
        return None
    rest = question[m.end() :].strip()
    if not re.search(rf"\b{PIECE}\b", rest, re.IGNORECASE) and not unnamed(rest):
        return None  # "the main point of contention in the talks": not a piece's gist
    return _FRAME.sub("", rest) or rest  # "" for "What is its main argument?"


# words that say what kind of piece, not what about ("op-ed" splits in two)
_KINDS = frozenset(w for kind in (*ARTICLE_KINDS, *WRITERS) for w in kind.split("-"))


def unnamed(topic: str) -> bool:
    """True when the piece is named by no topic ("this piece", "it", "the commentary"): in a
    conversation, the piece its last answer cited."""
    return not [w for w in words(topic) if w not in _KINDS]


def answer(
    scored: Sequence[Evidence],
    vectors: Mapping[str, np.ndarray],
    piece: str,
    judge: Callable[[Evidence], float],
) -> tuple[list[Evidence], float]:
    """The piece's central sentences (to state) and how strongly the piece speaks to the topic.

    ``scored`` is every sentence scored for the topic (evidence.score_sentences), ``vectors``
    the stored sentence vectors by passage, ``piece`` the article asked about.
    """
    own = [e for e in scored if e.passage.article_id == piece]
    if not own:
        return [], 0.0
    support = max(judge(e) for e in own[:JUDGED])
    rows = {cid: v for cid, v in vectors.items() if cid.rsplit(":", 1)[0] == piece}
    mean = np.mean(np.concatenate(list(rows.values())), axis=0) if rows else None
    if mean is None or not np.linalg.norm(mean):
        return own[:1], support
    mean = mean / np.linalg.norm(mean)

    def centrality(e: Evidence) -> float:
        v = rows.get(e.passage.chunk_id)
        spans = sentence_spans(e.passage.text)
        if v is None or len(v) != len(spans) or (e.start, e.end) not in spans:
            return -1.0
        return float(v[spans.index((e.start, e.end))] @ mean)

    def the_pieces_own(e: Evidence) -> bool:  # not its byline, a bio, or a source it quotes
        q = e.quote
        return not (any(n in q for n in names_of(e.passage.author)) or is_bio(q) or q[:1] in '"“')

    ranked = sorted((e for e in own if the_pieces_own(e)), key=centrality, reverse=True)
    chosen: list[Evidence] = []
    for e in ranked:
        if all(e.passage.chunk_id != c.passage.chunk_id for c in chosen):
            chosen.append(e)
        if len(chosen) == STATED:
            break
    chosen.sort(key=lambda e: (e.passage.start, e.start))  # in the order the piece has them
    return chosen or own[:1], support
