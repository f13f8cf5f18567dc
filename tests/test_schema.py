"""One schema for every record people hand us (front matter, JSONL records, ``feeds.yaml``):
a field of the wrong type is that file's named problem, never stored as ``str(value)``; dates
are real dates and the date filters compare them as dates. Hostile files are made here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import InputError
from assistant.index.stores import _day
from assistant.ingest import feeds
from assistant.ingest.corpus import parse
from tests.conftest import SEED_ID

BODY = "\n\nA council voted on Tuesday to widen the tram network across the old town.\n"


def outputs(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(
    ("front", "says"),
    [("title: [a, b]", 'the "title" field must be text or null, not a list'),
     ("author: {name: X}", 'the "author" field must be text or null, not an object'),
     ("outlet: yes", 'the "outlet" field must be text or null, not true/false'),
     ("published: yesterday", "'yesterday' is not a real date"),
     ("published: [2024-01-01]", "not a list")],
)  # fmt: skip
def test_front_matter_of_the_wrong_type_is_refused(front: str, says: str) -> None:
    with pytest.raises(InputError) as e:
        parse(f"---\n{front}\n---{BODY}", "hand-made")
    assert str(e.value).startswith("hand-made.md: ") and says in str(e.value)
    assert "assistant remove hand-made" in str(e.value)


def test_front_matter_numbers_are_text_and_dates_are_normalised() -> None:
    article = parse(f"---\ntitle: 1984\npublished: ' 2024-03-04 '\n---{BODY}", "n")
    assert (article.title, article.published) == ("1984", "2024-03-04")


def test_a_list_title_in_the_corpus_is_that_files_problem(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("corpus/listed.md").write_text(f"---\ntitle: [a, b]\n---{BODY}")
    rc, _, err = outputs(capsys, "index")
    assert rc == 1 and 'problem: listed.md: the "title" field must be text' in err, err
    rc, out, _ = outputs(capsys, "list", "--json")
    assert rc == 0 and "['a', 'b']" not in out and SEED_ID in out


def test_jsonl_records_use_the_same_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "r.jsonl"
    lines = [{"id": "a", "text": "Text one here.", "published": "yesterday"},
             {"id": "b", "text": "Text two here.", "url": ["x"]},
             {"id": 7, "text": "Text three is fine.", "published": "2024-03-04"}]  # fmt: skip
    records.write_text("".join(json.dumps(r) + "\n" for r in lines))
    rc, out, _ = outputs(capsys, "add", str(records))
    got = out.splitlines()
    assert rc == 1 and "'yesterday' is not a real date" in got[0]
    assert 'the "url" field must be text or null, not a list' in got[1]
    assert got[2] == "7 added"


@pytest.mark.parametrize(
    ("entry", "says"),
    [("  seen: 5", 'feed 1: the "seen" field must be a list of links, not a number'),
     ("  title: [a]", 'feed 1: the "title" field must be text or null, not a list'),
     ("  seen: [[a]]", 'feed 1: the "seen" field must be a list of links')],
)  # fmt: skip
def test_feeds_yaml_of_the_wrong_type_is_named(tmp_path: Path, entry: str, says: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    feeds.feeds_path(corpus).write_text(f"feeds:\n- url: https://example.org/rss\n{entry}\n")
    with pytest.raises(InputError, match=r"feeds\.yaml") as e:
        feeds.load(corpus)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_date_filters_compare_dates(seeded: Assistant, capsys: pytest.CaptureFixture[str]) -> None:
    assert _day("yesterday") is None and _day("2024-03-04") < _day("2030-01-01")  # type: ignore[operator]
    Path("corpus/dated.md").write_text(f"---\ntitle: Trams\npublished: 2024-03-04\n---{BODY}")
    rc, out, _ = outputs(capsys, "ask", "What did the council vote on?", "--json",
                         "--since", "2030-01-01")  # fmt: skip
    assert rc == 0 and json.loads(out)["refused"] and "matches the filters" in out
    rc, out, _ = outputs(capsys, "ask", "What did the council vote on?", "--json",
                         "--since", "2024-03-04", "--until", "2024-03-04")  # fmt: skip
    cited = {c["article_id"] for c in json.loads(out)["citations"]}
    assert rc == 0 and cited <= {"dated"}, out


def test_pasted_markdown_front_matter_uses_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "pasted.md"
    f.write_text(f"---\ntitle: [a, b]\npublished: sometime last spring\n---{BODY}")
    rc, out, err = outputs(capsys, "add", str(f))
    assert rc == 1 and 'the "title" field must be text or null, not a list' in out + err
    f.write_text(f"---\ntitle: Trams\npublished: sometime last spring\n---{BODY}")
    rc, out, err = outputs(capsys, "add", str(f))
    assert rc == 0, out + err  # a date in words that is not one is left out, as before
