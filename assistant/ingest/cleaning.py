"""Turn text as it arrives from websites into a clean article with metadata.

Three entry points share one set of paragraph rules:

* ``clean_text``: plain text copied from a web page;
* ``clean_markdown``: Markdown, optionally with YAML front matter holding metadata;
* ``clean_html``: an HTML page; trafilatura finds the main text and the metadata.

The rules are general, not tied to one site: photo captions (a paragraph ending in a photo
credit), bylines (``By Jane Doe | Outlet | March 3, 2025``), datelines (``Published on ...``,
or a line near the top that is only a date: ``Apr 23, 2025``, ``Fri, 25 Apr 2025 06:00AM``),
source lines (``Source: Reuters``),
short promotional prompts (subscribe, follow us, read more, advertisement, ...), widget blocks,
trailing promo blocks and tag lines are removed; the first headline-like line becomes the title;
ALL-CAPS lines become ``## `` headings. Metadata from front matter or HTML meta tags wins over
text heuristics, and nothing is invented: a field the source does not state stays ``None``.
Article text (curly quotes, dashes, literal ``<script>`` text) is kept verbatim.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from assistant.bylines import BIO as _BIO
from assistant.errors import InputError
from assistant.text import MONTH as _MONTH
from assistant.text import parse_date

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cleaned:
    """A cleaned article: Markdown body (paragraphs split by one blank line) and metadata."""

    body: str
    title: str | None
    author: str | None
    outlet: str | None
    published: str | None  # YYYY-MM-DD, only when the source states it
    url: str | None


_ZERO_WIDTH = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c]"
)  # and LRM/RLM/ALM
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile("[ \t\u00a0\u2007\u202f\u2000-\u200a\u3000]+")
_STRUCTURAL = re.compile(r"^(?:#{1,6}\s|[-*+>]\s|\d+[.)]\s)")  # headings, list items, quotes
_LIST_ITEM = re.compile(r"^(?:[-*+]\s|\d+[.)]\s)")
_TERMINAL = re.compile(r"[.!?…:;。！？：；؟۔][\"'”’)\]」』）》]*$")
_CREDIT = re.compile(
    r"(\((?:[a-z ]{0,20}\b)?(?:photo|image|picture|photograph|credit|reuters|afp|getty|epa)"
    r"s?\b[^)]*\)\s*\.?"
    r"|\b(?:reuters|afp|ap photo|ap|getty images|bloomberg|epa(?:-efe)?|file photo|xinhua"
    r"|shutterstock)(?:/[\w .’'-]+)*)$",
    re.IGNORECASE,
)
_CREDIT_LINE = re.compile(r"^(?:photo|image|picture|credit|photograph)s?\s*:", re.IGNORECASE)
_BYLINE = re.compile(r"^by\b\s*(?P<rest>.*)$", re.IGNORECASE)
_BYLINE_SPLIT = re.compile(r"\s*[·|•]\s*|\s+[—–-]\s+")
_NAME_PARTICLES = {"and", "&", "de", "van", "von", "der", "da", "di", "la", "le", "bin", "al"}
_BUTTONS = {"join", "follow", "share", "subscribe", "more"}
_SOURCE = re.compile(r"^source:\s*(?P<src>.{1,60})$", re.IGNORECASE)
_DATELINE = re.compile(r"^(?:published|posted|first published)(?: on)?:?\s+(?P<d>.{6,40})$", re.I)
# A line that is only a date (a weekday before it, a time after it): a dateline.
_DATE_ONLY = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?:\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?(?:\s*\(?[a-z]{2,5}\)?)?)?\.?$",
    re.IGNORECASE,
)
_DATELINE_WITHIN = 3  # a date line counts only among the first paragraphs, not in a timeline
# A place and outlet on a line of their own before the text ("Washington CNN —", "New York CNN
# Business —"): a dateline, not the article's title.
_PLACE_LINE = re.compile(r"^(?:[A-Z][\w.'’()-]*,?\s+){0,6}[A-Z][\w.'’()]*\s*[—–]$")
_TAGS = re.compile(r"^(?:topics|tags|related topics|filed under|categories)\s*:", re.IGNORECASE)
_KICKERS = {"opinion", "commentary", "analysis", "editorial", "perspective", "column", "comment"}
# Promo vocabulary: broad words count only on very short lines, imperative phrases on short ones.
_PROMO_BROAD = re.compile(
    r"\b(newsletters?|subscribe|sign up|advertisement|sponsored|whatsapp|telegram|alerts?|app"
    r"|download|notifications?|in your inbox|cookies?|all rights reserved|copyright|most read"
    r"|recommended|related (?:articles|stories)|join (?:here|our|us)|follow us|share)\b|©",
    re.IGNORECASE,
)
_PROMO_STRICT = re.compile(
    r"\b(click here|tap here|sign up (?:for|to|here|now)|subscribe (?:here|now|today)"
    r"|follow us|share this (?:article|story)|read more|also read|download (?:here|the|our)"
    r"|join (?:here|our channel)|give it a try|return to (?:top|home|homepage|the (?:top|homepage)))\b",
    re.IGNORECASE,
)
_PROMPT_VERB = re.compile(
    r"^\W*(?:subscribe|sign|download|get|join|follow|share|click|tap|read|watch|listen|stay)\b",
    re.IGNORECASE,
)
_STANDFIRST_AUTHOR = re.compile(
    r"\b(?:says|writes|argues|explains|observes|warns)\s+(?:[a-z][\w’'-]*\s+|[A-Z]{2,}\s+)*?"
    r"(?P<name>[A-Z][a-z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,3})\s*\.$"
)
# a photo gallery: "Photos: <gallery> <caption> Hide Caption 12 of 44", however it was split
_GALLERY = re.compile(r"^(?:Photos?:.*)?\bHide Caption \d+ of \d+\b", re.DOTALL)
# a news site's video widget caught with the text: "JUST WATCHED <title> Replay More Videos ...
# MUST WATCH <title> 01:55"
_VIDEO_WIDGET = re.compile(
    r"^(?:JUST WATCHED|MUST WATCH)\b.{0,400}?(?:Replay More Videos|\d\d:\d\d$)"
)


def _normalise(raw: str) -> str:
    """Return ``raw`` with Unix newlines, plain spaces, no zero-width chars, stripped lines."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = _ZERO_WIDTH.sub("", text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def whole_characters(value: str) -> str:
    """``value`` with each lone surrogate (half a character: what Python makes of invalid bytes,
    and what JSON can spell as "\\ud800") made U+FFFD, so that it can be written as UTF-8."""
    return _SURROGATE.sub("\ufffd", value)


