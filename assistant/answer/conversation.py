"""Follow-up questions resolved against earlier turns, without a language model.

"and what did Ukraine reject?", "why?" or "what else does he say about China?" carry too little
on their own. A follow-up borrows the content words of the question before it, pronouns for a
person become the author cited last, and the articles cited last get a small boost in retrieval.

>>> resolve("why?", [Turn("What has Russia offered in return?")]).query
'why? (What has Russia offered in return?)'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.text import words
from assistant.types import Turn

# "why?" or "how so?" are caught by their length; "Why should cities price parking?" is a new topic
_FOLLOW_START = re.compile(
    r"^\s*(?:and|but|so|also|then|what else|anything else|what about|how about|"
    r"tell me more|more on|who else|where else)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(?:he|she|they|him|her|them|his|hers|their|it|its|this|that|these|those)\b", re.I
)
_PERSON = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.IGNORECASE)


# words that steer a conversation but say nothing about what to find
_CHATTER = {"else", "more", "say", "says", "said", "tell", "also", "anything", "about", "other"}


@dataclass(frozen=True)
class Resolved:
    """The question to search with, and what the earlier turns contribute.

    ``focus`` is what the evidence must speak to: a follow-up's own content words when it has
    any ("china" in "what else does he say about China?"), else the whole resolved query.
    """

    query: str
    is_follow_up: bool
    boost_articles: tuple[str, ...] = ()
    focus: str = ""


def is_follow_up(question: str) -> bool:
    """True when the question leans on the conversation before it: it opens like a follow-up
    ("and ...", "what about ..."), is a word or two ("why?", "any numbers?") or names no one and
    little else ("what did he propose?"). "Who is the president of FIFA?" is short but names
    what it is about: a question of its own."""
    content = words(question)
    return (
        bool(_FOLLOW_START.match(question))
        or (len(content) <= 2 and not _names_something(question))
        or (bool(_PRONOUN.search(question)) and len(content) <= 4)
    )


def _names_something(question: str) -> bool:
    """A capitalised word after the first ("FIFA", "Putin"): a name, which a follow-up lacks."""
    return any(w[:1].isupper() for w in re.findall(r"[\w'’-]+", question)[1:])


def resolve(
    question: str,
    history: Sequence[Turn],
    last_author: str | None = None,
    last_articles: Sequence[str] = (),
) -> Resolved:
    """The stand-alone query for ``question`` given the earlier turns (latest last)."""
    if not history or not is_follow_up(question):
        return Resolved(question, False, focus=question)
    # a follow-up of a follow-up keeps the topic: "why?" after "and what did Ukraine reject?"
    previous = resolve(history[-1].question, history[-2:-1]).query
    query = question
    if last_author and _PERSON.search(question):
        query = _PERSON.sub(last_author, query)
    own = [w for w in words(question) if w not in _CHATTER]
    query = f"{query} ({previous})"
    return Resolved(query, True, tuple(last_articles), " ".join(own) if own else query)
