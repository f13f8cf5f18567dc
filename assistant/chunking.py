"""Cutting an article into passages (chunks) that keep their provenance.

A passage is one paragraph, or a run of whole sentences of a long paragraph, so a citation can
name the paragraph and its exact characters. Each retriever gets its own view of a passage:
dense retrieval reads the title and the passage (short, inside MiniLM's 256 word pieces), BM25
reads the metadata, the section heading and the neighbouring paragraphs too (BM25 does better
on longer text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.corpus import blocks
from assistant.settings import ChunkSettings
from assistant.types import Article, Block, Chunk

TokenCounter = Callable[[Sequence[str]], list[int]]

# A sentence ends at . ! ? (or …) followed by space and an upper-case letter, digit or quote
# (or a letter of Hebrew or Arabic, which have no capitals), unless the word before is a common
# abbreviation or an initial; Chinese and Japanese sentences end at 。！？ with no space after.
_END = re.compile(
    r"[.!?…؟][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9\u0590-\u06ff])|[。！？][」』”’）)]*\s*"
)
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Col|Lt|Sgt|Capt|Gov|Sen|Rep|Rev|Hon|No|Vol|"
    r"vs|etc|e\.g|i\.e|Inc|Ltd|Co|Corp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
    r"|\b[A-Z]|\b(?:[A-Z]\.)+[A-Z])\.[\"'”’)\]]*\s+$"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``, whitespace trimmed.

    >>> t = "Mr Trump met Mr Putin. It went badly! Why? U.S. aid stopped."
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['Mr Trump met Mr Putin.', 'It went badly!', 'Why?', 'U.S. aid stopped.']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        if _ABBREV.search(text[start : m.end()]):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        seg = text[a:b]
        a2 = a + (len(seg) - len(seg.lstrip()))
        b2 = b - (len(seg) - len(seg.rstrip()))
        if b2 > a2:
            out.append((a2, b2))
    return out


def _word_count(text: str) -> int:
    return len(text.split())


def _estimate_tokens(texts: Sequence[str]) -> list[int]:
    return [int(_word_count(t) * 1.4) + 2 for t in texts]


def _split_long(
    block: Block, title: str, settings: ChunkSettings, count: TokenCounter
) -> list[tuple[int, int]]:
    """Offsets (within the block text) of sentence runs that fit the word and token limits."""
    text = block.text
    if (
        _word_count(text) <= settings.max_words
        and count([f"{title}\n{text}"])[0] <= settings.max_tokens
    ):
        return [(0, len(text))]
    pieces: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for a, b in sentence_spans(text):
        if cur is None:
            cur = (a, b)
            continue
        candidate = text[cur[0] : b]
        fits = _word_count(candidate) <= settings.max_words
        if fits and count([f"{title}\n{candidate}"])[0] <= settings.max_tokens:
            cur = (cur[0], b)
        else:
            pieces.append(cur)
            cur = (a, b)
    if cur is not None:
        pieces.append(cur)
    return pieces


LEDE_CHARS = 700  # an article's vector reads its title and first paragraphs up to about this


def lede_text(title: str | None, chunks: Sequence[Chunk]) -> str:
    """The title and the first passages (~700 characters): what an article is about.

    News questions are mostly about an article's subject, which its headline and lede state;
    one short paragraph seldom carries it (measured on real news: docs/quality.md).
    """
    text = ""
    for c in chunks:
        if len(text) > LEDE_CHARS:
            break
        text = f"{text} {c.text}" if text else c.text
    return f"{title}\n{text}" if title else text


def chunk_article(
    article: Article, settings: ChunkSettings, count_tokens: TokenCounter | None = None
) -> list[Chunk]:
    """The article's passages, in order, with ids ``<article id>:<n>``."""
    count = count_tokens or _estimate_tokens
    title = article.title or ""
    context = " · ".join(x for x in (article.title, article.author, article.outlet) if x)
    body_blocks = blocks(article.body)
    paragraphs = [b for b in body_blocks if b.kind == "paragraph"]
    heading_of: dict[int, str | None] = {}
    heading: str | None = None
    for b in body_blocks:
        if b.kind == "heading":
            heading = b.text
        elif b.paragraph is not None:
            heading_of[b.paragraph] = heading
    chunks: list[Chunk] = []
    w = settings.lexical_window
    for i, para in enumerate(paragraphs):
        assert para.paragraph is not None
        neighbours = " ".join(p.text for p in paragraphs[max(0, i - w) : i + w + 1])
        head = heading_of.get(para.paragraph)
        lexical = "\n".join(x for x in (context, head, neighbours) if x)
        for lo, hi in _split_long(para, title, settings, count):
            text = para.text[lo:hi]
            chunks.append(
                Chunk(
                    id=f"{article.id}:{len(chunks)}",
                    article_id=article.id,
                    position=len(chunks),
                    paragraph=para.paragraph,
                    start=para.start + lo,
                    end=para.start + hi,
                    text=text,
                    heading=head,
                    dense_text=f"{title}\n{text}" if title else text,
                    lexical_text=lexical,
                )
            )
    return chunks
