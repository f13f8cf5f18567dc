"""Text helpers every stage shares: sentences, words and index terms, folding, dates.

Small and dependency-light on purpose (PyStemmer is imported on first use): ingest, index,
answer and evaluation all read text the same way through these functions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache
from typing import Any

from assistant.errors import InputError

# A sentence ends at . ! ? (or …) followed by space and an upper-case letter, digit or quote
# (or a letter of Hebrew or Arabic, which have no capitals), unless the word before is a common
# abbreviation or an initial; Chinese and Japanese sentences end at 。！？ with no space after.
_END = re.compile(
    r"[.!?…؟][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9\u0590-\u06ff])|[。！？][」』”’）)]*\s*"
)
PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t]*\n)+")  # a blank line (or several): paragraphs apart
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Col|Lt|Sgt|Capt|Gov|Sen|Rep|Rev|Hon|No|Vol|"
    r"vs?|etc|e\.g|i\.e|Inc|Ltd|Co|Corp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
    r"|\b[A-Z]|\b(?:[A-Z]\.)+[A-Z])\.[\"'”’)\]]*\s+$"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``, whitespace trimmed.

    >>> t = "Mr Trump met Mr Putin. It went badly! Why? U.S. aid stopped. Roe v. Wade fell."
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['Mr Trump met Mr Putin.', 'It went badly!', 'Why?', 'U.S. aid stopped.', 'Roe v. Wade fell.']
    >>> t = "A line with no stop\\n\\nThen one. It ends"
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['A line with no stop', 'Then one.', 'It ends']
    """
    spans: list[tuple[int, int]] = []
    # a sentence never runs on past a paragraph break (a passage may join paragraphs)
    for start, end in paragraph_spans(text):
        for m in _END.finditer(text, start, end):
            if _ABBREV.search(text[start : m.end()]):
                continue
            spans.append((start, m.end()))
            start = m.end()
        spans.append((start, end))
    out = []
    for a, b in spans:
        seg = text[a:b]
        a2 = a + (len(seg) - len(seg.lstrip()))
        b2 = b - (len(seg) - len(seg.rstrip()))
        if b2 > a2:
            out.append((a2, b2))
    return out


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the runs of ``text`` between paragraph breaks (blank lines), untrimmed:
    the one place that says where a paragraph ends (article bodies, joined passages).

    >>> t = "One.\\n \\nTwo\\nlines.\\n\\n\\nThree."
    >>> [t[a:b] for a, b in paragraph_spans(t)]
    ['One.', 'Two\\nlines.', 'Three.']
    """
    spans: list[tuple[int, int]] = []
    at = 0
    for brk in PARAGRAPH_BREAK.finditer(text):
        spans.append((at, brk.start()))
        at = brk.end()
    spans.append((at, len(text)))
    return spans


def first_sentence_span(text: str) -> tuple[int, int]:
    """(start, end) of the first sentence of ``text`` (all of it when it has none)."""
    spans = sentence_spans(text)
    return spans[0] if spans else (0, len(text))


# A stopword list longer than bm25s' built-in 33 words: question words carry no topic.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "did",
        "does",
        "said",
        "says",
        "say",
        "according",
        "whether",
        "mr",
        "mrs",
        "ms",
        "dr",
        "s",
        "t",
    ]
)
_WORD = re.compile(r"\w+", re.UNICODE)


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` that are not stopwords (unstemmed)."""
    return [
        w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


def terms(text: str) -> list[str]:
    """The stemmed index terms of ``text``: ``terms("Russia offered")`` -> ``['russia', 'offer']``."""
    return list(_stemmer().stemWords(words(text)))


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})  # fmt: skip


def normalise(text: str) -> str:
    """Text folded for comparison: NFKC, plain quotes and dashes, collapsed spaces, lower case.

    >>> normalise("It’s  “final” —\\nno")
    'it\\'s "final" - no'
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).lower()


_DOUBLE_MARKS = '“”„"«»'
_TO_SINGLE = str.maketrans({"“": "‘", "„": "‘", "«": "‘", "”": "’", "»": "’", '"': "'"})


def quoted(text: str) -> str:
    """``text`` in “curly quotes” for display, never with doubled marks: a quote that is itself
    one whole quotation keeps its own pair; quotation marks inside become single ones, as
    newspapers nest them.

    >>> quoted("It is not clear."), quoted("“Student debt is a trap.”")
    ('“It is not clear.”', '“Student debt is a trap.”')
    >>> quoted("“No,” he said."), quoted("Most support “forgiving debt.”")
    ('“‘No,’ he said.”', '“Most support ‘forgiving debt.’”')
    """
    text = text.strip()
    inner = text[1:-1]
    whole = len(text) > 1 and text[0] in _DOUBLE_MARKS and text[-1] in _DOUBLE_MARKS
    if whole and not any(m in inner for m in _DOUBLE_MARKS):
        return f"“{inner}”"
    return f"“{text.translate(_TO_SINGLE)}”"


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip  # the one list of month names
_MONTH_NAMES = "|".join(m[:3].lower() for m in MONTHS)
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES.split("|"))}
MONTH = rf"({_MONTH_NAMES})[a-z]*\.?"  # a month name in lower-case text, as a regex group
# a month's name or its abbreviation exactly ("Nov.", "Sept", "November"; not "market")
MONTH_WORD = "(?:" + "|".join(f"{m[:3]}(?:{m[3:]})?" for m in MONTHS) + r"|Sept)\b\.?"


def month_number(name: str) -> int:
    """1..12 for a month's name or its abbreviation ("July", "Sept." -> 7, 9); KeyError if none."""
    return _MONTHS[name[:3].lower()]


_DATES = [  # the date forms read, with (year, month, day) from each match
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})"), lambda m: (m[1], m[2], m[3])),
    (re.compile(rf"\b(\d{{1,2}}) {MONTH},? (\d{{4}})\b"), lambda m: (m[3], _MONTHS[m[2]], m[1])),
    (re.compile(rf"\b{MONTH} (\d{{1,2}}),? (\d{{4}})\b"), lambda m: (m[3], _MONTHS[m[1]], m[2])),
]
# A date a person types: YYYY-MM-DD (or YYYYMMDD) at the start, perhaps a time after it.
_TYPED_DATE = re.compile(r"(\d{4})(-?)(\d{2})\2(\d{2})", re.ASCII)


def parse_date(value: object) -> str | None:
    """Return ``value`` (a date, datetime or date string) as YYYY-MM-DD, or None if unclear.

    The one date reader, lenient: the first date found in text such as a byline
    (``2025-3-3``, ``3 March 2025``, ``Sept. 9, 2024``); ``iso_date`` is its strict use.
    """
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    text = str(value or "").strip().lower()
    for pattern, parts in _DATES:
        if match := pattern.search(text):
            try:
                return dt.date(*(int(p) for p in parts(match))).isoformat()
            except ValueError:
                return None
    return None


def iso_date(value: str) -> str:
    """``YYYY-MM-DD`` from a date given by the user, or InputError naming the expected form."""
    if (m := _TYPED_DATE.match(str(value).strip())) and (
        date := parse_date(f"{m[1]}-{m[3]}-{m[4]}")
    ):
        return date
    raise InputError(f"Invalid date {value!r}: use YYYY-MM-DD, e.g. 2025-04-24.")


def count(n: int, word: str, plural: str | None = None) -> str:
    """``1 article``, ``2 articles`` (``plural`` when adding an s is wrong)."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"
