"""The MCP tools' outputs as typed dicts: the SDK publishes them as each tool's output schema
and checks every structured result against them (docs/interfaces.md describes the same)."""

from typing import NotRequired

from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

# the answer object's citations and viewpoint entries are the library's own types: one shape
from assistant.types import Citation, Viewpoint


class AnswerObject(TypedDict):
    """The answer object of ``assistant ask --json`` (docs/interfaces.md)."""

    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    latency_ms: float
    support: float
    resolved_question: NotRequired[str]
    conflicts: NotRequired[list[list[int]]]
    viewpoints: NotRequired[list[Viewpoint]]


class ArticleRecord(TypedDict):
    """What every tool reports of an article (mcp_tools.RECORD)."""

    title: str | None
    author: str | None
    outlet: str | None
    published: str | None
    url: str | None


class FoundPassage(ArticleRecord):
    rank: int
    article_id: str
    paragraph: int
    text: str
    score: float


class SearchResult(TypedDict):
    query: str
    passages: list[FoundPassage]


class Paragraph(TypedDict):
    n: int
    section: str | None
    text: str


class ArticleText(ArticleRecord):
    id: str
    paragraphs_total: int
    paragraphs: list[Paragraph]


class ArticleSummary(ArticleRecord):
    id: str
    passages: int


class ArticlePage(TypedDict):
    total: int
    offset: int
    next_offset: int | None
    articles: list[ArticleSummary]


class Added(TypedDict):
    id: str | None
    status: str
    line: str