def safe_text(value: str, keep_lines: bool = False) -> str:
    """Return ``value`` safe to store, print and send as JSON: lone surrogates (what Python
    makes of invalid bytes in arguments and file names) become U+FFFD and control characters a
    space — line breaks and tabs too, unless ``keep_lines``.

    >>> safe_text("caf\\udce9 \\x07bell\\nline")
    'caf\ufffd  bell line'
    """
    text = _CONTROL.sub(" ", whole_characters(value))
    return text if keep_lines else re.sub(r"[\t\n\r]", " ", text)


# Characters that change how a line is shown without being seen: bidi embeddings, overrides,
# isolates and marks, and zero-width spaces ("gnp.exe" behind U+202E shows as "exe.png").
# ZWJ and ZWNJ stay: Persian, Indic scripts and emoji need them.
_INVISIBLE = re.compile(
    "[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def field_text(value: str) -> str:
    """A metadata field (title, author, outlet, ...) safe to store and show on one line:
    ``safe_text`` without the characters that reorder or hide what is shown.

    >>> field_text("report\u202egnp.exe\u200b")
    'reportgnp.exe'
    """
    return _INVISIBLE.sub("", safe_text(value))


def _words(text: str) -> int:
    """Return the number of words in ``text``: whitespace-separated ones, and each Chinese or
    Japanese character (those scripts put no spaces between words)."""
    unspaced = len(_UNSPACED.findall(text))
    return len((_UNSPACED.sub(" ", text) if unspaced else text).split()) + unspaced


def _is_caption(par: str) -> bool:
    """Return True if ``par`` is a photo caption or image credit."""
    if _words(par) > 80:
        return False
    if _CREDIT_LINE.match(par) and _words(par) <= 30:
        return True
    match = _CREDIT.search(par)
    return match is not None and (match.group(0).startswith("(") or not par.endswith("."))


def _is_promo(par: str) -> bool:
    """Return True if ``par`` is a short share/subscribe/newsletter/read-more style prompt."""
    n = _words(par)
    if (_TAGS.match(par) and n <= 40) or _VIDEO_WIDGET.match(par) or _GALLERY.search(par):
        return True
    prompt_like = not _TERMINAL.search(par) or bool(_PROMPT_VERB.match(par))
    return (n <= 30 and bool(_PROMO_STRICT.search(par))) or (
        n <= 10 and prompt_like and bool(_PROMO_BROAD.search(par))
    )


def _is_headline(par: str) -> bool:
    """Return True if ``par`` looks like a title or heading: short, one line, no final period."""
    return (
        0 < _words(par) <= 25
        and len(par) <= 200
        and "\n" not in par
        and not par.endswith((".", ",", ";", ":"))
        and (par[0].isupper() or par[0] in "“‘\"'「『《" or _caseless_letter(par[0]))
    )


def _caseless_letter(char: str) -> bool:
    """Return True for a letter of a script without capitals (Arabic, Hebrew, Chinese, ...)."""
    return char.isalpha() and char.lower() == char.upper()


def _is_caps_heading(par: str) -> bool:
    """Return True if ``par`` is an ALL-CAPS section heading."""
    letters = [c for c in par if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and _is_headline(par)


def _parse_byline(par: str) -> dict[str, str] | None:
    """Return the author/outlet/published a byline states, or None if ``par`` is no byline."""
    match = _BYLINE.match(par)
    if not match or _words(par) > 20 or par.endswith("."):
        return None
    first, *rest = _BYLINE_SPLIT.split(match["rest"])
    tokens = first.replace(",", " ").split()
    if not all(t[0].isupper() or t.lower() in _NAME_PARTICLES for t in tokens):
        return None
    found = {"author": first.strip()} if tokens else {}
    for part in filter(None, (p.strip() for p in rest)):
        if date := parse_date(part):
            found.setdefault("published", date)
        elif part.lower() not in _BUTTONS and part[0].isupper():
            found.setdefault("outlet", part)
    return found


def _split_lines(block: str) -> list[str]:
    """Return the paragraphs in a block of lines: wrapped lines joined, whole lines kept apart."""
    pars: list[str] = []
    for line in block.split("\n"):
        if pars and _LIST_ITEM.match(line) and _LIST_ITEM.match(pars[-1].split("\n")[-1]):
            pars[-1] += "\n" + line  # a list stays one block, one item a line
            continue
        joinable = pars and not _TERMINAL.search(pars[-1]) and not _STRUCTURAL.match(pars[-1])
        if joinable and not _STRUCTURAL.match(line) and (line[0].islower() or len(pars[-1]) >= 60):
            unspaced = _UNSPACED.match(line) and _UNSPACED.match(pars[-1][-1])
            pars[-1] += ("" if unspaced else " ") + line
        else:
            pars.append(line)
    return pars


def _paragraphs(text: str) -> list[str]:
    """Return the paragraphs of normalised text; multi-line promo widgets are dropped whole."""
    pars: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        widget = len(lines) > 1 and all(_words(line) <= 15 for line in lines)
        if widget and any(_is_promo(line) for line in lines):
            continue
        pars.extend(_split_lines("\n".join(lines)))
    return pars


def _strip_boilerplate(pars: list[str], meta: dict[str, str]) -> list[str]:
    """Return ``pars`` without captions, bylines, source/date/tag lines and promos.

    Metadata the removed lines state is added to ``meta`` where it is still missing.
    """
    kept: list[str] = []
    for par in pars:
        if (byline := _parse_byline(par)) is not None:
            for key, value in byline.items():
                meta.setdefault(key, value)
        elif source := _SOURCE.match(par):
            meta.setdefault("outlet", source["src"].split("/")[0].strip())
        elif (dateline := _DATELINE.match(par)) and parse_date(dateline["d"]):
            meta.setdefault("published", parse_date(dateline["d"]) or "")
        elif len(kept) <= _DATELINE_WITHIN and _DATE_ONLY.match(par) and parse_date(par):
            meta.setdefault("published", parse_date(par) or "")
        elif len(kept) <= _DATELINE_WITHIN and _PLACE_LINE.match(par):
            continue
        elif not (_is_caption(par) or _is_promo(par) or (not kept and par.lower() in _KICKERS)):
            kept.append(par)
    while kept and _words(kept[-1]) <= 20 and not _TERMINAL.search(kept[-1]):
        if len(kept) == 1 and _words(kept[0]) >= 8:
            break  # a lone line of substance is the text itself (a search snippet), not a promo
        kept.pop()  # trailing promo block: short lines without a full stop after the article
    return kept


def _title_and_headings(pars: list[str], meta: dict[str, str]) -> list[str]:
    """Return ``pars`` with the title line removed (recorded in ``meta``) and ``## `` headings."""
    if pars:
        first = pars[0].lstrip("#").strip()
        known = meta.get("title")
        if known and (pars[0].startswith("# ") or first.casefold() == known.casefold()):
            pars = pars[1:]  # a level-1 heading is the page title, never a section
        elif not known and (pars[0].startswith("# ") or (_is_headline(first) and len(pars) > 1)):
            # (a lone short line is the text itself, not a title over nothing)
            meta["title"], pars = first, pars[1:]
    out = []
    for par in pars:
        if heading := re.match(r"^#{1,6}\s+(.+)$", par):
            out.append("## " + heading[1].strip().rstrip("#").strip())
        elif _is_caps_heading(par):
            out.append("## " + par)
        else:
            out.append(par)
    return out


def clean_author(author: str, outlet: str | None = None) -> tuple[str, str | None]:
    """The byline without a site's section label or desk, and the label.

    Scraped CNN bylines read "Opinion Andrew Cohen", "Analysis Stephen Collinson" or
    "Paul R. La Monica, Cnn Business": the reader wants the names.

    >>> clean_author("Opinion Andrew Cohen")
    ('Andrew Cohen', 'Opinion')
    >>> clean_author("Analysis Nectar Gan, Cnn'S Beijing Bureau", "CNN")
    ('Nectar Gan', 'Analysis')
    >>> clean_author("Kate Analysis")
    ('Kate Analysis', None)
    """
    label = None
    first, _, rest = author.strip().partition(" ")
    if first.rstrip(":").lower() in _KICKERS and rest.strip():
        label = first.rstrip(":").capitalize()
        author = re.sub(r"^by\s+", "", rest.strip(), flags=re.IGNORECASE)
    if outlet:
        desk = re.compile(rf"^{re.escape(outlet)}\b", re.IGNORECASE)
        parts = [p for p in re.split(r"\s*,\s*", author) if not desk.match(p)]
        author = ", ".join(parts) or author
    return author.strip(), label


def _guess_author(pars: list[str]) -> str | None:
    """Return the author named by a standfirst ("..., says expert Name.") or a closing bio line."""
    text = [p for p in pars if not p.startswith("## ")]
    for par in text[:2]:
        if match := _STANDFIRST_AUTHOR.search(par):
            return match["name"]
    closing = text[1:][-3:]  # not the first paragraph: a text that *is* a bio has no author line
    for par in reversed(closing):
        if match := _BIO.match(par):
            return match["name"]
    return None


def _markdown_inline(text: str) -> str:
    """Return Markdown text with images dropped, links reduced to their text, emphasis removed."""
    text = re.sub(r"^!\[[^\]]*\]\([^)]*\)\s*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)


def _finish(pars: list[str], meta: dict[str, str], what: str) -> Cleaned:
    """Return the Cleaned article; raise InputError if no article text is left."""
    pars = _title_and_headings(_strip_boilerplate(pars, meta), meta)
    if not any(not p.startswith("## ") and re.search(r"\w", p) for p in pars):
        raise InputError(
            f"No article text found after cleaning: the {what} held only boilerplate or was "
            "empty. Paste the article's full text (title and paragraphs), not just a link or menu."
        )
    if not meta.get("author"):
        meta["author"] = _guess_author(pars) or ""
    return Cleaned(
        body="\n\n".join(pars),
        **{k: meta.get(k) or None for k in ("title", "author", "outlet", "published", "url")},
    )


def clean_text(raw: str) -> Cleaned:
    """Return the cleaned article found in plain text copied from a web page."""
    return _finish(_paragraphs(_normalise(raw or "")), {}, "text")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Return (metadata from a leading YAML ``---`` block, the rest of the text); a block that
    is not fields (a list, a bare line) gives no metadata and is dropped all the same."""
    from assistant.ingest.corpus import front_matter, yaml_problem
    from assistant.ingest.yamlfile import YAMLError

    try:
        found = front_matter(text)
    except YAMLError as exc:
        raise InputError(
            f"the Markdown front matter is not valid YAML ({yaml_problem(exc, first_line=2)})."
        ) from None
    if found is None:
        return {}, text
    data, text = found
    if not isinstance(data, dict):
        data = {}
    from assistant.ingest.schema import ArticleMeta

    # the schema every file's metadata goes through: `title: [a, b]` is refused, not "['a', 'b']"
    names = ("title", "author", "outlet", "url")
    checked = ArticleMeta.check({k: data.get(k) for k in names}, "the front matter", yaml=True)
    meta = {k: v for k in names if (v := getattr(checked, k))}
    # an added file's unclear date ("sometime last spring", 2024-02-30) is left unknown, as
    # any metadata the source does not state clearly; a stored file's must be real (corpus.py)
    if data.get("published") and (published := parse_date(str(data["published"]))):
        meta["published"] = published
    return meta, text


def clean_markdown(raw: str) -> Cleaned:
    """Return the cleaned article in Markdown text, using YAML front matter metadata first."""
    meta, text = _front_matter(_normalise(raw or "").lstrip("\n"))
    return _finish(_paragraphs(_markdown_inline(text)), meta, "Markdown")


class _AsDebug(logging.Handler):
    """Hands a library's log records on to ours at DEBUG level."""

    def emit(self, record: logging.LogRecord) -> None:
        _log.debug("%s: %s", record.name, record.getMessage())


def _route_library_logs() -> None:
    """trafilatura's own records ("ERROR: empty HTML tree") go through our logging, as debug
    detail: the page's problem is reported once, as our own one line, not twice on stderr."""
    lib = logging.getLogger("trafilatura")
    if not any(isinstance(h, _AsDebug) for h in lib.handlers):
        lib.addHandler(_AsDebug())
    lib.propagate = False  # set each time: a logging.config call elsewhere (Chroma's) resets it


def clean_html(html: str, url: str | None = None) -> Cleaned:
    """Return the cleaned main article of an HTML page (text and metadata via trafilatura)."""
    import trafilatura

    _route_library_logs()
    html = html or ""
    extracted = None
    if html.strip():
        extracted = trafilatura.extract(
            html, url=url, output_format="markdown", include_comments=False,
            include_tables=False, include_images=False, include_links=False,
        )  # fmt: skip
    meta: dict[str, str] = {"url": url or ""}
    if extracted:
        doc = trafilatura.extract_metadata(html, default_url=url, extensive=False)
        found = {"title": doc.title, "author": doc.author, "outlet": doc.sitename}
        meta.update({k: v.strip() for k, v in found.items() if v and v.strip()})
        meta["url"] = url or doc.url or ""
        meta["published"] = stated_date(html, url) or ""
    meta = {k: v for k, v in meta.items() if v}
    text = _normalise(_markdown_inline(extracted or ""))
    return _finish(_paragraphs(text), meta, "HTML page")


_DATE_MARKUP = re.compile(r"date|time|publish|posted|byline", re.IGNORECASE)


def stated_date(html: str, url: str | None = None) -> str | None:
    """The publication date a page's markup states (YYYY-MM-DD), or None.

    htmldate reads meta tags (``article:published_time``, ``date``, Dublin Core...), JSON-LD
    ``datePublished``, ``<time>`` elements, elements whose class or id names a date, and a full
    date in the URL (only when the markup states none). Its text-pattern fallbacks would take any date the article
    mentions, so it is given the page with the text of every other element removed: a date in
    the prose is never taken for the publication date.
    """
    import datetime as dt

    from htmldate import find_date
    from trafilatura import load_html

    tree = load_html(html)
    body = tree.find(".//body") if tree is not None else None
    if tree is None or body is None:
        return None
    for el in body.iter():
        attrs = " ".join(el.get(a) or "" for a in ("class", "id", "itemprop", "property", "name"))
        if isinstance(el.tag, str) and (el.tag in ("time", "abbr") or _DATE_MARKUP.search(attrs)):
            for inner in el.iter():
                if isinstance(inner.tag, str):
                    inner.set("data-ca-stated", "")
    for el in body.iter():
        if el.get("data-ca-stated") is None and not (el.tag == "script" and el.get("type")):
            el.text = None  # keeps JSON-LD (<script type="application/ld+json">)
        parent = el.getparent()
        if parent is not None and parent.get("data-ca-stated") is None:
            el.tail = None
    options: dict[str, Any] = {"extensive_search": False, "original_date": True,
                               "max_date": dt.date.today().isoformat()}  # fmt: skip
    # the markup first ("" stops htmldate reading the URL), then a full date in the URL
    found = find_date(tree, url="", **options) or (url and find_date(tree, url=url, **options))
    return parse_date(found) if found else None


__all__ = [
    "Cleaned",
    "clean_html",
    "clean_markdown",
    "clean_text",
    "parse_date",
    "safe_text",
    "stated_date",
]
