"""The question, read once: everything the answering stages need to know about what is asked.

Each stage used to re-read the raw string with its own patterns (``metadata_kind`` and
``asked_for`` ran twice per question). ``read`` runs every recogniser once and returns a plain,
frozen ``Reading`` that the stages (pipeline.py) consult.

>>> r = read("Who wrote the commentary on nuclear waste?")   # doctest: +SKIP
>>> r.metadata, r.commentary
('author', True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer import asked, conversation, gist
from assistant.answer.metadata import metadata_kind
from assistant.types import Turn


@dataclass(frozen=True)
class Reading:
    """What a question asks, as every stage needs it.

    ``query`` is what retrieval searches with (a follow-up rewritten against the conversation),
    ``focus`` what the evidence must speak to. The rest are the recognisers' verdicts, ``None`` or
    ``False`` when they do not apply.
    """

    question: str  # as asked (whitespace collapsed)
    query: str
    focus: str
    follow_up: bool
    boost_articles: tuple[str, ...]  # the articles the conversation cited last
    last_articles: tuple[str, ...]
    said: frozenset[str]  # quoted before, when a follow-up asks for more ("what else ...?")
    metadata: str | None  # "author", "published", "outlet": asked of an article's record
    gist: str | None  # "What is the main argument of the column on X?": X ("" for "its")
    need: asked.Asked | None  # the kind of thing asked for (a number of tons, a name, a year)
    form: re.Pattern[str] | None  # evidence or advice asked for: what such a sentence holds
    views: bool  # asks what a piece argues
    commentary: bool  # names a commentary ("the CNN column on ...")
    recent: bool  # "this week", "the latest"
    as_of: str | None = None  # the date the question is asked on (YYYY-MM-DD)

    @property
    def gist_unnamed(self) -> bool:
        """The gist of the piece the conversation cited ("What is its main point?")."""
        return self.gist is not None and gist.unnamed(self.gist)


def read(question: str, turns: Sequence[Turn] = (), as_of: str | None = None) -> Reading:
    """The Reading of ``question`` asked after ``turns`` (latest last)."""
    last_cited = [t for t in reversed(turns) if t.articles]
    resolved = conversation.resolve(
        question,
        turns,
        last_author=last_cited[0].author if last_cited else None,
        last_articles=last_cited[0].articles if last_cited else (),
    )
    focus = resolved.focus
    return Reading(
        question=question,
        query=resolved.query,
        focus=focus,
        follow_up=resolved.is_follow_up,
        boost_articles=tuple(resolved.boost_articles),
        last_articles=tuple(last_cited[0].articles) if last_cited else (),
        said=frozenset(q for t in turns for q in t.quotes)
        if resolved.is_follow_up
        else frozenset(),
        metadata=metadata_kind(question),
        gist=gist.topic(question),
        need=asked.asked_for(focus),
        form=asked.answer_form(focus),
        views=asked.about_views(focus),
        commentary=asked.names_commentary(focus),
        # asked as of a day (a news quiz's week): the newest coverage up to it first, as for
        # "this week" (realtimeqa dev, 101 questions: MRR .824 -> .850, hit@5 .901 -> .931)
        recent=asked.asks_recent(focus) or as_of is not None,
        as_of=as_of,
    )
