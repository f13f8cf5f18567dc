"""The library as a Model Context Protocol server: tools, article resources and their errors.

``build_server(assistant, may_write)`` gives the ``mcp`` SDK's ``MCPServer`` with the tools
``ask``, ``search``, ``get_article``, ``list_articles`` and ``add_article`` (what each does is in
``mcp_tools.py``) and every article as the resource ``article://ID``. ``assistant mcp`` runs it
over stdio (``run_stdio``); the web app serves it over streamable HTTP at ``/mcp``
(``web/mcp_endpoint.py``). Bad input is a tool error (``is_error``) or, for a resource, a
protocol error, whose message is the CLI's one line; over HTTP server paths are cut from it,
as in the web app. The ``mcp`` SDK is imported inside the functions: importing this module
costs nothing.
"""

import inspect
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from assistant import mcp_schema as out
from assistant import mcp_tools
from assistant.errors import AssistantError
from assistant.text import count

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context, MCPServer

    from assistant.api import Assistant

# Who may call add_article: the refusal for this request's caller, or None when allowed.
WriteRule = Callable[["Context | None"], "str | None"]

NAME = "commentary-assistant"
INSTRUCTIONS = (
    "A curated library of news commentary. Every answer is quoted from its articles with "
    "numbered citations [n] (author, outlet, date, paragraph); when the library does not cover "
    "a question, ask says so (refused: true) instead of guessing. Quote the citations you use. "
    "Articles are also resources: article://ID."
)

# No `from __future__ import annotations` here: the SDK reads the tools' annotations as objects,
# and some of their types are imported inside build_server.

# Inputs shared by several tools. Ranges and choices are published in the schema for agents
# but checked by the library, so a wrong value gets the CLI's own one-line message.
Outlet = Annotated[str | None, Field(description="only articles from this outlet (exact name)")]
Author = Annotated[
    str | None, Field(description="only articles by this author (part of the name is enough)")
]
Since = Annotated[
    str | None, Field(description="only articles published on or after this date, YYYY-MM-DD")
]
Until = Annotated[
    str | None, Field(description="only articles published on or before this date, YYYY-MM-DD")
]


def writes_allowed(allowed: bool) -> WriteRule:
    """The write rule of ``assistant mcp``: everything, or nothing (``--allow-writes``)."""
    refusal = (
        "Writes are off: this MCP server was started without --allow-writes. "
        "Restart it with: assistant mcp --allow-writes"
    )
    return lambda ctx: None if allowed else refusal


