"""What a question asks for, and whether a sentence gives it: the refusal rule's key terms.

An embedding says a sentence is *about* the question; it cannot say the sentence *answers* it.
"What was the production budget of 'Top Gun: Maverick'?" finds a review of the film (cosine
0.6), "How old is Joe Kennedy?" a sentence about his prayers. In a large library every
question finds such a sentence, so similarity alone cannot refuse them. This module reads the
asked-for thing from the question's wording and checks the sentence for it:

- a **count** ("how many tons ..."): a number followed by the counted thing ("3,000 tons");
  "how many people were arrested": a number and the arrests;
- an **age** ("how old"), a **year** ("what year"), an **amount of money** ("how much did it cost", "what did he offer to pay", "the budget":
  the money and the budget), a **date** ("what is the release date of ..."): a day of a month
  ("Nov. 12", "12 November", "11/12"), whether or not the sentence says "date";
- a **name** ("what is the name of the judge ..."): a capitalised word the question lacks, at
  most two words from the named thing ("Judge Anna Sotnikova", "the island of Olkiluoto"; not
  "a Russian judge sentenced Griner", "an island in the Baltic Sea");
- an **attribute** ("what is the win-loss record of ...", "the capital of Australia"): more
  than half of its words, and the thing it belongs to within three words ("Australia's
  capital", "the capital city of Australia"; not "the capital" of another country in a sentence
  that also says "Australia");
- a **winner** ("who won the 2022 FIFA World Cup?"): what was won, named ("Germany won the
  Olympic gold medal" does not answer it);
- **someone** ("who is the CEO of Google?", "who was awarded ..."): a person named by two
  capitalised words the question lacks ("Google CEO Sundar Pichai"; not "CEO of Google and
  Alphabet", not a film's "cast and crew credits"); for a team or country ("who was the
  runner-up ...") one such word ("Croatia");
- the **name of a place** asked with a preposition ("in which penal colony ..."): a name next
  to the colony ("a remote penal colony" does not answer it).

Asked for **evidence** ("what evidence does the columnist cite that ..."), a sentence giving a
figure or its source (a percentage, an amount, "according to", a study or a poll) is preferred
to a closer one; asked what a piece **recommends** ("what does the column urge donors to do"),
one giving advice ("should", "must", "it's time to") is (``answer_form``). These only order,
they never refuse: a piece's evidence may be a story, its advice a plain statement.

A sentence that puts the event a question names by its year in another year ("the 2022 US
Open"; "the US Open final in 2018") contradicts it (``contradicts``), and so does any sentence of
an article published before the time a question asks about, in the past tense ("What did the Fed
do in July 2022?": a report of June cannot tell; "Who won Wimbledon in 2022?": nor one of 2021).

Questions of other shapes ("why", "how does", "which team", "when") and categories answered by
an instance ("what was her profession?": "aviator") ask for nothing checkable here and pass.
(A **share** and "when" questions as dates were checked too; on the development sets, the
outside writer's among them, neither check changed a single answer, refusal or rank: removed.
"The X date of ..." was then read as an attribute, whose words the sentence must hold: a
sentence giving the day without the word "date" was taken for a miss.)
Evidence that does not give what is asked is never stated as an answer (api.py: the best
sentence that does is preferred, and without one the question is refused), whatever its
similarity. No signal depends on the library's size.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.text import MONTH, MONTH_WORD, month_number

_FUNCTION = (
    r"(?:who|whom|whose|that|which|where|when|in|at|on|of|for|to|by|with|as|from|does|did|do|"
    r"is|was|are|were|has|have|had|will|would|can|could|should)"
)
_NAME_OF = re.compile(
    rf"\bname of (?:the |a |an |his |her |their |its )?(.+?)\s*(?:\b{_FUNCTION}\b|,|\?|$)"
)
_WHAT_IS_THE = re.compile(
    rf"^(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+|a\s+|an\s+)?(.+?)\s*"
    rf"(?:\b{_FUNCTION}\b|,|\?|$)"
)
_NOT_ASKED = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "its", "his", "her", "their", "name",
    "meant", "called", "known", "main", "best", "first", "last", "new", "other", "same"
})  # fmt: skip
# a category is answered by an instance ("aviator"), not by its own word ("profession")
_CATEGORIES = frozenset({
    "profession", "occupation", "job", "career", "nationality", "citizenship", "ethnicity",
    "genre", "sport", "language", "religion", "colour", "color", "type", "kind", "sort", "form",
    "style", "abbreviation", "acronym", "nickname", "title", "role", "position", "species",
    "breed", "instrument", "party", "ideology", "brand", "model", "make", "cause", "reason",
    "purpose", "relationship", "connection", "difference", "similarity"
})  # fmt: skip
_NAMED_PLACES = (
    r"colony|prison|jail|city|town|village|hospital|stadium|university|college|company|airport|"
    r"island|province|county|district|court|ship|hotel|church|river|mountain"
)
_MONEY_WORDS = frozenset({
    "revenue", "budget", "cost", "price", "prize", "money", "salary", "fee", "fine", "worth",
    "value", "income", "profit", "sales", "wage", "wages", "pay"
})  # fmt: skip
_GROUP_ROLES = frozenset({
    "runner-up", "runners-up", "champion", "champions", "team", "country", "nation", "club",
    "company", "sponsor", "host", "hosts"
})  # fmt: skip  # "who was the runner-up ...": a team or a country, often one word
_STARTERS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we",
    "i", "you", "his", "her", "their", "our", "in", "on", "at", "of", "for", "to", "by", "with",
    "as", "from", "after", "before", "but", "and", "so", "if", "while", "since", "when", "where",
    "there", "here", "today", "yesterday", "last", "next", "according", "some", "many", "most",
    "one", "two", "three"
})  # fmt: skip  # capitalised as a sentence's first word, not as a name
_CALENDAR = re.compile(rf"{MONTH}|(?:mon|tues|wednes|thurs|fri|satur|sun)day", re.IGNORECASE)
NAME_WINDOW = 2  # words between a named thing and its name ("the island of Olkiluoto")
OF_WINDOW = 3  # words between an attribute and its owner ("the capital city of Australia")
_GENERIC_COUNTS = frozenset({"people", "times", "more", "fewer", "of", "other", "different"})

_MONEY = re.compile(
    r"[$£€¥]\s?\d|\d[\d,.]*\s*(?:million|billion|trillion|bn|m)?\s*(?:dollars|pounds|euros|yen|"
    r"yuan|rupees)\b|\b(?:dollars|pounds|euros)\b",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"\b\d{1,3}[- ]years?[- ]old\b|\baged? \d{1,3}\b|, \d{1,3},|\(\d{1,3}\)|\bin (?:his|her) "
    r"(?:\w+ies|teens)\b",
    re.IGNORECASE,
)
_DATE = re.compile(  # a day of a month ("Nov. 12", "12 November", "11/12", "2020-11-12")
    rf"\b{MONTH_WORD}\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_WORD}|"
    r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b(?:1[5-9]|20)\d\d-\d\d-\d\d\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|a dozen|"
    r"dozens|hundreds|thousands|millions|billions|several|few|no)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Asked:
    """The kind of answer a question asks for: ``count``, ``age``, ``year``, ``date``,
    ``money``, ``name``, ``someone`` or ``attribute``; ``words`` is the counted thing
    or the attribute's words (for ``someone``, ``("group",)`` when a team or country will do);
    ``of`` the thing an attribute belongs to ("the capital of *Australia*"), if named."""

    kind: str
    words: tuple[str, ...] = ()
    of: str = ""


def _plain(text: str) -> str:
    return text.lower().replace("’", "'")


WORD = re.compile(r"[\w'’.-]+")  # a word as sentences and questions are split here


def bare(word: str) -> str:
    """ "Thompson's" -> "thompson", "Rep." -> "rep", "Google's." -> "google"."""
    return re.sub(r"'s$", "", _plain(word).strip(".,'-")).strip(".,'")


def _stem(word: str) -> str:
    """A prefix that matches the word's inflections ("tons" -> "ton", "records" -> "recor")."""
    return word[: max(4, len(word) - 2)] if len(word) > 4 else word.rstrip("s") or word


