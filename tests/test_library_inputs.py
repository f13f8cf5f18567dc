"""Inputs that used to take the whole library down: each is now one file's named problem.

- an impossible date in YAML (``published: 2024-02-30``): PyYAML raises ValueError, not
  YAMLError, which escaped every handler;
- YAML alias bombs: half a kilobyte expanded to gigabytes before any field was looked at;
- a title of unbounded length: prepended to every passage, it aborted the tokenizer.

Hostile files are made here, never committed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.cli import main
from assistant.errors import InputError
from assistant.evaluation.questions import load_questions
from assistant.ingest import feeds, yamlfile
from tests.conftest import SEED_ID

SEED_QUESTION = "What has Russia offered in return?"
BODY = "\n\nA council voted on Tuesday to widen the tram network across the old town.\n"


def outputs(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def alias_bomb(levels: int) -> str:
    """YAML whose aliases expand to 9**levels strings."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    lines.append(f"title: *a{levels}")
    return "\n".join(lines) + "\n"


# --- the loader ---------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["2024-02-30", "2023-13-01", "2022-00-10"])
def test_an_impossible_date_loads_as_text(date: str) -> None:
    assert yamlfile.load(f"published: {date}\n") == {"published": date}


def test_aliases_and_anchors_are_refused_before_expansion() -> None:
    started = time.perf_counter()
    with pytest.raises(yamlfile.YAMLError, match="not allowed"):
        yamlfile.load(alias_bomb(9))
    with pytest.raises(yamlfile.YAMLError, match="anchors"):
        yamlfile.load("a: &x 1\n")
    with pytest.raises(yamlfile.YAMLError, match="not allowed"):
        yamlfile.compose(alias_bomb(3))
    assert time.perf_counter() - started < 5  # refused, not expanded (never near the old 60 s)


# --- corpus files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "front",
    ["published: 2024-02-30", "published: 2023-13-01", "published: yesterday",
     alias_bomb(7).strip(), "title: " + "x" * 600],
)  # fmt: skip
def test_a_bad_corpus_file_is_its_own_problem(
    seeded: Assistant, capsys: pytest.CaptureFixture[str], front: str
) -> None:
    Path("corpus/hand-made.md").write_text(f"---\n{front}\n---{BODY}")
    rc, out, err = outputs(capsys, "index")
    assert rc == 1
    problems = [line for line in err.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 1 and problems[0].startswith("problem: hand-made.md"), err
    assert "Traceback" not in err and len(problems[0]) < 300
    rc, out, err = outputs(capsys, "list")
    assert rc == 0 and SEED_ID in out
    rc, out, err = outputs(capsys, "ask", SEED_QUESTION, "--json")
    assert rc == 0 and json.loads(out)["citations"][0]["article_id"] == SEED_ID
    rc, out, err = outputs(capsys, "add", str(Path(__file__).parent / "data" / "plain_globe.txt"))
    assert rc == 0, err  # other files still go in
    rc, out, err = outputs(capsys, "remove", "hand-made")
    assert rc == 0, err
    rc, out, err = outputs(capsys, "index")
    assert rc == 0 and "problem" not in err


@pytest.mark.parametrize(
    ("front", "says"),
    [(alias_bomb(7).strip(), "not allowed"),
     ("title: " + "x" * 600, "title is too long (600 characters; the limit is 500)")],
)  # fmt: skip
def test_adding_a_bad_markdown_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], front: str, says: str
) -> None:
    f = tmp_path / "pasted.md"
    f.write_text(f"---\n{front}\n---{BODY}")
    rc, out, err = outputs(capsys, "add", str(f))
    assert rc == 1 and says in out + err, out + err
    assert not list(Path("corpus").glob("*.md")) if Path("corpus").exists() else True


def test_an_added_file_with_an_impossible_date_goes_in_undated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "dated.md"
    f.write_text(f"---\ntitle: Trams\npublished: 2024-02-30\n---{BODY}")
    rc, out, err = outputs(capsys, "add", str(f))
    assert rc == 0 and out.strip() == "dated added", out + err
    assert "published: null" in Path("corpus/dated.md").read_text()


def test_a_huge_title_in_a_record_is_refused_and_nothing_is_stored(
    seeded: Assistant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "The harbour board met to discuss dredging the channel. " * 2000  # ~110 KB
    records = tmp_path / "bulk.jsonl"
    records.write_text(
        json.dumps({"id": "huge-title", "title": text, "text": text}) + "\n"
        + json.dumps({"id": "long-author", "author": "A" * 300, "text": "Short body text here."})
        + "\n" + json.dumps({"id": "fine", "title": "Dredging", "text": "The channel is silting up."})
        + "\n"
    )  # fmt: skip
    before = sorted(p.name for p in Path("corpus").iterdir())
    rc, out, _ = outputs(capsys, "add", str(records))
    assert rc == 1
    lines = out.splitlines()
    assert "title is too long (109,999 characters; the limit is 500)" in lines[0]
    assert "author is too long (300 characters; the limit is 200)" in lines[1]
    assert lines[2] == "fine added"
    assert sorted(p.name for p in Path("corpus").iterdir()) == sorted([*before, "fine.md"])
    rc, out, _ = outputs(capsys, "ask", SEED_QUESTION, "--json")
    assert rc == 0 and json.loads(out)["citations"][0]["article_id"] == SEED_ID


# --- feeds.yaml and question sets -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["feeds:\n- url: https://example.org/rss\n  added: 2024-02-30\n",
     "feeds:\n- &f {url: https://example.org/rss}\n- *f\n"],
)  # fmt: skip
def test_feeds_yaml_with_a_bad_date_or_aliases(tmp_path: Path, text: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    feeds.feeds_path(corpus).write_text(text)
    if "&f" in text:
        with pytest.raises(InputError, match=r"cannot be read .*not allowed"):
            feeds.load(corpus)
    else:
        assert feeds.load(corpus)[0].added == "2024-02-30"


def test_question_sets_with_bad_dates_or_aliases(tmp_path: Path) -> None:
    dated = tmp_path / "dated.yaml"
    dated.write_text("- question: What happened?\n  asked: 2024-02-30\n  answerable: false\n")
    [q] = load_questions(dated)
    assert q.question == "What happened?"
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("- &q {question: Why?}\n- *q\n")
    with pytest.raises(InputError, match="not allowed"):
        load_questions(bomb)
