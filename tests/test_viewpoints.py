"""Viewpoints and timeline answers, on three short commentaries about one city's congestion charge
(different authors, outlets and dates, tests/data/viewpoints/) beside the seed article.

Set VIEWPOINTS_SCREENSHOT=docs/web-viewpoints.png to keep a screenshot of the answer in the chat.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.answer import asked, viewpoints
from assistant.answer.evidence import Evidence
from assistant.api import Assistant
from assistant.cli import main
from assistant.evaluation.metrics import run_eval
from assistant.evaluation.questions import Question, load_questions
from assistant.settings import Settings
from assistant.types import Passage
from assistant.web import viewpoints_view
from tests.conftest import DATA, SEED, build_library

ARTICLES = {
    "congestion_hartley": ("Nadia Hartley", "The Milbrook Herald", "2024-03-04"),
    "congestion_okafor": ("Daniel Okafor", "Northern Ledger", "2024-05-20"),
    "congestion_brandt": ("Lena Brandt", "City Desk Weekly", "2025-06-02"),
}
VIEWS_Q = "What do columnists say about Milbrook's congestion charge?"
TIMELINE_Q = "How has the view of Milbrook's congestion charge changed over time?"
SEED_QUESTION = "What has Russia offered in return?"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Settings:
    root = tmp_path_factory.mktemp("viewpoints")
    sources = [DATA / "viewpoints" / f"{name}.md" for name in ARTICLES]
    return build_library(root, model_cache, [SEED, *sources])


@pytest.fixture(scope="module")
def vp(library: Settings) -> Iterator[Assistant]:
    a = Assistant(library)
    yield a
    a.close()


def _check_citations(d: dict[str, Any]) -> None:
    """Markers in order of first use, every marker a citation, every quote inside its passage."""
    used = [int(n) for n in re.findall(r"\[(\d+)\]", d["answer"])]
    assert used == sorted(set(used)) == [c["n"] for c in d["citations"]]
    for c in d["citations"]:
        assert c["quote"] and c["quote"] in c["passage"]


# --- recognising the question -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "mode"),
    [
        ("What do commentators say about sanctions on Russia?", "viewpoints"),
        ("How do CNN and USA Today columnists differ on the midterms?", "viewpoints"),
        ("What views are there on Ukraine's bid to join the EU?", "viewpoints"),
        ("Who says the peace plan favours Russia?", "viewpoints"),
        ("What does each author argue about the charge?", "viewpoints"),
        ("How has the view on a Ukraine ceasefire changed since June?", "timeline"),
        ("Give me a timeline of the convoy protest", "timeline"),
        # one source, a comparison of facts, "since" bounding a fact: ordinary questions
        ("Which commentator warns that a degree no longer assures a middle-class life?", None),
        ("Which US city saw the biggest rise in rents compared to a year ago?", None),
        ("How much aid has the US approved since the beginning of the invasion?", None),
        ("What has Russia offered in return?", None),
    ],
)
def test_the_wording_decides_the_mode(question: str, mode: str | None) -> None:
    assert viewpoints.recognise(question) == mode


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What views are there on Ukraine's bid to join the EU?", "Ukraine's bid to join the EU?"),
        ("What are the different perspectives on nuclear power?", "nuclear power?"),
        ("What do the two columnists say about whether the charge works?",
         "whether the charge works?"),
        ("How do different outlets report Serena Williams' reasons for stepping away?",
         "Serena Williams' reasons for stepping away?"),
        ("What are experts saying about inflation?", "inflation?"),
        ("How did US inflation develop from autumn 2021 to spring 2022?",
         "US inflation from autumn 2021 to spring 2022?"),
        ("Who says the peace plan favours Russia?", "peace plan favours Russia?"),
        ("What do a critic and the box-office reports say about 'Top Gun: Maverick'?",
         "'Top Gun: Maverick'?"),
        ("Milbrook congestion charge", "Milbrook congestion charge"),
        ("Give me a timeline", "Give me a timeline"),  # nothing left: the question itself
    ],
)  # fmt: skip
def test_the_topic_is_what_the_sources_are_asked_about(question: str, subject: str) -> None:
    assert viewpoints.topic(question) == subject
    # "What are there on ..." once read as a question for an attribute "there": all refused
    assert asked.asked_for(viewpoints.topic(question)) is None


def test_an_explicit_mode_wins_and_bad_values_are_named() -> None:
    assert viewpoints.mode_for(SEED_QUESTION, None, "author") == "viewpoints"
    assert viewpoints.mode_for(SEED_QUESTION, "timeline", None) == "timeline"
    assert viewpoints.mode_for(VIEWS_Q, "answer", None) is None
    with pytest.raises(Exception, match="mode must be one of"):
        viewpoints.mode_for(SEED_QUESTION, "table", None)
    with pytest.raises(Exception, match="--by must be one of"):
        viewpoints.mode_for(SEED_QUESTION, None, "colour")


# --- answers ------------------------------------------------------------------------------------


def test_a_viewpoints_question_cites_each_commentary_once(vp: Assistant) -> None:
    d = vp.ask(VIEWS_Q).to_dict()
    assert not d["refused"]
    rows = d["viewpoints"]
    assert sorted(r["article_id"] for r in rows) == sorted(ARTICLES)  # one row each, no seed
    for r in rows:
        assert set(r) == {"article_id", "title", "author", "outlet", "published", "citations"}
        assert (r["author"], r["outlet"], r["published"]) == ARTICLES[r["article_id"]]
        assert 1 <= len(r["citations"]) <= 2
        for n in r["citations"]:
            cite = d["citations"][n - 1]
            assert cite["article_id"] == r["article_id"]
            assert cite["score"] >= vp.settings.answer.refuse_below  # each entry has support
    assert [n for r in rows for n in r["citations"]] == [c["n"] for c in d["citations"]]
    _check_citations(d)
    json.dumps(d)  # the answer object stays plain JSON


def test_a_timeline_is_in_date_order(vp: Assistant) -> None:
    d = vp.ask(TIMELINE_Q).to_dict()
    dates = [r["published"] for r in d["viewpoints"]]
    assert len(dates) == 3 and dates == sorted(dates)
    assert "oldest first" in d["answer"].splitlines()[0]
    assert d["answer"].splitlines()[1].startswith("- 2024-03-04 — Nadia Hartley")
    _check_citations(d)


def test_grouped_by_outlet_or_author(vp: Assistant) -> None:
    d = vp.ask("the congestion charge in Milbrook", by="outlet")
    assert d.viewpoints is not None
    assert "by outlet" in d.answer.splitlines()[0]
    for line, v in zip(d.answer.splitlines()[1:], d.viewpoints, strict=True):
        assert line.startswith(f"- {v.outlet} — ")


def test_an_ordinary_question_gets_an_ordinary_answer(vp: Assistant) -> None:
    d = vp.ask(SEED_QUESTION).to_dict()
    assert "viewpoints" not in d
    assert set(d) == {"question", "answer", "refused", "citations", "latency_ms", "support"}
    assert not d["refused"] and d["citations"][0]["author"] == "Stefan Wolff"


def test_entries_without_support_are_left_out_and_none_is_a_refusal(vp: Assistant) -> None:
    d = vp.ask("What do commentators say about the rings of Saturn?").to_dict()
    assert d["refused"] and d["viewpoints"] == [] and d["citations"] == []


def _entry(aid: str, published: str | None, author: str, rank: int) -> viewpoints.Entry:
    p = Passage(f"{aid}:0", aid, 1, 0, 20, "A sentence of words.", None, aid, author, "Out",
                published, None)  # fmt: skip
    return viewpoints.Entry((Evidence(p, 0, 0, 20, 1.0, 0.8, 0.5, 0.9),), rank)


def test_entries_keep_the_articles_order_and_skip_repeats_and_unsupported() -> None:
    def ev(aid: str, text: str, support: float, score: float = 1.0) -> Evidence:
        p = Passage(f"{aid}:0", aid, 1, 0, len(text), text, None, aid, "A", "O", None, None)
        return Evidence(p, 0, 0, len(text), score, 0.8, 0.5, support)

    judged = {  # in the articles' ranking, not by score
        "a": [ev("a", "Tolls cut traffic in the centre by a fifth.", 0.9, score=0.5)],
        "b": [ev("b", "The charge hurts small shops on the ring road.", 0.4, score=0.9)],
        "c": [ev("c", "Tolls cut traffic in the centre by a fifth!", 0.9)],  # a syndicated copy
        "d": [ev("d", "However, the column said: tolls cut traffic.", 0.8)],  # its own words
    }
    listed = viewpoints.entries(judged, 0.5, 8)
    assert [e.passage.article_id for e in listed] == ["a", "d"]
    assert [e.rank for e in listed] == [0, 1]
    assert viewpoints.entries(judged, 0.5, 1)[0].passage.article_id == "a"
    # a fragment cut at "Roe v." shares its few words with longer sentences: not a repeat
    assert not viewpoints.repeats("Wade ruling, as indicated by a leaked draft opinion",
                                  "Wade ruling polls after the leaked draft opinion showed "
                                  "public approval of the court tumbling sharply")  # fmt: skip


def test_articles_are_ranked_by_how_much_they_are_about_the_topic(vp: Assistant) -> None:
    from assistant.answer.retrieval import retrieve

    lib = vp.library
    lib.ensure_lexical()
    query = viewpoints.topic(VIEWS_Q)
    found = retrieve(lib.stores, query, n=viewpoints.RETRIEVE)
    ranked = viewpoints.rank_articles(lib.stores, query, found.query_vector, found.passages, 30,
                                      20)  # fmt: skip
    assert sorted(ranked[:3]) == sorted(ARTICLES) and len(ranked) == 4  # the seed last
    first_two = list(dict.fromkeys(p.article_id for p in found.passages))[:2]  # the pool
    assert sorted(viewpoints.rank_articles(lib.stores, query, None, found.passages, 2, 20)) == (
        sorted(first_two)
    )
    qv = found.query_vector
    assert qv is not None
    passages, stored = viewpoints.best_passages(lib.stores, ranked[:2], qv, 2)
    assert [p.article_id for p in passages] == [ranked[0]] * 2 + [ranked[1]] * 2
    assert set(stored) == {p.chunk_id for p in passages}
    closest = [float((stored[p.chunk_id] @ qv).max()) for p in passages]
    every = lib.catalog.sentence_vectors(lib.catalog.chunk_ids_of(ranked[0]), len(qv))
    assert closest[0] == max(float((v @ qv).max()) for v in every.values())  # from any passage
    assert closest[0] >= closest[1]


def test_undated_entries_go_last_and_say_so() -> None:
    es = [_entry("a", None, "Ann", 0), _entry("b", "2024-05-01", "Bo", 1),
          _entry("c", "2023-01-01", "Ann", 2)]  # fmt: skip
    assert [e.passage.article_id for e in viewpoints.order(es, True, "article")] == ["c", "b", "a"]
    by_author = viewpoints.order(es, False, "author")
    assert [e.passage.article_id for e in by_author] == ["a", "c", "b"]  # Ann's two together
    ans = viewpoints.compose(
        "q", viewpoints.order(es, True, "article"), True, "article", lambda p: p.text
    )
    assert ans.answer.splitlines()[-1].startswith("- Date unknown — Ann")


# --- the command line, the web table -----------------------------------------------------------


def test_cli_by_author_and_timeline(library: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--corpus", str(library.corpus_dir), "--index", str(library.index_dir)]
    assert main([*where, "ask", "What about Milbrook's congestion charge?", "--by", "author",
                 "--json"]) == 0  # fmt: skip
    d = json.loads(capsys.readouterr().out)
    assert "by author" in d["answer"] and len(d["viewpoints"]) >= 2
    assert main([*where, "ask", "Milbrook's congestion charge", "--timeline"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("What ") and "oldest first" in out.splitlines()[0]
    assert out.index("2024-03-04") < out.index("2025-06-02")
    with pytest.raises(SystemExit):  # argparse names the choices
        main([*where, "ask", "Milbrook", "--by", "colour"])
    assert "invalid choice: 'colour'" in capsys.readouterr().err


def test_the_table_escapes_and_links_each_row() -> None:
    d = {
        "answer": "What 1 article says (most relevant first):\n- x",
        "citations": [{"n": 1, "quote": "<b>Tolls</b> | work", "article_id": "a"}],
        "viewpoints": [{"article_id": "a", "title": "T", "author": "<i>Ann</i>", "outlet": None,
                        "published": None, "citations": [1]}],
    }  # fmt: skip
    h = viewpoints_view.table_html(d)
    assert "<b>" not in h and "&lt;b&gt;Tolls&lt;/b&gt;" in h and "&lt;i&gt;Ann" in h
    assert 'class="ca-vp-row" data-open="1" data-n="1"' in h and "date unknown" in h
    md = viewpoints_view.chat_markdown(d)
    assert "| who · where · when | what they say |" in md and "\\|" in md and "<b>" not in md


# --- evaluation ---------------------------------------------------------------------------------


def test_eval_asks_in_the_mode_and_reports_source_recall(vp: Assistant, tmp_path: Path) -> None:
    gold = [{"article": aid} for aid in ARTICLES]
    lines = [
        {"id": "v1", "question": "Milbrook congestion charge", "mode": "viewpoints",
         "evidence": gold},
        {"id": "o1", "question": SEED_QUESTION},
    ]  # fmt: skip
    path = tmp_path / "qs.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    qs = load_questions(path)
    assert [q.mode for q in qs] == ["viewpoints", None]
    summary = run_eval(
        lambda q: vp.ask(q.question, mode=q.mode).to_dict(), qs, tmp_path / "run", {}
    )
    assert summary["source_recall"] == 1.0
    results = [json.loads(x) for x in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert "viewpoints" in results[0] and "viewpoints" not in results[1]
    assert results[1]["metrics"]["source_recall"] is None
    assert "source_recall" in (tmp_path / "run" / "report.html").read_text()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q", "mode": "table"}) + "\n")
    with pytest.raises(Exception, match='"mode" must be one of'):
        load_questions(bad)
    assert Question("x", "y").mode is None


# --- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_url(library: Settings) -> Iterator[str]:
    from tests.conftest import served_app

    with served_app(library) as url:
        yield url


def test_api_ask_takes_mode_and_by(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    ans: Any = client.predict("Milbrook congestion charge", mode="timeline", by="author",
                              api_name="/ask")  # fmt: skip
    ans = json.loads(ans) if isinstance(ans, str) else ans
    assert "viewpoints" in ans and "by author" in ans["answer"]
    plain: Any = client.predict(SEED_QUESTION, api_name="/ask")
    plain = json.loads(plain) if isinstance(plain, str) else plain
    assert "viewpoints" not in plain


@pytest.mark.browser
def test_the_chat_shows_a_viewpoints_table_whose_rows_open_the_passage(app_url: str) -> None:
    from tests.test_web import CHROMIUM, CHROMIUM_ARGS, _ask, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(app_url, wait_until="load")
        page.get_by_text("Commentary Assistant").first.wait_for()
        page.locator("#ca-examples").get_by_text(SEED_QUESTION).wait_for()
        bot = _ask(page, VIEWS_Q, 0)
        bot.locator("table").wait_for()
        chat_text = bot.inner_text()
        for author, outlet, _ in ARTICLES.values():
            assert author in chat_text and outlet in chat_text
        rows = page.locator("#ca-sources .ca-vp-row")
        rows.first.wait_for()
        assert rows.count() == 3
        assert "Nadia Hartley" in page.locator("#ca-sources .ca-vp-table").inner_text()
        if shot := os.environ.get("VIEWPOINTS_SCREENSHOT"):
            page.wait_for_timeout(300)
            page.screenshot(path=shot)
        okafor = rows.filter(has_text="Daniel Okafor")
        okafor.locator("td").first.click()
        cited = page.locator("#ca-chat-article .ca-cited")
        cited.wait_for()
        assert "Daniel Okafor" in page.locator("#ca-chat-article .ca-meta").inner_text()
        browser.close()


def test_answer_as_labels_name_the_modes() -> None:
    from assistant.web import chat

    assert chat.answer_as(chat.AUTOMATIC) == (None, None) == chat.answer_as(None)
    assert chat.answer_as("Viewpoints, by outlet") == ("viewpoints", "outlet")
    assert chat.answer_as("Timeline") == ("timeline", None)
    for mode, by in chat.ANSWER_AS.values():  # every label is a mode Assistant.ask takes
        assert viewpoints.mode_for(SEED_QUESTION, mode, by) == (mode or None)
    with pytest.raises(Exception, match="Answer as: expected one of"):
        chat.answer_as("Table")


@pytest.mark.browser
def test_the_chat_asks_for_a_timeline_or_viewpoints_by_outlet_from_its_menu(app_url: str) -> None:
    from tests.test_web import CHROMIUM, CHROMIUM_ARGS, _ask, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    def answer_as(page: Any, label: str) -> None:
        page.locator("#ca-answer-as input").click()
        page.get_by_role("option", name=label, exact=True).click()
        assert page.locator("#ca-answer-as input").input_value() == label

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(app_url, wait_until="load")
        page.locator("#ca-examples").get_by_text(SEED_QUESTION).wait_for()
        assert page.locator("#ca-answer-as input").input_value() == "Automatic"
        # wording that asks for one answer: the menu decides
        answer_as(page, "Timeline")
        bot = _ask(page, "Milbrook's congestion charge", 0)
        bot.locator("table").wait_for()
        assert "oldest first" in bot.inner_text()
        text = bot.inner_text()
        assert text.index("2024-03-04") < text.index("2024-05-20") < text.index("2025-06-02")
        answer_as(page, "Viewpoints, by outlet")
        bot = _ask(page, "Milbrook's congestion charge", 1)
        bot.locator("table").wait_for()
        assert "by outlet" in bot.inner_text()
        assert page.locator("#ca-sources .ca-vp-row").count() == 3
        answer_as(page, "Automatic")  # back to the wording: an ordinary answer
        bot = _ask(page, SEED_QUESTION, 2)
        bot.get_by_text("[1]").first.wait_for()
        assert bot.locator("table").count() == 0 and "Russia has offered" in bot.inner_text()
        browser.close()


_LONGEST_WORD_FITS = """cells => cells.every(td => {
    const ctx = document.createElement('canvas').getContext('2d');
    const st = getComputedStyle(td);
    ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
    const longest = Math.max(...td.innerText.split(/\\s+/).map(w => ctx.measureText(w).width));
    const room = st.display === 'inline' ? td.getBoundingClientRect().width
        : td.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
    return room >= longest - 1;
})"""


@pytest.mark.browser
def test_viewpoints_tables_read_well_at_1400_and_390_px(app_url: str) -> None:
    """Names never break mid-word, "what they say" is not cut off, quotes carry one pair of
    marks; at 390 px the rows stack (issue 24, item 4)."""
    from tests.test_web import CHROMIUM, CHROMIUM_ARGS, _ask, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    shots = os.environ.get("WEB_SHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(app_url, wait_until="load")
        page.locator("#ca-examples").get_by_text(SEED_QUESTION).wait_for()
        bot = _ask(page, VIEWS_Q, 0)
        bot.locator("table").wait_for()
        page.locator("#ca-sources .ca-vp-row").first.wait_for()
        for width in (1400, 390):
            page.set_viewport_size({"width": width, "height": 1000 if width > 400 else 844})
            page.wait_for_timeout(300)
            who = page.locator("#ca-sources td.ca-vp-who, #ca-sources td.ca-vp-outlet")
            assert page.evaluate(_LONGEST_WORD_FITS, who.element_handles()), width
            chat_who = bot.locator("td:first-child")
            assert page.evaluate(_LONGEST_WORD_FITS, chat_who.element_handles()), width
            table = page.locator("#ca-sources .ca-vp-table").bounding_box()
            panel = page.locator("#ca-sources").bounding_box()
            assert (
                table and panel and table["x"] + table["width"] <= panel["x"] + panel["width"] + 1
            )
            said = page.locator("#ca-sources td.ca-vp-said").first.bounding_box()
            assert said and said["x"] + said["width"] <= width
            if width == 390:  # stacked: each row one block, no header row
                assert page.locator("#ca-sources .ca-vp-table thead").is_hidden()
                display = page.locator("#ca-sources .ca-vp-row").first.evaluate(
                    "r => getComputedStyle(r).display"
                )
                assert display == "block"
            text = bot.inner_text() + page.locator("#ca-sources").inner_text()
            assert "““" not in text and "””" not in text
            if shots:
                page.locator("#ca-sources").scroll_into_view_if_needed()
                page.screenshot(
                    path=str(Path(shots) / f"web-viewpoints-{width}.png"), full_page=width == 390
                )
        browser.close()


def test_quotes_are_shown_with_one_pair_of_marks() -> None:
    d = {
        "answer": "What 1 article says:\n- x",
        "citations": [{"n": 1, "quote": "“Student debt is a trap.”", "article_id": "a"},
                      {"n": 2, "quote": "“No,” he said.", "article_id": "a"},
                      {"n": 3, "quote": "60% support “forgiving debt.”", "article_id": "a"}],
        "viewpoints": [{"article_id": "a", "title": "T", "author": "Ann", "outlet": None,
                        "published": None, "citations": [1, 2, 3]}],
    }  # fmt: skip
    for out in (viewpoints_view.table_html(d), viewpoints_view.chat_markdown(d)):
        assert "““" not in out and "””" not in out and "“Student debt is a trap" in out
        plain = out.replace("\\", "")  # the chat's Markdown escapes
        assert "“‘No,’ he said.”" in plain and "“60% support ‘forgiving debt.’”" in plain