def _has_word(stem: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(stem)}", text) is not None


def _of(question: str, words: tuple[str, ...]) -> str:
    """The first word of what the attribute belongs to: "the capital of Australia" -> "australia"."""
    if not words:
        return ""
    m = re.search(
        rf"\b{re.escape(words[-1])}\s+of\s+(?:the\s+|a\s+|an\s+)?([a-z][\w-]*)", _plain(question)
    )
    return m.group(1) if m and m.group(1) not in _NOT_ASKED else ""


def _attribute_words(question: str) -> tuple[str, ...]:
    """The words of "the X" in "what is the X of ..." / "the name of the X who ...", if any."""
    q = _plain(question).strip()
    m = _NAME_OF.search(q) or _WHAT_IS_THE.match(q)
    if not m:
        return ()
    phrase = m.group(1)
    if (
        m.re is _WHAT_IS_THE
        and re.match(r"\w+ing\b", phrase)
        and not re.match(r"(?:what|which)\s+\w+\s+(?:the|a|an)\b", q)
    ):
        return ()  # "what is undermining ...": a verb, not a thing
    if "'s " in phrase:  # "Fouad Zaban's win-loss record": the thing is what follows
        phrase = phrase.rsplit("'s ", 1)[1]
    return tuple(w for w in re.findall(r"[a-z][a-z-]+", phrase) if w not in _NOT_ASKED)


