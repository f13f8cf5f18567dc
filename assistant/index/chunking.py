"""Cutting an article into passages (chunks) that keep their provenance.

A passage is a run of short paragraphs of one section (up to ``join_words`` words), one
paragraph, or a run of whole sentences of a long paragraph, so a citation can name the
paragraph and its exact characters. Each retriever gets its own view of a passage:
dense retrieval reads the title and the passage (short, inside MiniLM's 256 word pieces), BM25
reads the metadata, the section heading and the neighbouring paragraphs too (BM25 does better
on longer text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.ingest.corpus import blocks
from assistant.settings import ChunkSettings
from assistant.text import sentence_spans
from assistant.types import Article, Block, Chunk

TokenCounter = Callable[[Sequence[str]], list[int]]


def _word_count(text: str) -> int:
    return len(text.split())


def _estimate_tokens(texts: Sequence[str]) -> list[int]:
    return [int(_word_count(t) * 1.4) + 2 for t in texts]


def _split_long(
    block: Block, title: str, settings: ChunkSettings, count: TokenCounter, size: int
) -> list[tuple[int, int]]:
    """Offsets (within the block text) of sentence runs that fit the word and token limits
    (``size``: the word pieces of the title and the whole block)."""
    text = block.text
    if _word_count(text) <= settings.max_words and size <= settings.max_tokens:
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


def _join_short(
    body: str,
    pieces: list[tuple[Block, int, int]],
    heading_of: dict[int, str | None],
    settings: ChunkSettings,
    size_of: dict[int, int],
    title_size: int,
) -> list[tuple[Block, int, int]]:
    """Whole paragraphs of one section joined, in order, while the run stays within
    ``join_words`` words (and the model's word pieces): a news paragraph is often one sentence,
    too little to say what it is about. A joined run becomes one block spanning the body text
    from its first paragraph to its last, numbered by its first (``Block.paragraph``).

    ``size_of``: word pieces of the title with each paragraph (by number); ``title_size``: of
    the title alone. The tokenizer splits at whitespace before anything else, so a run's word
    pieces are its paragraphs' summed, the title counted once."""
    out: list[tuple[Block, int, int]] = []
    run_size = 0
    for para, lo, hi in pieces:
        size = size_of[para.paragraph or 0]
        if out and lo == 0 and hi == len(para.text):
            prev, plo, phi = out[-1]
            run = body[prev.start : para.end]
            if (
                plo == 0
                and phi == len(prev.text)
                and heading_of.get(prev.paragraph or 0) == heading_of.get(para.paragraph or 0)
                and _word_count(run) <= settings.join_words
                and run_size + size - title_size <= settings.max_tokens
            ):
                joined = Block("paragraph", run, prev.start, para.end, prev.paragraph)
                out[-1] = (joined, 0, len(run))
                run_size += size - title_size
                continue
        out.append((para, lo, hi))
        run_size = size
    return out


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
    # word pieces of the title with each paragraph, in one call (a call per paragraph cost 7%
    # of an ingest of real news), and of the title alone
    *sizes, title_size = count([*(f"{title}\n{p.text}" for p in paragraphs), title])
    size_of = {p.paragraph or 0: n for p, n in zip(paragraphs, sizes, strict=True)}
    pieces: list[tuple[Block, int, int]] = [
        (para, lo, hi)
        for para in paragraphs
        for lo, hi in _split_long(para, title, settings, count, size_of[para.paragraph or 0])
    ]
    if settings.join_words:
        pieces = _join_short(article.body, pieces, heading_of, settings, size_of, title_size)
    texts = [para.text[lo:hi] for para, lo, hi in pieces]
    chunks: list[Chunk] = []
    for i, (para, lo, hi) in enumerate(pieces):
        assert para.paragraph is not None
        head = heading_of.get(para.paragraph)
        text = texts[i]
        chunks.append(
            Chunk(
                id=f"{article.id}:{i}",
                article_id=article.id,
                position=i,
                paragraph=para.paragraph,
                start=para.start + lo,
                end=para.start + hi,
                text=text,
                heading=head,
                dense_text=f"{title}\n{text}" if title else text,
                lexical_text=lexical_view(context, head, texts, i, settings.lexical_window),
            )
        )
    return chunks


def lexical_view(
    context: str, heading: str | None, texts: Sequence[str], i: int, window: int
) -> str:
    """What BM25 reads of passage ``i`` of ``texts`` (an article's passages in order): the
    article's title · author · outlet, the section heading, and the passage with ``window``
    passages on each side — whole neighbouring paragraphs when they are short, the neighbouring
    pieces of a long one. Never the whole of a long paragraph: that made what is stored grow
    with the square of its length (1 MB on one line gave a 1.3 GB catalog).

    >>> lexical_view("Title", None, ["a.", "b.", "c."], 0, 1)
    'Title\\na. b.'
    """
    neighbours = " ".join(texts[max(0, i - window) : i + window + 1])
    return "\n".join(x for x in (context, heading, neighbours) if x)
