"""Tests for question sets, evaluation metrics, the HTML report and run comparison.

No model or index: answers are hand-made answer objects, and every expected number is worked out
by hand in the test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import InputError, NotFoundError
from assistant.evaluation.metrics import (
    compare,
    finds,
    gold_problems,
    question_metrics,
    run_eval,
    summarise,
    summary_table,
)
from assistant.evaluation.questions import Gold, Question, load_questions
from assistant.evaluation.report import render_report

QUOTE = "It is not clear, however, what, if anything, Russia has offered in return"
CONTRACT_KEYS = {
    "questions", "answerable", "hit@1", "hit@3", "hit@5", "mrr", "recall@5",
    "citation_precision", "refusal_accuracy", "false_refusals", "answer_match",
    "latency_ms_p50", "latency_ms_p95",
}  # fmt: skip


def cite(n: int, passage: str = "nothing relevant here", article_id: str = "a1", **kw: Any) -> dict:
    c = {"n": n, "article_id": article_id, "title": f"Title {n}", "author": None, "outlet": None,
         "published": None, "url": None, "paragraph": n, "quote": passage[:40],
         "passage": passage, "score": 0.5}  # fmt: skip
    c.update(kw)
    return c


def ans(*citations: dict, refused: bool = False, text: str = "", support: float = 0.6,
        latency: float = 10.0) -> dict:  # fmt: skip
    return {"question": "?", "answer": text, "refused": refused, "citations": list(citations),
            "latency_ms": latency, "support": support}  # fmt: skip


def record(q: Question, answer: dict) -> dict:
    """A results.jsonl record as run_eval writes it."""
    return {"id": q.id, **answer, "answerable": q.answerable,
            "gold": [{"article": g.article, "quote": g.quote} for g in q.evidence],
            "metrics": question_metrics(q, answer)}  # fmt: skip


# --- the found rule ------------------------------------------------------------------------


def test_quote_is_found_after_normalisation():
    gold = Gold(quote="It’s  “FINAL” —\nno")
    assert finds(gold, cite(1, 'Well, it\'s "final" - no deal.'))
    assert not finds(gold, cite(1, "it is final, no deal"))


def test_article_only_item_is_found_by_any_citation_of_that_article():
    gold = Gold(article="a1")
    assert finds(gold, cite(1, "anything", article_id="a1"))
    assert not finds(gold, cite(1, "anything", article_id="a2"))


def test_item_with_quote_and_article_is_judged_by_the_quote_only():
    gold = Gold(article="000_x", quote=QUOTE)
    assert finds(gold, cite(1, f"Yes. {QUOTE} - apart from ...", article_id="other-id"))
    assert not finds(gold, cite(1, "a different paragraph", article_id="000_x"))


# --- per-question metrics ------------------------------------------------------------------


def test_found_at_rank_two():
    q = Question("q1", "What?", evidence=(Gold(quote=QUOTE),))
    m = question_metrics(q, ans(cite(1), cite(2, QUOTE), cite(3)))
    assert m["rank"] == 2
    assert (m["hit@1"], m["hit@3"], m["hit@5"]) == (False, True, True)
    assert m["rr"] == 0.5
    assert m["recall@5"] == 1.0
    assert m["citation_precision"] == pytest.approx(1 / 3)
    assert m["found_by"] == [2]
    assert m["verdict"] == "found at rank 2"


def test_recall_is_half_when_one_of_two_gold_items_is_found():
    q = Question("q1", "What?", evidence=(Gold(quote=QUOTE), Gold(article="a9")))
    m = question_metrics(q, ans(cite(1, QUOTE), cite(2)))
    assert m["recall@5"] == 0.5
    assert m["gold_found"] == [True, False]
    assert m["rank"] == 1


def test_only_the_first_five_citations_count_for_hit5_and_recall5():
    q = Question("q1", "What?", evidence=(Gold(article="gold"),))
    m = question_metrics(q, ans(*[cite(i) for i in range(1, 6)], cite(6, article_id="gold")))
    assert (m["rank"], m["hit@5"], m["recall@5"]) == (6, False, 0.0)
    assert m["rr"] == pytest.approx(1 / 6)


def test_missed():
    q = Question("q1", "What?", evidence=(Gold(quote=QUOTE),))
    m = question_metrics(q, ans(cite(1), cite(2)))
    assert (m["rank"], m["rr"], m["hit@5"], m["citation_precision"]) == (None, 0.0, False, 0.0)
    assert m["verdict"] == "missed"


def test_wrongly_refused_still_counts_its_citations_for_retrieval():
    q = Question("q1", "What?", evidence=(Gold(quote=QUOTE),))
    m = question_metrics(q, ans(cite(1, QUOTE), refused=True))
    assert m["verdict"] == "wrongly refused"
    assert m["hit@1"] is True
    assert m["citation_precision"] is None  # only answered questions count for precision


def test_unanswerable_questions():
    q = Question("u1", "Who won the 2031 election?", answerable=False)
    refused = question_metrics(q, ans(cite(1), refused=True))
    assert refused["verdict"] == "correctly refused"
    assert refused["hit@1"] is None and refused["rr"] is None and refused["recall@5"] is None
    answered = question_metrics(q, ans(cite(1), cite(2)))
    assert answered["verdict"] == "wrongly answered"
    assert answered["citation_precision"] == 0.0


def test_answer_match_uses_answer_text_and_quotes_not_passages():
    q = Question("q1", "What?", evidence=(Gold(quote=QUOTE),), answer=("Nothing at all", "zero"))
    in_text = ans(cite(1, QUOTE), text="Apparently “nothing [1] at ALL”.")
    assert question_metrics(q, in_text)["answer_match"] is True
    in_quote = ans(cite(1, "it offered zero. " + QUOTE, quote="it offered zero."), text="See [1].")
    assert question_metrics(q, in_quote)["answer_match"] is True
    only_passage = ans(cite(1, "it offered zero. " + QUOTE, quote=QUOTE), text="See [1].")
    assert question_metrics(q, only_passage)["answer_match"] is False
    assert (
        question_metrics(q, ans(cite(1, QUOTE), text="zero", refused=True))["answer_match"] is False
    )
    assert question_metrics(Question("q2", "What?"), ans(text="zero"))["answer_match"] is None


# --- the summary ---------------------------------------------------------------------------


def five_results() -> list[dict]:
    a = Question("A", "a?", evidence=(Gold(quote=QUOTE),))
    b = Question("B", "b?", evidence=(Gold(article="g1"), Gold(article="g2")))
    c = Question("C", "c?", evidence=(Gold(quote=QUOTE),))
    d = Question("D", "d?", answerable=False)
    e = Question("E", "e?", answerable=False)
    return [
        record(a, ans(cite(1, QUOTE), cite(2), latency=10)),
        record(b, ans(cite(1), cite(2), cite(3, article_id="g2"), latency=20)),
        record(c, ans(refused=True, support=0.1, latency=30)),
        record(d, ans(cite(1), refused=True, support=0.2, latency=40)),
        record(e, ans(cite(1), support=0.5, latency=50)),
    ]


def test_summary_by_hand():
    s = summarise(five_results(), {"answer": {"refuse_below": 0.4}})
    assert set(s) == CONTRACT_KEYS | {"errors", "settings", "created", "source_recall"}
    assert (s["questions"], s["answerable"], s["errors"]) == (5, 3, 0)
    assert s["hit@1"] == pytest.approx(1 / 3, abs=1e-4)  # A only
    assert s["hit@3"] == s["hit@5"] == pytest.approx(2 / 3, abs=1e-4)  # A and B
    assert s["mrr"] == pytest.approx((1 + 1 / 3 + 0) / 3, abs=1e-4)
    assert s["recall@5"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-4)
    assert s["citation_precision"] == pytest.approx(2 / 6, abs=1e-4)  # A 1/2, B 1/3, E 0/1
    assert s["refusal_accuracy"] == 0.5  # D refused, E answered
    assert s["false_refusals"] == pytest.approx(1 / 3, abs=1e-4)  # C
    assert s["answer_match"] is None
    assert (s["latency_ms_p50"], s["latency_ms_p95"]) == (30.0, 48.0)
    assert s["settings"] == {"answer": {"refuse_below": 0.4}}


def test_summary_answer_match_and_empty_groups():
    q1 = Question("1", "a?", answer=("yes",))
    q2 = Question("2", "b?", answer=("no",))
    s = summarise([record(q1, ans(text="yes")), record(q2, ans(text="maybe"))], {})
    assert s["answer_match"] == 0.5
    assert s["refusal_accuracy"] is None  # no unanswerable questions
    assert s["hit@1"] is None  # no gold evidence to look for


# --- loading question sets -----------------------------------------------------------------


def test_load_jsonl(tmp_path: Path):
    path = tmp_path / "questions.jsonl"
    lines = [
        {
            "id": "seed-01",
            "question": " What has Russia offered? ",
            "answerable": True,
            "evidence": [{"article": "000_x", "quote": QUOTE}, "000_y", {"quote": "q only"}],
            "answer": ["nothing", "not clear"],
        },
        {"question": "No id here", "answerable": False},
    ]
    path.write_text(json.dumps(lines[0]) + "\n\n" + json.dumps(lines[1]) + "\n")
    a, b = load_questions(path)
    assert a == Question("seed-01", "What has Russia offered?", True,
                         (Gold("000_x", QUOTE), Gold("000_y", None), Gold(None, "q only")),
                         ("nothing", "not clear"))  # fmt: skip
    assert b == Question("q3", "No id here", answerable=False)


def test_load_csv(tmp_path: Path):
    path = tmp_path / "questions.csv"
    path.write_text(
        "id,question,answerable,evidence,answer\n"
        "c1,What was offered?,yes,first quote | second quote,nothing|not clear\n"
        ",Unanswerable?,no,,\n"
        'c3,"Multi, with comma",1,"a ""quoted"" quote",\n',
        encoding="utf-8-sig",  # the BOM spreadsheets write must not spoil the first column name
    )
    a, b, c = load_questions(path)
    assert a == Question("c1", "What was offered?", True,
                         (Gold(quote="first quote"), Gold(quote="second quote")),
                         ("nothing", "not clear"))  # fmt: skip
    assert b == Question("q3", "Unanswerable?", answerable=False)
    assert c.evidence == (Gold(quote='a "quoted" quote'),) and c.question == "Multi, with comma"


def test_load_yaml(tmp_path: Path):
    path = tmp_path / "questions.yml"
    path.write_text(
        "- id: y1\n  question: What was offered?\n  evidence:\n    - quote: some quote\n"
        "      article: art-1\n    - art-2\n  answer: nothing\n"
        "- question: Unanswerable?\n  answerable: no\n"
    )
    a, b = load_questions(path)
    assert a == Question("y1", "What was offered?", True,
                         (Gold("art-1", "some quote"), Gold("art-2", None)), ("nothing",))  # fmt: skip
    assert b == Question("q8", "Unanswerable?", answerable=False)


def test_every_problem_is_reported_with_file_line_and_field(tmp_path: Path):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join([
        '{"id": "a", "question": "fine"}',
        '{"id": "b", "question": "  "}',
        '{"id": "c", "question": "x", "answerable": "maybe"}',
        '{"id": "d", "question": "x",',
        '{"id": "a", "question": "again"}',
        '{"id": "e", "question": "x", "evidence": [{"page": 3}]}',
        '{"id": "f", "question": "x", "evidance": ["z"]}',
        '{"id": "g", "question": "x", "answerable": false, "evidence": ["z"]}',
        '["not", "an", "object"]',
    ]))  # fmt: skip
    with pytest.raises(InputError) as err:
        load_questions(path)
    msg = str(err.value)
    assert "7 problems" in msg
    assert 'questions.jsonl:2: "question" is missing or empty' in msg
    assert "questions.jsonl:3: \"answerable\" must be true or false, got 'maybe'" in msg
    assert "questions.jsonl:4: not valid JSON" in msg
    assert "questions.jsonl:5: duplicate \"id\" 'a' (first on line 1)" in msg
    assert 'questions.jsonl:6: "evidence" item 1' in msg
    assert "questions.jsonl:7" not in msg  # fields the format does not define are kept
    assert 'questions.jsonl:8: "evidence" given but "answerable" is false' in msg
    assert "questions.jsonl:9: expected an object" in msg


def problems(path: Path) -> str:
    """The message of the InputError that loading ``path`` raises."""
    with pytest.raises(InputError) as err:
        load_questions(path)
    return str(err.value)


def test_long_problem_lists_are_cut_at_ten(tmp_path: Path):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join('{"question": ""}' for _ in range(13)))
    msg = problems(path)
    assert "13 problems" in msg and "q.jsonl:10:" in msg and "q.jsonl:11:" not in msg
    assert "... and 3 more" in msg


def test_csv_and_yaml_problems_name_the_line(tmp_path: Path):
    bad_csv = tmp_path / "q.csv"
    bad_csv.write_text("id,question\nx,fine\ny,one,too many\nz,\n")
    msg = problems(bad_csv)
    assert "q.csv:3: more fields than the header" in msg
    assert 'q.csv:4: "question" is missing or empty' in msg
    no_column = tmp_path / "n.csv"
    no_column.write_text("id,text\n1,hello\n")
    assert 'n.csv:1: no "question" column' in problems(no_column)
    bad_yaml = tmp_path / "q.yaml"
    bad_yaml.write_text("- question: fine\n- question: ok\n  answerable: perhaps\n")
    assert 'q.yaml:2: "answerable"' in problems(bad_yaml)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("question: not in a list\n")
    assert "expected a list" in problems(mapping)


def test_wrong_files(tmp_path: Path):
    with pytest.raises(NotFoundError):
        load_questions(tmp_path / "missing.jsonl")
    (tmp_path / "q.txt").write_text("What?")
    with pytest.raises(InputError, match="unknown question-set format"):
        load_questions(tmp_path / "q.txt")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InputError, match="no questions"):
        load_questions(tmp_path / "empty.jsonl")


# --- running, reporting, comparing ---------------------------------------------------------


QUESTIONS = [
    Question("q1", "What has Russia offered?", evidence=(Gold(quote=QUOTE),)),
    Question("q2", "Bad question", evidence=(Gold(article="a1"),)),
    Question("q3", "Who won in 2031?", answerable=False),
]


class Bar:
    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.n, self.closed = total, desc, 0, False

    def update(self, n: int) -> None:
        self.n += n

    def close(self) -> None:
        self.closed = True


def fake_ask(found: bool):
    def ask(q: Question) -> dict:
        if q.id == "q2":
            raise InputError("The question is too long (3000 characters).")
        if q.id == "q1":
            answer = ans(cite(1), cite(2, QUOTE if found else "other"), text="Unclear [1].")
        else:
            answer = ans(refused=True, text="The corpus does not say.", support=0.1)
        return {**answer, "question": q.question}

    return ask


def test_run_eval_writes_three_files_and_keeps_errors(tmp_path: Path):
    bars: list[Bar] = []

    def progress(total: int, desc: str) -> Bar:
        bars.append(Bar(total, desc))
        return bars[-1]

    summary = run_eval(fake_ask(True), QUESTIONS, tmp_path / "run", {"answer": {"k": 5}}, progress)
    out = tmp_path / "run"
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.jsonl", "summary.json"]
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == ["q1", "q2", "q3"]
    assert results[0]["metrics"]["verdict"] == "found at rank 2"
    assert results[0]["gold"] == [{"article": None, "quote": QUOTE}]
    assert results[1]["metrics"]["verdict"] == "error"
    assert results[1]["error"]["message"] == "The question is too long (3000 characters)."
    assert results[2]["metrics"]["verdict"] == "correctly refused"
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["errors"] == 1
    assert summary["hit@5"] == 0.5  # the failed answerable question counts as a miss
    assert bars[0].total == 3 and bars[0].n == 3 and bars[0].closed


def test_a_bug_in_ask_keeps_its_traceback(tmp_path: Path):
    def ask(q: Question) -> dict:
        raise KeyError("citations")

    run_eval(ask, QUESTIONS[:1], tmp_path, {})
    result = json.loads((tmp_path / "results.jsonl").read_text())
    assert result["error"]["type"] == "KeyError"
    assert "Traceback" in result["error"]["traceback"]


def test_report_escapes_everything_and_fetches_nothing():
    evil = "<script>alert('x')</script>"
    q = Question("x<1>", f"Why {evil}?", evidence=(Gold(quote=evil),), answer=(evil,))
    c = cite(1, f"p {evil}", title=evil, author=evil, outlet=evil, url="https://evil.example/a.js")
    results = [record(q, ans(c, text=f"Because {evil} [1]"))]
    results[0]["error"] = {"message": evil, "traceback": evil}
    html = render_report(summarise(results, {"answer": {"refuse_below": 0.4}, "x": evil}), results)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    targets = re.findall(r"""(?:src|href|action)\s*=\s*["']?([^"'\s>]+)""", html, re.I)
    assert targets and all(t.startswith("#") for t in targets)
    assert html.count("https://") == html.count("https://evil.example/a.js") == 1  # shown as text
    assert "http://" not in html and "url(" not in html and "@import" not in html
    assert "refuse below 0.40" in html


def test_report_plots_and_badges(tmp_path: Path):
    results = five_results()
    html = render_report(summarise(results, {"answer": {"refuse_below": 0.4}}), results)
    assert html.count("<svg") == 3
    assert "found at rank 1" in html and "wrongly answered" in html and "correctly refused" in html
    assert "✓ finds gold" in html


def test_compare_and_summary_table(tmp_path: Path):
    run_eval(fake_ask(False), QUESTIONS, tmp_path / "a", {})
    run_eval(fake_ask(True), QUESTIONS, tmp_path / "b", {})
    text = compare(tmp_path / "a", tmp_path / "b" / "summary.json")
    hit5 = next(line for line in text.splitlines() if line.startswith("hit@5"))
    assert hit5.split() == ["hit@5", "0.000", "0.500", "+0.500"]
    assert "Verdict changes: 1 of 3 questions" in text
    assert "q1: missed → found at rank 2  What has Russia offered?" in text
    table = summary_table(json.loads((tmp_path / "b" / "summary.json").read_text()))
    assert "3 questions, 2 answerable, 1 FAILED" in table
    assert re.search(r"refusal_accuracy\s+1\.000", table)
    assert re.search(r"answer_match\s+n/a", table)
    with pytest.raises(NotFoundError):
        compare(tmp_path / "nope", tmp_path / "b")


# --- runs are atomic; --compare refuses what it cannot compare ---------------------------------


def test_an_interrupted_run_leaves_the_earlier_run_whole(tmp_path: Path) -> None:
    run_eval(fake_ask(True), QUESTIONS, tmp_path / "run", {})
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    asked = []

    def interrupted(q: Question) -> dict:
        asked.append(q)
        if len(asked) == 2:
            raise KeyboardInterrupt
        return fake_ask(False)(q)

    with pytest.raises(KeyboardInterrupt):
        run_eval(interrupted, QUESTIONS, tmp_path / "run", {})
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder left
    asked.clear()
    with pytest.raises(KeyboardInterrupt):
        run_eval(interrupted, QUESTIONS, tmp_path / "new", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_run_into_a_folder_keeps_its_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    run_eval(fake_ask(True), QUESTIONS, tmp_path, {})
    run_eval(fake_ask(False), QUESTIONS, tmp_path, {})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["notes.txt", "report.html", "results.jsonl", "summary.json"]
    with pytest.raises(InputError, match="is a file"):
        run_eval(fake_ask(True), QUESTIONS, tmp_path / "notes.txt", {})


def test_compare_refuses_an_incomplete_run_or_another_set(tmp_path: Path) -> None:
    run_eval(fake_ask(True), QUESTIONS, tmp_path / "a", {})
    run_eval(fake_ask(True), QUESTIONS, tmp_path / "b", {})
    other = [Question(f"o{i}", f"Other question {i}?", answerable=False) for i in range(5)]
    run_eval(fake_ask(True), other, tmp_path / "other", {})
    with pytest.raises(InputError, match="another question set"):
        compare(tmp_path / "a", tmp_path / "other")
    lines = (tmp_path / "b" / "results.jsonl").read_text().splitlines()
    (tmp_path / "b" / "results.jsonl").write_text("\n".join(lines[:2]) + "\n")
    with pytest.raises(InputError, match="holds 2 results but its summary counts 3"):
        compare(tmp_path / "a", tmp_path / "b")
    (tmp_path / "b" / "results.jsonl").write_text("\n".join([*lines[:2], lines[2][:40]]) + "\n")
    with pytest.raises(InputError, match="line 3 is cut off"):
        compare(tmp_path / "a", tmp_path / "b")


def test_eval_cli_refuses_early_and_says_what_ctrl_c_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.api import Assistant
    from assistant.cli import main

    Path("corpus").mkdir()  # a library, empty
    qs = tmp_path / "qs.jsonl"
    qs.write_text('{"id": "a", "question": "Why?", "answerable": false}\n')
    assert main(["eval", str(tmp_path)]) == 1
    assert "is a folder: name the .jsonl" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["eval", str(qs), "--out", str(tmp_path / "file")]) == 1
    assert "is a file" in capsys.readouterr().err
    run_eval(fake_ask(True), QUESTIONS, tmp_path / "old", {})
    assert main(["eval", str(qs), "--compare", str(tmp_path / "old")]) == 1
    assert "another question set" in capsys.readouterr().err

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Assistant, "ask", interrupt)
    monkeypatch.setattr(Assistant, "ensure_index", lambda self: None)
    assert main(["eval", str(qs), "--out", str(tmp_path / "old")]) == 130
    err = capsys.readouterr().err
    assert f"interrupted: the earlier run in {tmp_path / 'old'}/ is as it was." in err
    assert "assistant index" not in err