def asked_for(question: str) -> Asked | None:
    """What ``question`` asks for, when its wording says so clearly; None otherwise.

    >>> asked_for("How many tons of spent fuel does France store?")
    Asked(kind='count', words=('tons',), of='')
    >>> asked_for("What is the capital of Australia?")
    Asked(kind='attribute', words=('capital',), of='australia')
    >>> asked_for("Why does the author oppose the plan?") is None
    True
    """
    q = _plain(question).strip()
    if re.search(r"\bhow old\b|\bwhat age\b|\bat what age\b", q):
        return Asked("age")
    if re.search(r"\b(?:in )?what year\b", q):
        return Asked("year")
    m = re.search(r"\bhow many ([a-z][a-z-]*)", q)
    if m:
        word = m.group(1)
        if word not in _GENERIC_COUNTS:
            return Asked("count", (word,))
        # "how many people were arrested": the number must come with the arrests
        done = re.search(r"\b(?:were|was|are|is|have been|had been|will be|got) (\w+ed)\b", q)
        return Asked("count", ("", done.group(1)) if done else ())
    if re.search(
        r"\bhow much\b.*\b(?:cost|pay|paid|spend|spent|raise|raised|earn|worth|charge)|"
        r"\b(?:offer|offers|offered|agree|agreed|agrees) to (?:pay|buy)\b|\bat what price\b|"
        r"\bfor how much\b",
        q,
    ):  # "What did Musk offer to pay for Twitter?": an amount of money
        return Asked("money")
    m = re.match(rf"(?:in|at|to|from|into) which ((?:[a-z-]+ ){{0,2}}?)({_NAMED_PLACES})\b", q)
    if m:  # "in which penal colony ...": its name, next to the colony
        return Asked("name", (*m.group(1).split(), m.group(2)))
    m = re.match(r"who (?:won|wins|will win|has won) (?:the |a |an )?(.+?)\s*\?*$", q)
    if m:  # "who won the 2022 FIFA World Cup": a winner of that, not of another
        won = tuple(w for w in re.findall(r"[a-z][a-z-]+", m.group(1)) if w not in _NOT_ASKED)
        if won:
            return Asked("attribute", won)
    m = re.match(r"who (?:is|was|will be|has been|had been) (?!to |responsible |behind )(.+)", q)
    who_is = re.match(r"\s*[Ww]ho\s+(?:is|was|will be|has been|had been)\s+[A-Z]", question)
    if m and " or " not in q and not who_is:  # "Who is the director of ...": someone named
        # (not "who is Ketanji Brown Jackson": a description; not "who is to blame", "who were
        # the protesters": a culprit or a group may be described, not named)
        group = bool(set(re.findall(r"[a-z-]+", m.group(1))) & _GROUP_ROLES)
        return Asked("someone", ("group",) if group else ())
    words = _attribute_words(question)
    if not words or _CATEGORIES & set(words):
        return None
    if _MONEY_WORDS & set(words):
        return Asked("money", words)
    if words[-1] in ("date", "day"):  # "the release date of ...": a day, not the word "date"
        return Asked("date", words)
    if _NAME_OF.search(q):
        return Asked("name", words)
    return Asked("attribute", words, _of(question, words))