def build_server(assistant: "Assistant", may_write: WriteRule, public: bool = False) -> "MCPServer":
    """The MCP server over ``assistant``'s library. ``public``: error messages lose server
    paths (the HTTP endpoint, like the web app)."""
    import anyio
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
    from mcp_types import CallToolResult, TextContent, ToolAnnotations
    from mcp_types import Resource as MCPResource
    from pydantic import ValidationError

    from assistant.cli import format_answer
    from assistant.errors import NotFoundError
    from assistant.web.render import public_message

    shown: Callable[[str], str] = public_message if public else (lambda m: m)
    # Questions run two at a time (one per core, as in the web app), additions one at a time.
    readers, writers = anyio.CapacityLimiter(2), anyio.CapacityLimiter(1)

    class LibraryServer(MCPServer):
        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            """The SDK's call, with the library's and pydantic's errors as one plain line."""
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as e:
                cause = e.__cause__
                if isinstance(cause, AssistantError):
                    raise ToolError(shown(" ".join(str(cause).split()))) from cause
                if isinstance(cause, ToolError):  # raised by the tool itself: a refusal
                    raise ToolError(str(cause)) from cause
                if isinstance(cause, ValidationError):
                    raise ToolError(_validation_line(name, cause)) from cause
                raise

        async def list_resources(self) -> list[MCPResource]:
            """The newest articles (200) as ``article://ID``; list_articles pages through all."""
            page = await anyio.to_thread.run_sync(
                lambda: mcp_tools.list_articles(assistant, limit=mcp_tools.MAX_PAGE)
            )
            return [
                MCPResource(uri=f"article://{r['id']}", name=r["id"], title=r["title"],
                            description=_byline(r), mime_type="text/markdown")
                for r in page["articles"]
            ]  # fmt: skip

    server = LibraryServer(NAME, instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    async def run(fn: Callable[..., Any], *args: Any, limiter: Any = readers, **kw: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: fn(assistant, *args, **kw), limiter=limiter)

    def result(data: dict[str, Any], text: str) -> CallToolResult:
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=data
        )

    @server.tool(annotations=read_only)
    async def ask(
        question: Annotated[str, Field(description="the question, in plain words (at most 2,000 characters)")],
        mode: Annotated[str | None, Field(description="'viewpoints': one entry per article (who says what); 'timeline': the same, oldest first; 'answer': an ordinary answer whatever the wording; default: the wording decides", json_schema_extra={"enum": ["answer", "viewpoints", "timeline", None]})] = None,
        by: Annotated[str | None, Field(description="group a viewpoints answer by 'article', 'author' or 'outlet'", json_schema_extra={"enum": ["article", "author", "outlet", None]})] = None,
        k: Annotated[int | None, Field(description="citations at most, 1 to 50 (default 5)", json_schema_extra={"minimum": 1, "maximum": 50})] = None,
        as_of: Annotated[str | None, Field(description="ask as on this day (YYYY-MM-DD): articles published after it are not used")] = None,
        outlet: Outlet = None, author: Author = None, since: Since = None, until: Until = None,
    ) -> Annotated[CallToolResult, out.AnswerObject]:  # fmt: skip
        """Answer a question from the library with quoted, cited sentences, or say that the
        library does not support an answer (refused: true). Returns the answer object: answer
        (with [n] markers), refused, support, citations (n, article_id, title, author, outlet,
        published, url, paragraph, quote, passage, score)."""
        given = locals()  # read by the names in ask_options only
        options = {name: given[name] for name in ask_options}
        data = await run(mcp_tools.ask, question, outlet, author, since, until, **options)
        return result(data, format_answer(data))

    # Every input of ask but the question and the filters goes to Assistant.ask under its own
    # name: a new keyword there (as_of, say) is one new parameter line above.
    filters = ("question", "outlet", "author", "since", "until")
    ask_options = [name for name in inspect.signature(ask).parameters if name not in filters]

    @server.tool(annotations=read_only)
    async def search(
        query: Annotated[str, Field(description="what to look for")],
        k: Annotated[int, Field(description="passages, 1 to 50", json_schema_extra={"minimum": 1, "maximum": 50})] = 10,
        outlet: Outlet = None, author: Author = None, since: Since = None, until: Until = None,
    ) -> Annotated[CallToolResult, out.SearchResult]:  # fmt: skip
        """The library's passages that best match a query, ranked, with their article's title,
        author, outlet, date and paragraph number; no answer is composed. Use get_article to
        read around a passage."""
        data = await run(mcp_tools.search, query, k, outlet, author, since, until)
        lines = [f"[{p['rank']}] {p['title'] or p['article_id']} ({p['article_id']}) ¶{p['paragraph']}: "
                 f"{p['text']}" for p in data["passages"]]  # fmt: skip
        return result(data, "\n".join(lines) or "No passage matches.")

    @server.tool(annotations=read_only)
    async def get_article(
        article_id: Annotated[str, Field(description="the article's id (from a citation, search or list_articles)")],
        first: Annotated[int | None, Field(description="first paragraph to return (numbered from 1 as in citations)")] = None,
        last: Annotated[int | None, Field(description="last paragraph to return")] = None,
    ) -> Annotated[CallToolResult, out.ArticleText]:  # fmt: skip
        """One article's metadata and text as numbered paragraphs, whole or a range (e.g. the
        paragraphs around a cited one)."""
        data = await run(mcp_tools.get_article, article_id, first, last)
        head = f"{data['title'] or data['id']} — {_byline(data)}"
        body = [f"¶{p['n']} {p['text']}" for p in data["paragraphs"]]
        return result(data, "\n\n".join([head, *body]))

    @server.tool(annotations=read_only)
    async def list_articles(
        outlet: Outlet = None, author: Author = None, since: Since = None, until: Until = None,
        offset: Annotated[int, Field(description="articles to skip (the previous page's next_offset)")] = 0,
        limit: Annotated[int, Field(description="articles per page, 1 to 200", json_schema_extra={"minimum": 1, "maximum": 200})] = 50,
    ) -> Annotated[CallToolResult, out.ArticlePage]:  # fmt: skip
        """The library's articles, newest first (undated last), filtered and paged: id, title,
        author, outlet, published, url, number of passages; total and next_offset."""
        data = await run(mcp_tools.list_articles, outlet, author, since, until, offset, limit)
        lines = [
            f"{r['id']}  {r['title'] or '(untitled)'} — {_byline(r)}" for r in data["articles"]
        ]
        return result(data, "\n".join([*lines, count(data["total"], "article")]))

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, open_world_hint=True
        )
    )
    async def add_article(
        ctx: Context,
        text: Annotated[str | None, Field(description="the article itself (plain text, Markdown or HTML); or give url")] = None,
        url: Annotated[str | None, Field(description="an http:// or https:// address to fetch the article from")] = None,
        title: Annotated[str | None, Field(description="the title, when the text does not state it")] = None,
        author: Annotated[str | None, Field(description="the author, when the source does not state it")] = None,
        outlet: Annotated[str | None, Field(description="the outlet, when the source does not state it")] = None,
        published: Annotated[str | None, Field(description="publication date YYYY-MM-DD, when the source does not state it")] = None,
    ) -> Annotated[CallToolResult, out.Added]:  # fmt: skip
        """Add one article to the library from its text or a web address (only when this
        server allows writes). Returns its id and status: added, or duplicate (of that id)."""
        if (refusal := may_write(ctx)) is not None:
            raise ToolError(refusal)
        data = await run(mcp_tools.add_article, text, url, title, author, outlet, published,
                         limiter=writers)  # fmt: skip
        return result(data, data["line"])

    @server.resource("article://{article_id}", name="article", mime_type="text/markdown",
                     description="An article as stored: YAML front matter, then the body")  # fmt: skip
    async def article(article_id: str) -> str:
        try:
            return str(await run(mcp_tools.article_markdown, article_id))
        except NotFoundError as e:
            raise ResourceNotFoundError(shown(str(e))) from None
        except AssistantError as e:
            raise ResourceError(shown(str(e))) from None

    return server


def run_stdio(assistant: "Assistant", allow_writes: bool) -> None:
    """Serve the library over stdin/stdout until the client hangs up."""
    build_server(assistant, writes_allowed(allow_writes)).run("stdio")


def _byline(r: dict[str, Any]) -> str:
    return ", ".join(x for x in (r.get("author"), r.get("outlet"), r.get("published")) if x) or "—"


def _validation_line(tool: str, e: Any) -> str:
    """One line for arguments that do not fit a tool's schema (pydantic's report is several)."""
    parts = []
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(
            f"{where}: {err['msg']} (got {json.dumps(err.get('input'), default=str)[:60]})"
        )
    return f"Invalid input to {tool}: {'; '.join(parts)}. See the tool's input schema."