# --- gold evidence the library does not hold -------------------------------------------------------


def test_gold_the_library_does_not_hold_is_named_once_per_question_and_article_read_once() -> None:
    texts = {
        "a1": "Title\nIt is not clear, however, what, if anything,\nRussia has offered in return."
    }
    asked: list[str] = []

    def has(aid: str) -> bool:
        asked.append(aid)
        return aid in texts

    def text(aid: str) -> str | None:
        asked.append(f"text {aid}")
        return texts.get(aid)

    questions = [
        Question("q1", "Why?", evidence=(Gold("a1", QUOTE), Gold("a1"))),  # fine
        Question("q2", "Why?", evidence=(Gold("no-such-article"), Gold("no-such-article", "x"))),
        Question("q3", "Why?", evidence=(Gold("a1", "a sentence the article never says"),)),
        Question("q4", "Why?", evidence=(Gold(None, "a quote of no article"),)),  # not looked for
        Question("q5", "Why?", answerable=False),
    ]
    assert gold_problems(questions, has, text) == {
        "q2": ["gold article 'no-such-article' is not in the library"],
        "q3": ["gold quote 'a sentence the article never says' is not in article 'a1'"],
    }
    assert sorted(asked) == ["a1", "no-such-article", "text a1"]


def test_eval_warns_of_gold_the_library_does_not_hold_and_counts_it(
    seeded: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from assistant.api import Assistant
    from assistant.cli import main
    from tests.conftest import SEED_ID

    qs = tmp_path / "qs.jsonl"
    lines = [
        {"id": "q1", "question": "Why?", "evidence": [{"article": SEED_ID, "quote": QUOTE}]},
        {"id": "q5", "question": "Why?", "evidence": ["no-such-article"]},
        {"id": "q6", "question": "Why?", "evidence": [{"article": SEED_ID, "quote": "Not said."}]},
    ]
    qs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    answer = ans(cite(1, QUOTE, SEED_ID), text="Unclear [1].")
    monkeypatch.setattr(Assistant, "ask", lambda *a, **kw: SimpleNamespace(to_dict=lambda: answer))
    assert main(["eval", str(qs), "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if line.startswith("warning")] == [
        "warning: q5: gold article 'no-such-article' is not in the library; check the question set",
        f"warning: q6: gold quote 'Not said.' is not in article '{SEED_ID}'; check the question set",
    ]
    assert out.startswith("3 questions, 3 answerable, 2 with gold evidence not in the library")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["gold_not_in_library"] == 2 and summary["hit@1"] == round(1 / 3, 4)
    report = (tmp_path / "run" / "report.html").read_text()
    assert "3 answerable · 2 with gold evidence not in the library</div>" in report


def test_compare_gives_a_paired_interval_of_each_change(tmp_path: Path):
    questions = [
        Question(f"q{i}", f"Question {i}?", evidence=(Gold(quote=QUOTE),)) for i in range(20)
    ]

    def ask_finding(found: set[int]):
        def ask(q: Question) -> dict:
            hit = int(q.id[1:]) in found
            return {**ans(cite(1, QUOTE if hit else "other")), "question": q.question}

        return ask

    run_eval(ask_finding(set(range(5))), questions, tmp_path / "a", {})
    run_eval(ask_finding(set(range(15))), questions, tmp_path / "b", {})
    run_eval(ask_finding(set(range(5))), questions, tmp_path / "c", {})
    mrr = next(line for line in compare(tmp_path / "a", tmp_path / "b").splitlines()
               if line.startswith("mrr"))  # fmt: skip
    low, high = (float(x) for x in re.findall(r"[+-]\d\.\d{3}", mrr)[1:])
    assert mrr.split()[:4] == ["mrr", "0.250", "0.750", "+0.500"]
    assert 0 < low < 0.5 < high <= 0.75  # ten more found of twenty: not chance
    same = compare(tmp_path / "a", tmp_path / "c")
    assert "+0.000 to +0.000" in same and "may be chance" in same
    assert compare(tmp_path / "a", tmp_path / "b") == compare(tmp_path / "a", tmp_path / "b")
