"""The MCP server through the real ``mcp`` client SDK, over stdio and streamable HTTP, on a real
library (the packaged model, real Chroma): tools, resources, bad input, and who may write."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.settings import Settings
from assistant.web.context import edit_refusal
from assistant.web.render import public_message
from tests.conftest import DATA, SEED, SEED_ID, build_library

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What has Russia offered in return?"
VIEWS_Q = "What do columnists say about Milbrook's congestion charge?"
CONGESTION = {"congestion_hartley", "congestion_okafor", "congestion_brandt"}
TOOLS = {"ask", "search", "get_article", "list_articles", "add_article"}
ARTICLE = "The harbour board met on Tuesday to discuss the new ferry timetable. " * 12


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """The seed, the other test articles and three commentaries on one topic, built once."""
    root = tmp_path_factory.mktemp("mcp")
    others = [
        DATA / n for n in ("plain_globe.txt", "html_with_nav.html", "markdown_frontmatter.md")
    ]
    build_library(root, model_cache, [SEED, *others, *sorted((DATA / "viewpoints").glob("*.md"))])
    return root


@pytest.fixture
def library(template: Path, tmp_path: Path) -> Settings:
    """A copy of the library for one test, where the environment points (see conftest)."""
    for name in ("corpus", "indexes"):
        shutil.copytree(template / name, tmp_path / name, dirs_exist_ok=True)
    return Settings.from_env()


def cli_error(*argv: str) -> str:
    """The one line ``assistant ARGV`` prints on stderr (without ``error: ``); it must fail."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(list(argv)) == 1
    line = err.getvalue().strip()
    assert line.startswith("error: ") and "\n" not in line, line
    return line.removeprefix("error: ")