def answers(
    asked: Asked | None, question: str, sentence: str, published: str | None = None
) -> bool:
    """True when ``sentence`` (from an article of date ``published``) gives what ``question``
    asks for and does not contradict it: the condition for being its answer at all."""
    return gives(asked, sentence, question) and not contradicts(question, sentence, published)


def gives(asked: Asked | None, sentence: str, question: str = "") -> bool:
    """True when ``sentence`` holds an answer of the kind ``asked`` (always, for None)."""
    if asked is None:
        return True
    kind, s = asked.kind, sentence
    if kind == "age":
        return _AGE.search(s) is not None
    if kind == "date":  # "will premiere on Thursday, Nov. 12" gives a premiere date
        return _DATE.search(s) is not None
    if kind == "year":  # a year, not a decade ("the 2000s")
        return re.search(r"\b(?:1[5-9]\d\d|20\d\d)\b(?!s)", s) is not None
    if kind == "money":  # and "the budget" when a budget is asked for, not the takings
        head = asked.words[-1:] if asked.words else ()
        return _MONEY.search(s) is not None and all(_has_word(_stem(w), _plain(s)) for w in head)
    if kind == "count":
        if not asked.words:
            return _NUMBER.search(s) is not None
        if not asked.words[0]:  # a number, and the event counted
            return _NUMBER.search(s) is not None and _has_word(_stem(asked.words[1]), _plain(s))
        stem = _stem(asked.words[0])
        return any(_has_word(stem, _plain(s[n.end() : n.end() + 40])) for n in _NUMBER.finditer(s))
    if kind == "someone":
        return _names_someone(s, question, person=not asked.words)
    text = _plain(s)
    present = sum(_has_word(_stem(w), text) for w in asked.words)
    if kind == "name":
        return present > 0 and _name_near(asked.words[-1], s, question)
    owner = _stem(asked.of)
    if asked.of and not _within(
        s, _stem(asked.words[-1]), OF_WINDOW, lambda u: bare(u).startswith(owner)
    ):
        return False  # "the capital" of somewhere else
    return present * 2 > len(asked.words)


def _within(sentence: str, stem: str, window: int, fits: Callable[[str], bool]) -> bool:
    """A word starting with ``stem`` with a word that ``fits`` at most ``window`` words away
    (the sentence's first word, capitalised whatever it is, never fits)."""
    tokens = WORD.findall(sentence)
    return any(
        bare(t).startswith(stem) and any(map(fits, tokens[max(1, i - window) : i + window + 1]))
        for i, t in enumerate(tokens)
    )


def _is_name(token: str) -> bool:
    """A capitalised word that can be (part of) a name: not "R-Pa." (a party and state), "Rep."."""
    t = token.rstrip(".,")
    return (
        t[:1].isupper()
        and re.fullmatch(r"[A-Z]-[A-Z][a-z]*", t) is None
        and not (token.endswith(".") and len(t) <= 3)
    )


def _names_someone(sentence: str, question: str, person: bool) -> bool:
    """A name the question lacks: for a person two capitalised words in a row ("Sundar
    Pichai"; not "CEO of Google and Alphabet", "La La Land (2016) cast and crew credits"),
    for a team or country one ("Croatia")."""
    own = {_stem(bare(w)) for w in WORD.findall(question)}
    tokens = [t for t in WORD.findall(sentence) if not re.fullmatch(r"[A-Z]\.", t)]
    new = [  # (a middle initial, "Niels B. Christiansen", is left out)
        _is_name(t)
        and not _CALENDAR.fullmatch(t.rstrip(".,"))
        and _stem(bare(t)) not in own
        and not (i == 0 and bare(t) in _STARTERS)  # capitalised only as the first word
        for i, t in enumerate(tokens)
    ]
    return any(a and b for a, b in itertools.pairwise(new)) if person else any(new)


