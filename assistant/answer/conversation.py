"""Follow-up questions resolved against earlier turns, without a language model.

"and what did Ukraine reject?", "why?" or "what else does he say about China?" carry too little
on their own. A follow-up borrows the question before it ("why? (What has Russia offered ...)"),
"he" or "she" in one asking what someone says becomes the author cited last, and the articles
cited last get a small boost in retrieval. A question that does not need its context (it names
what its pronouns refer to, or has none) is never rewritten: standalone questions are answered
the same on a fresh page and in the middle of a conversation.

>>> resolve("why?", [Turn("What has Russia offered in return?")]).query
'why? (What has Russia offered in return?)'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.text import STOPWORDS, words
from assistant.types import Turn

# "why?" or "how so?" are caught by their length; "Why should cities price parking?" is a new topic
_FOLLOW_START = re.compile(
    r"^\s*(?:and|but|so|also|then|what else|anything else|what about|how about|"
    r"tell me more|more on|who else|where else)\b",
    re.IGNORECASE,
)
# pronouns that point outside the sentence unless something before them in it is their antecedent
_PRONOUN = re.compile(
    r"\b(?:he|she|they|him|her|them|his|hers|their|it|its)\b"
    # a demonstrative only when it stands for a thing ("why is that?", "what does this mean"),
    # not as a determiner ("this week") or a conjunction ("warns that finishing ...")
    r"|\b(?:this|that|these|those)\b(?=\s*(?:[?.!,]|$|(?:is|was|are|were|mean|means|say|says|"
    r"said|show|shows|happen|happened|matter|matters)\b))",
    re.IGNORECASE,
)
_PERSON = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[\w'’-]+")
# the word after one of these is a noun, which a pronoun after it may refer to
_DETERMINER = frozenset({
    "the", "a", "an", "which", "this", "that", "these", "those", "his", "her", "their", "its",
    "our", "my", "your", "each", "every", "some", "any", "many", "most", "all", "both",
    "several", "do", "does", "did", "are", "were",
})  # fmt: skip
_PLURAL = {"they", "them", "their", "theirs"}
_FULL_NAME = re.compile(r"\b[A-Z][\w'’-]+\s+[A-Z][\w'’-]+")


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
    """True when the question needs the conversation before it: it opens like a follow-up
    ("and ...", "what about ..."), is elliptical (a word or two: "why?", "any numbers?") or has
    a pronoun with nothing before it in the question to refer to ("what did he propose?", "how
    old is he?"). "How old was Vin Scully when he died?" resolves its own pronoun, and "What is
    inflation?" is short but complete: questions of their own, never rewritten."""
    if _FOLLOW_START.match(question):
        return True
    tokens = _TOKEN.findall(question)
    if len(tokens) <= 2 and len(words(question)) < 2 and not _names_something(question):
        return True  # "why?", "how so?", "any numbers?"; not "Monkeypox vaccines?"
    return _dangling_pronoun(question)


def _dangling_pronoun(question: str) -> bool:
    """A pronoun whose antecedent is not in the question: neither a name nor a noun (a word
    after a determiner: "the president", "which company", "do economists") comes before it.
    "How old is he?", "Who will replace him?" need context; "Why did the president say he
    ..." does not."""
    for m in _PRONOUN.finditer(question):
        before = question[: m.start()]
        if _names_something(before):
            continue
        tokens = [t.lower() for t in _TOKEN.findall(before)]
        if any(_noun_after(a, b) for a, b in itertools.pairwise(tokens)):
            continue
        if m.group().lower() in _PLURAL and any(_plural(w) for w in words(before)):
            continue  # "families can no longer afford to heat their homes"
        return True
    return False


def _noun_after(first: str, second: str) -> bool:
    """True when ``second`` reads as a noun: after a determiner ("the president", "which
    company", "what country"; not "what happened")."""
    if second in STOPWORDS:
        return False
    return first in _DETERMINER or (first == "what" and not second.endswith("ed"))


def _plural(word: str) -> bool:
    return word in {"people", "children", "men", "women"} or (
        word.endswith("s") and not word.endswith("ss")
    )


def _names_something(question: str) -> bool:
    """A capitalised word after the first ("FIFA", "Putin"): a name, which a follow-up lacks."""
    return any(w[:1].isupper() for w in _TOKEN.findall(question)[1:])


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
    if last_author and _writer_meant(question, previous, last_author):
        query = _PERSON.sub(last_author, query)
    own = [w for w in words(question) if w not in _CHATTER]
    query = f"{query} ({previous})"
    return Resolved(query, True, tuple(last_articles), " ".join(own) if own else query)


def _writer_meant(question: str, previous: str, author: str) -> bool:
    """True when "he" or "she" in ``question`` is the writer cited last: the question before
    named that writer or no one by full name ("What has Russia
    offered?", then "what else does he say?"). After "Who won the Stanley Cup?" or "What did
    Liz Cheney say?", "he" and "she" are whoever that question was about, never the byline.
    (A surname alone is not told from a place: after "What did Putin offer?", "he" in "what
    else does he say?" is taken for the writer.)"""
    if not _PERSON.search(question):
        return False
    return author.casefold() in previous.casefold() or not _FULL_NAME.search(previous)
