"""What the catalog stores grows with the text, not with its square, and `remove` gives the
space back. A long single-line paragraph (scraped JSONL often has a whole article on one line)
used to store the whole paragraph with each of its passages: 1 MB of text, a 1.3 GB catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main
from assistant.index.catalog import ArticleRow, Catalog
from assistant.index.chunking import chunk_article
from assistant.settings import ChunkSettings
from assistant.types import Article


def one_line(n_sentences: int) -> str:
    return " ".join(
        f"The harbour board met on day {i} to discuss dredging the channel again."
        for i in range(n_sentences)
    )


def on_disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("catalog.sqlite*"))


def test_a_megabyte_on_one_line_stores_less_than_three_times_its_size(tmp_path: Path) -> None:
    text = one_line(14_000)
    assert len(text) > 1_000_000
    chunks = chunk_article(Article(id="big", body=text, title="Dredging"), ChunkSettings())
    assert len(chunks) > 1000  # cut into many passages: the case that grew quadratically
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.record_indexed([("big", "sha", chunks)])
    catalog.reclaim()
    assert on_disk(tmp_path) < 3 * len(text)
    ids, _, lexical = catalog.lexical_texts()
    assert len(ids) == len(chunks)
    assert sum(map(len, lexical)) < 4 * len(text)  # BM25 reads each passage with its neighbours
    assert all(c.text in lex for c, lex in zip(chunks, lexical, strict=True))
    catalog.forget_article("big")
    catalog.reclaim()
    assert on_disk(tmp_path) < len(text) / 5  # removing gives the space back


def test_the_bm25_view_of_short_paragraphs_is_the_paragraphs_around(tmp_path: Path) -> None:
    body = "First point made.\n\nSecond point made.\n\nThird point made."
    unjoined = ChunkSettings(join_words=0)  # joined, the three would be one passage
    chunks = chunk_article(Article(id="a", body=body, title="T", author="A"), unjoined)
    catalog = Catalog(tmp_path / "catalog.sqlite")
    row = ArticleRow("a", 0, 0, "sha", "h", b"", "T", "A", None, None, None, None)
    catalog.upsert_article(row)
    catalog.record_indexed([("a", "sha", chunks)])
    _, _, lexical = catalog.lexical_texts()
    assert lexical == [c.lexical_text for c in chunks]
    assert lexical[1].endswith("First point made. Second point made. Third point made.")


def test_remove_gives_the_space_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "small.txt"
    small.write_text("A council voted on Tuesday to widen the tram network across the old town.\n")
    assert main(["add", str(small)]) == 0
    before = on_disk(Path("indexes"))
    big = tmp_path / "big.txt"
    big.write_text(one_line(600) + "\n")  # ~45 KB on one line: ~60 passages
    assert main(["add", str(big)]) == 0
    grown = on_disk(Path("indexes"))
    assert main(["remove", "big"]) == 0
    capsys.readouterr()
    assert on_disk(Path("indexes")) < before + (grown - before) / 4


def test_short_paragraphs_of_a_section_are_joined_into_one_passage() -> None:
    from assistant.answer.compose import quoted_paragraph
    from assistant.text import sentence_spans

    body = (
        "The port reopened on Monday.\n\nShips queued for a week.\n\n"
        "## Later\n\nPrices fell by a third.\n\n" + one_line(12)
    )
    article = Article(id="a", body=body, title="T")
    chunks = chunk_article(article, ChunkSettings(join_words=60))
    texts = [c.text for c in chunks]
    assert texts[0] == "The port reopened on Monday.\n\nShips queued for a week."  # one section
    assert texts[1] == "Prices fell by a third."  # a heading starts another; a long one stays
    assert all(body[c.start : c.end] == c.text for c in chunks)
    assert [c.paragraph for c in chunks[:2]] == [1, 3]
    first = chunks[0]
    spans = sentence_spans(first.text)
    assert [first.text[a:b] for a, b in spans] == [
        "The port reopened on Monday.",
        "Ships queued for a week.",
    ]

    class P:  # what a citation needs of a passage
        paragraph, text = first.paragraph, first.text

    assert [quoted_paragraph(P, a) for a, _ in spans] == [1, 2]  # type: ignore[arg-type]