def _name_near(word: str, sentence: str, question: str) -> bool:
    """A capitalised word the question lacks within a few words of ``word`` ("the judge,
    Anna Sotnikova"; not "A Russian judge sentenced Brittney Griner")."""
    own = {bare(w) for w in WORD.findall(question)}
    return _within(sentence, _stem(word), NAME_WINDOW, lambda u: _is_name(u) and bare(u) not in own)


# What articles are called, one list each (questions, titles and addresses all use these):
# the kinds that carry a writer's view, every kind a question may name, and the writers.
OPINION_KINDS = ("opinion", "commentary", "column", "editorial", "op-ed", "essay")
ARTICLE_KINDS = (*OPINION_KINDS, "piece", "article", "analysis", "story", "report")
WRITERS = ("columnist", "commentator", "author", "writer", "analyst")  # (not "critic": "the
#           GOP's most outspoken critic of Trump" is a person, not a piece's writer)


def alternatives(words: Sequence[str]) -> str:
    """A regex group matching any of ``words`` (for the lists above)."""
    return "(?:" + "|".join(re.escape(w) for w in words) + ")"


PIECE = alternatives(ARTICLE_KINDS)  # what a question may call an article ("the piece on ...")
_VIEWS = re.compile(
    r"\b(?:says?|argues?|argued|argument|warns?|warned|thinks?|believes?|contends?|claims?|"
    r"suggests?|proposes?|recommends?|concludes?|criticis\w*|criticiz\w*|accuses?|predicts?|"
    rf"{alternatives(OPINION_KINDS + WRITERS)}|piece|view)\b",
    re.IGNORECASE,
)


def about_views(question: str) -> bool:
    """True when the question asks what a piece argues ("What does Holly Thomas say ...",
    "Why does the commentary ..."): its answer is in one article, often not in the paragraph
    that shares the question's words."""
    return bool(_VIEWS.search(question))


_EVENT_YEAR = re.compile(r"\bthe ((?:19|20)\d\d) ((?:[A-Z][\w-]*\s?){1,4})")
# ... or after it: "Who won the Stanley Cup in 2022?", "Wimbledon 2019"
_WON = re.compile(r"(?:who|which \w+) (?:won|wins|has won|beat|took)\b")
_EVENT_THEN = re.compile(r"\b((?:[A-Z][\w.'’-]*\s){0,3}[A-Z][\w.'’-]*)\s(?:in\s)?((?:19|20)\d\d)\b")


_IN_PERIOD = re.compile(rf"\bin (?:{MONTH} )?((?:19|20)\d\d)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:did|was|were|happened|had)\b", re.IGNORECASE)


def _period_start(question: str) -> str:
    """The first day a report could tell what a question asks happened "in July 2022" or "in 2022"
    (YYYY-MM or YYYY, compared with an article's YYYY-MM-DD), or "" when it dates nothing past."""
    m = _IN_PERIOD.search(question)
    if not m or not (_PAST.search(question) or _WON.match(_plain(question).strip())):
        return ""
    month, year = m.group(1), m.group(2)
    return f"{year}-{month_number(month):02d}" if month else year


