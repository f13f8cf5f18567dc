"""Bio lines: "Maria Lopez is an associate professor ...", "Tia Nelson, managing director for
climate at ...", and a commentary's "The views expressed ... are her own".

Shared by two stages: cleaning finds an article's author in them (ingest/cleaning.py), and
answering never quotes one as an answer (answer/evidence.py, answer/gist.py). They live here so
that answering does not import the ingest stage.
"""

from __future__ import annotations

import re

ROLES = (
    r"professor|(?:senior )?fellow|editor|columnist|director|lecturer|researcher|analyst"
    r"|correspondent|writer|journalist|author|founder|chair|head|economist|scholar|dean"
    r"|commentator|contributor|reporter|partner|advis[eo]r|scientist|historian|attorney"
)
BIO = re.compile(  # "Maria Lopez is an associate professor ..."
    r"^(?P<name>[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){1,3}) (?:is|was) (?i:(?:an?|the) )?"
    rf"(?i:[\w-]+ ){{0,3}}?(?i:{ROLES}|associate|ambassador|diplomat|graduate|lawyer|student"
    r"|physician|doctor)\b"
)
_BIO_COMMA = re.compile(  # "Tia Nelson, managing director for climate at ..."
    r"^[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){1,3}, (?:an? |the )?(?i:[\w-]+ ){0,3}?"
    rf"(?i:{ROLES})\b"
)
_DISCLAIMER = re.compile(
    r"\bThe (?:views|opinions) expressed in this (?:commentary|article|column|piece) are "
    r"(?:his|her|their|the author's|the authors') own\b"
)


def is_bio(par: str) -> bool:
    """True for an author's bio line ("Maria Lopez is an associate professor ...", "Tia Nelson,
    managing director for climate at ...") or a commentary's disclaimer."""
    return bool(BIO.match(par) or _BIO_COMMA.match(par) or _DISCLAIMER.search(par))