@contextlib.asynccontextmanager
async def stdio_session(settings: Settings, *flags: str) -> AsyncIterator[Any]:
    """A client session with ``assistant mcp FLAGS`` run as a subprocess, as an agent runs it."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's package, wherever installed
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "assistant.cli", "mcp", *flags], env=env,
        cwd=str(settings.corpus_dir.parent),
    )  # fmt: skip
    with open(settings.corpus_dir.parent / "server.log", "w") as log:
        async with (
            stdio_client(params, errlog=log) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


@contextlib.asynccontextmanager
async def http_session(url: str, auth: tuple[str, str] | None) -> AsyncIterator[Any]:
    """A client session with the web app's /mcp endpoint, logged in as ``auth``."""
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(auth=auth, timeout=300) as http,
        streamable_http_client(url + "mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@contextlib.contextmanager
def web_app(settings: Settings, **options: Any) -> Iterator[str]:
    """The real web app on a free local port (``serve`` options: auth, editors, mcp)."""
    from assistant.web.launch import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    demo = serve(settings, host="127.0.0.1", port=port, block=False, **options)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def text_of(result: Any) -> str:
    return "\n".join(c.text for c in result.content)


async def error_of(session: Any, tool: str, arguments: dict[str, Any]) -> str:
    """The message of a call that must fail: one line, no traceback."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, (tool, arguments, result.structured_content)
    message = text_of(result)
    assert "\n" not in message and "Traceback" not in message, message
    return message


async def reads(session: Any, public: bool) -> None:
    """What any client may do, and the bad input of the issue, over one session."""
    from mcp import MCPError

    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    assert tools["ask"].input_schema["required"] == ["question"]
    assert tools["ask"].input_schema["properties"]["k"]["maximum"] == 50
    assert "citations" in tools["ask"].output_schema["properties"]
    assert all(tools[t].description for t in TOOLS)

    result = await session.call_tool("ask", {"question": QUESTION})
    assert not result.is_error
    answer = result.structured_content
    first = answer["citations"][0]
    assert not answer["refused"] and "[1]" in answer["answer"]
    assert (first["author"], first["outlet"], first["article_id"]) == (
        "Stefan Wolff",
        "CNA",
        SEED_ID,
    )
    assert "what, if anything, Russia has offered in return" in first["quote"]
    assert "Stefan Wolff" in text_of(result) and "“It is not clear" in text_of(result)

    views = await session.call_tool(
        "ask", {"question": VIEWS_Q, "mode": "viewpoints", "by": "author"}
    )
    assert not views.is_error
    assert {v["article_id"] for v in views.structured_content["viewpoints"]} == CONGESTION

    found = (
        await session.call_tool("search", {"query": "congestion charge", "k": 3})
    ).structured_content
    assert [p["rank"] for p in found["passages"]] == [1, 2, 3]
    assert (
        found["passages"][0]["article_id"] in CONGESTION and found["passages"][0]["paragraph"] >= 1
    )

    part = await session.call_tool("get_article", {"article_id": SEED_ID, "first": 12, "last": 12})
    (paragraph,) = part.structured_content["paragraphs"]
    assert paragraph["n"] == first["paragraph"] == 12 and first["quote"] in paragraph["text"]

    page = (await session.call_tool("list_articles", {"limit": 2})).structured_content
    assert page["total"] == 7 and page["next_offset"] == 2
    assert page["articles"][0]["id"] == "congestion_brandt"  # the newest (2025-06-02)

    uris = [str(r.uri) for r in (await session.list_resources()).resources]
    assert f"article://{SEED_ID}" in uris
    stored = await session.read_resource(f"article://{SEED_ID}")
    assert "Stefan Wolff" in stored.contents[0].text

    shown = public_message if public else (lambda m: m)
    bad = {
        ("ask", "question"): (
            {"question": "x" * 100_000}, cli_error("ask", "x" * 100_000)),
        ("ask", "k"): (
            {"question": QUESTION, "k": 10**6}, cli_error("ask", QUESTION, "-k", str(10**6))),
        ("ask", "date"): (
            {"question": QUESTION, "since": "2025-13-45"},
            cli_error("ask", QUESTION, "--since", "2025-13-45")),
        ("get_article", "id"): ({"article_id": "no-such-article"}, cli_error("show", "no-such-article")),
    }  # fmt: skip
    for (tool, _), (arguments, line) in bad.items():
        assert await error_of(session, tool, arguments) == shown(line)
    assert (
        await error_of(session, "search", {"query": "x", "k": 10**6})
        == "k must be between 1 and 50 (got 1000000)."
    )
    with pytest.raises(MCPError) as e:
        await session.read_resource("article://no-such-article")
    assert e.value.error.message == shown(cli_error("show", "no-such-article"))
    if public:
        assert str(ROOT) not in e.value.error.message and "/tmp" not in e.value.error.message


def corpus_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.corpus_dir.glob("*.md"))


async def writes(session: Any, settings: Settings) -> None:
    """An allowed writer adds from text; a path, a file: URL or a bad date change nothing."""
    before = corpus_files(settings)
    for url in ("/etc/passwd", "file:///etc/passwd", str(settings.corpus_dir)):
        message = await error_of(session, "add_article", {"url": url})
        assert "http:// or https://" in message and url not in message
    dated = await error_of(session, "add_article", {"text": ARTICLE, "published": "2025-13-45"})
    (settings.corpus_dir.parent / "piece.txt").write_text(ARTICLE)
    piece = str(settings.corpus_dir.parent / "piece.txt")
    assert dated == cli_error("add", piece, "--published", "2025-13-45")
    assert corpus_files(settings) == before  # nothing half-written

    added = await session.call_tool(
        "add_article", {"text": ARTICLE, "title": "Ferries", "outlet": "Harbour Post"}
    )
    assert not added.is_error and added.structured_content["status"] == "added"
    new_id = added.structured_content["id"]
    assert text_of(added) == f"{new_id} added"
    again = (await session.call_tool("add_article", {"text": ARTICLE})).structured_content
    assert again["status"] == "duplicate" and again["id"] == new_id
    read = (await session.call_tool("get_article", {"article_id": new_id})).structured_content
    assert read["outlet"] == "Harbour Post" and read["paragraphs_total"] == 1
    page = (await session.call_tool("list_articles", {"outlet": "Harbour Post"})).structured_content
    assert [a["id"] for a in page["articles"]] == [new_id]


def test_stdio_tools_resources_and_bad_input(library: Settings) -> None:
    async def scenario() -> None:
        async with stdio_session(library) as session:
            await reads(session, public=False)
            before = corpus_files(library)
            refusal = await error_of(session, "add_article", {"text": ARTICLE})
            assert refusal.startswith("Writes are off") and "--allow-writes" in refusal
            assert corpus_files(library) == before

    asyncio.run(scenario())


def test_stdio_writes_with_allow_writes(library: Settings) -> None:
    async def scenario() -> None:
        async with stdio_session(library, "--allow-writes") as session:
            await writes(session, library)

    asyncio.run(scenario())


def test_http_endpoint_behind_the_logins_with_writes_for_editors(library: Settings) -> None:
    import httpx

    async def scenario(url: str) -> None:
        async with http_session(url, ("bob", "pw2")) as session:
            await reads(session, public=True)
            refusal = await error_of(session, "add_article", {"text": ARTICLE})
            assert refusal == edit_refusal(frozenset({"ann"}), "bob")
        async with http_session(url, ("ann", "pw1")) as session:
            await writes(session, library)

    with web_app(library, auth="ann:pw1,bob:pw2", editors="ann") as url:
        for auth in (None, ("bob", "wrong")):
            r = httpx.post(url + "mcp", json={}, auth=auth)
            assert r.status_code == 401 and "Log in to use /mcp" in r.json()["error"]
        asyncio.run(scenario(url))


def test_no_mcp_serves_no_endpoint(library: Settings) -> None:
    import httpx

    with web_app(library, mcp=False) as url:
        assert httpx.get(url).status_code == 200
        assert httpx.post(url + "mcp", json={}).status_code in (404, 405)


ADAPTER_CHECK = """
import asyncio, json, sys
from langchain_mcp_adapters.client import MultiServerMCPClient

async def main():
    client = MultiServerMCPClient({"library": {"transport": "stdio", "command": sys.argv[1],
        "args": ["-m", "assistant.cli", "mcp"], "env": json.loads(sys.argv[2])}})
    tools = {t.name: t for t in await client.get_tools()}
    print(json.dumps(sorted(tools)))
    print(json.dumps(await tools["ask"].ainvoke({"question": sys.argv[3]}), default=str))

asyncio.run(main())
"""


def test_langchain_mcp_adapters_load_and_call_the_tools(library: Settings) -> None:
    """A LangChain agent's side (no LLM: a tool is called directly). langchain-mcp-adapters needs
    mcp<2, so it runs from its own environment, as an agent would: `make test` builds it in
    .venv-langchain-mcp/ (or LANGCHAIN_MCP_PYTHON names another Python that has it)."""
    python = os.environ.get("LANGCHAIN_MCP_PYTHON") or str(ROOT / ".venv-langchain-mcp/bin/python")
    if not Path(python).exists():
        missing = f"no {python} with langchain-mcp-adapters (make langchain-mcp builds it)"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{missing}; under CI the LangChain check must run", pytrace=False)
        pytest.skip(missing)
    import json

    env = {k: v for k, v in os.environ.items() if k.startswith(("ASSISTANT_", "HF_", "PATH"))}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [python, "-c", ADAPTER_CHECK, sys.executable, json.dumps(env), QUESTION],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert set(json.loads(out[0])) == TOOLS
    assert "Stefan Wolff" in out[1] and "Russia has offered in return" in out[1]