def contradicts(question: str, sentence: str, published: str | None = None) -> bool:
    """True when the question names an event by its year ("the 2022 US Open", "the Stanley Cup in
    2022") and the sentence puts that event in another year ("the US Open final in 2018", "won
    the last two Stanley Cups in 2020 and 2021") without naming the asked one. Also when the
    sentence's article (``published``, YYYY-MM-DD) is older than what the question asks about:
    what happened "in July 2022" (in the past tense) or who won a 2022 event ("Who won Wimbledon
    in 2022?", a June 2021 report on Naomi Osaka): it cannot know."""
    if published and published < _period_start(question):
        return True  # "What did the Fed do in July 2022?": not from a report of June
    m = _EVENT_YEAR.search(question)
    if m:
        year, event = m.group(1), m.group(2).split()
    elif (m := _EVENT_THEN.search(question)) and bare(m.group(1).split()[0]) not in _STARTERS:
        year, event = m.group(2), m.group(1).split()  # "the Stanley Cup in 2022"
    else:
        return False
    if published and published[:4] < year and _WON.match(_plain(question).strip()):
        return True
    if year in sentence:
        return False

    def same(a: str, b: str) -> bool:  # "Cup" and "Cups"
        return a.lower().rstrip("s") == b.lower().rstrip("s")

    tokens = [t.strip(".,") for t in WORD.findall(sentence)]
    n = len(event)
    for i in range(len(tokens) - n + 1):
        if all(same(a, b) for a, b in zip(tokens[i : i + n], event, strict=True)):
            near = tokens[max(0, i - 4) : i + n + 4]
            if any(re.fullmatch(r"(?:19|20)\d\d", u) for u in near):
                return True
    return False


COMMENTARY = re.compile(
    rf"\b(?:{alternatives(OPINION_KINDS)}|commentaries|columnist|commentator)\b", re.IGNORECASE
)


def names_commentary(question: str) -> bool:
    """True when the question asks about an opinion piece ("the CNN commentary on ...", "the
    Ottawa columnist"): opinion pieces among the candidates come first."""
    return bool(COMMENTARY.search(question))


_RECENT = re.compile(
    r"\b(?:this (?:week|month|weekend|year|summer|spring|fall|autumn|winter)|recent(?:ly)?|"
    r"latest|newest|currently|now|so far|as of|last week|new (?:poll|report|survey|study|data))\b",
    re.IGNORECASE,
)


def asks_recent(question: str) -> bool:
    """True when the question asks about what is new ("this week", "the latest", "currently")."""
    return bool(_RECENT.search(question))


# What an argument question's form asks a sentence to hold, when it says (``answer_form``):
# "What evidence does the columnist cite ...", "What figures does she give ...": a figure or its
# source; "What does the column recommend donors do ...": advice ("should", "must", "it's time to")
_EVIDENCE = re.compile(
    r"\bwhat (?:\w+ ){0,2}?(?:evidence|proof)\b|\bwhat (?:\w+ ){0,2}?(?:figures|data|statistics|"
    r"numbers)\b.*\b(?:cite|give|offer|provide|point|present|quote|use)",
    re.IGNORECASE,
)
FIGURE = re.compile(  # a share, an amount of money, a count of something measured, or a source
    rf"\d\s*%|\bper ?cent\b|{_MONEY.pattern}|\d[\d,.]*\s+(?:million|billion|trillion|tons?|"
    r"tonnes|barrels|people|jobs|deaths|cases|votes)\b|\baccording to\b|\b(?:study|studies|"
    r"survey|poll|polls|data|research|census|statistics|estimates?)\b|\bshare of\b",
    re.IGNORECASE,
)
_RECOMMEND = re.compile(
    r"\bwhat (?:does|do|did) .*\b(?:recommend|urge|advise|call (?:on|for)|want .* to do)|"
    r"^what (?:\w+ ){0,3}should\b",
    re.IGNORECASE,
)
ADVICE = re.compile(
    r"\b(?:should|must|ought to|have to|has to|time to|let's|let us)\b|(?<!the )\bneeds? to\b",
    re.IGNORECASE,
)


def answer_form(question: str) -> re.Pattern[str] | None:
    """What a sentence answering ``question`` holds, when its form says so: a figure or its
    source when it asks for evidence, advice when it asks what a piece recommends. Only
    preferred among close sentences (api.py), never required: a piece's evidence may be a
    story, its advice a plain statement.

    >>> answer_form("What evidence does the columnist cite that most drivers disagree?") is FIGURE
    True
    >>> answer_form("What does Samuel Adkisson recommend donors do?") is ADVICE
    True
    >>> answer_form("What public figures attended the funeral?") is None
    True
    """
    q = question.strip()
    if _EVIDENCE.search(q):
        return FIGURE
    if _RECOMMEND.search(q):
        return ADVICE
    return None
