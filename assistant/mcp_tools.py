"""What the MCP server's tools do, over the Python API: plain data in, JSON-ready data out.

Nothing here knows MCP (``mcp_server.py`` wires these functions to the protocol). Each takes the
``Assistant`` first and raises ``AssistantError`` with the one line the CLI would print for
bad input, so an agent reads the same message a person does.

>>> from assistant.api import Assistant                                          # doctest: +SKIP
>>> ask(Assistant(), "What has Russia offered in return?")["citations"][0]["author"]  # doctest: +SKIP
'Stefan Wolff'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.api import check_question
from assistant.errors import InputError
from assistant.ingest.corpus import blocks
from assistant.types import Filters

if TYPE_CHECKING:
    from assistant.api import Assistant

MAX_SEARCH_K = 50  # the same ceiling as ask's k
MAX_PAGE = 200  # articles per list_articles page


def ask(
    a: Assistant,
    question: str,
    outlet: str | None = None,
    author: str | None = None,
    since: str | None = None,
    until: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The answer object (docs/interfaces.md) for ``question``. ``options`` (k, mode, by, ...)
    go to ``Assistant.ask`` under their own names, so a new keyword there is a new tool input
    with no change here."""
    check_question(question, a.settings.answer.max_question_chars)  # before any work, as the CLI
    filters = Filters.parse(outlet, author, since, until)
    a.ensure_index()
    given = {name: value for name, value in options.items() if value is not None}
    return a.ask(question, filters=filters, **given).to_dict()


def search(
    a: Assistant,
    query: str,
    k: int = 10,
    outlet: str | None = None,
    author: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """The ``k`` best passages for ``query``, best first, with their article's metadata."""
    check_question(query, a.settings.answer.max_question_chars)
    if not 1 <= k <= MAX_SEARCH_K:
        raise InputError(f"k must be between 1 and {MAX_SEARCH_K} (got {k}).")
    filters = Filters.parse(outlet, author, since, until)
    a.ensure_index()
    passages = a.passages(query, k=k, filters=filters)
    return {
        "query": query,
        "passages": [
            {"rank": i, "article_id": p.article_id, **record(p),
             "paragraph": p.paragraph, "text": p.text, "score": round(p.score, 4)}
            for i, p in enumerate(passages, 1)
        ],
    }  # fmt: skip


RECORD = ("title", "author", "outlet", "published", "url")


def record(x: Any) -> dict[str, Any]:
    """The article record every tool reports (a passage's, a corpus article's, a catalog row's)."""
    return {k: getattr(x, k) for k in RECORD}


def get_article(
    a: Assistant, article_id: str, first: int | None = None, last: int | None = None
) -> dict[str, Any]:
    """One article's metadata and its paragraphs ``first``..``last`` (numbered from 1, as
    citations number them; both optional), each with the section heading it stands under."""
    article = a.library.corpus.read(article_id.strip())
    numbered, heading = [], None
    for b in blocks(article.body):
        if b.kind == "heading":
            heading = b.text
        else:
            numbered.append({"n": b.paragraph, "section": heading, "text": b.text})
    total = len(numbered)
    start, end = first or 1, last or total
    if start < 1 or end < start or (total and start > total):
        raise InputError(
            f"Paragraphs {start}..{end} are not in {article.id} (it has {total}): "
            f"give first and last between 1 and {total}, first <= last."
        )
    return {
        "id": article.id, **record(article),
        "paragraphs_total": total, "paragraphs": numbered[start - 1 : end],
    }  # fmt: skip


def list_articles(
    a: Assistant,
    outlet: str | None = None,
    author: str | None = None,
    since: str | None = None,
    until: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """One page of the articles the filters admit, newest first (undated ones last)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE} (got {limit}).")
    if offset < 0:
        raise InputError(f"offset must be 0 or more (got {offset}).")
    filters = Filters.parse(outlet, author, since, until)
    a.ensure_index()
    rows = a.library.catalog.articles()
    allowed = a.library.stores.allowed_articles(filters)  # the filters ask and search use
    if allowed is not None:
        keep = set(allowed)
        rows = [r for r in rows if r.id in keep]
    rows.sort(key=lambda r: (r.published or "", r.added or "", r.id), reverse=True)
    rows.sort(key=lambda r: r.published is None)  # stable: dated ones stay newest first
    page = rows[offset : offset + limit]
    return {
        "total": len(rows),
        "offset": offset,
        "next_offset": offset + limit if offset + limit < len(rows) else None,
        "articles": [
            {"id": r.id, **record(r), "passages": r.n_passages}
            for r in page
        ],
    }  # fmt: skip


def add_article(
    a: Assistant,
    text: str | None = None,
    url: str | None = None,
    title: str | None = None,
    author: str | None = None,
    outlet: str | None = None,
    published: str | None = None,
) -> dict[str, Any]:
    """Add one article from its text or an http(s) address; ``{"id", "status", "line"}`` where
    status is ``added`` or ``duplicate`` (of ``id``). A failure raises, with the CLI's line."""
    from assistant.ingest.sources import RawDoc, decode, looks_like_html, read_sources, web_address

    if bool(text and text.strip()) == bool(url and url.strip()):
        raise InputError("Give either text (the article itself) or url (an http(s) address).")
    flags = {"title": title, "author": author, "outlet": outlet, "published": published}
    if url:
        try:
            address = web_address(url)  # never a path: an agent must not read the server's disk
        except InputError:
            raise InputError(
                "url must be a web address starting with http:// or https://; "
                "to add a document that is not on the web, send its text as text."
            ) from None
        items: Any = read_sources([address], a.settings.ingest)
    else:
        body = decode((text or "").encode(), "text", a.settings.ingest.max_bytes,
                      typed="Send the article's text as text.")  # fmt: skip
        kind = "html" if looks_like_html(body) else "text"
        items = iter([RawDoc("text", body, kind)])
    results = a.add(items, {k: v for k, v in flags.items() if v})
    if not results:
        raise InputError("Nothing to add.")
    first = results[0]
    if first.status == "error":
        raise InputError(first.line())
    return {"id": first.id, "status": first.status, "line": first.line()}


def article_markdown(a: Assistant, article_id: str) -> str:
    """The article file as stored (front matter, then the body), as ``assistant show`` prints it."""
    return a.library.corpus.read_text(article_id)
