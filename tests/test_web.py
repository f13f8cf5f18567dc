"""The web app: the real app, model and Chroma, driven through gradio_client and headless Chromium.

One app per module (the seed and the hostile article in a temp library), served on a free port of
127.0.0.1 by ``serve(..., block=False)``, the same path ``python app.py`` takes. Set
WEB_SCREENSHOT=docs/web-answer.png to keep a screenshot of an answer.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import InputError
from assistant.settings import Settings
from assistant.web import launch, render
from tests.conftest import DATA, SEED, SEED_ID, build_library, served_app

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SEED_QUESTION = "What has Russia offered in return?"
SEED_QUOTE = "It is not clear, however, what, if anything, Russia has offered in return"
HOSTILE_TITLE = "<b>Tram fares</b> & <img src=x onerror=alert(3)>"
PASTED = """Lisbon raises its tram fares

Lisbon's city council has raised the price of a single tram ticket bought on board to 3.10 euros, \
the largest increase since the historic Line 28 was modernised.

Councillors argued that the yellow trams carry more tourists than residents, and that the extra \
revenue will pay for new brakes on the oldest carriages.

Residents with a monthly pass will not pay more, the council said.
"""


# --- rendering (no server) ----------------------------------------------------------------------


def test_plain_markdown_shows_every_character() -> None:
    text = "<script>alert(1)</script> *not bold* [1] $5 and $6 # 1. x"
    md = render.plain_markdown(text)
    assert "<" not in md and ">" not in md
    assert "\\*not bold\\*" in md and "\\[1\\]" in md and "\\$5" in md


def test_cards_escape_article_data_and_mark_the_quote() -> None:
    cite = {
        "n": 1, "article_id": "a1", "title": "<img src=x onerror=alert(2)>", "author": "A <b>B</b>",
        "outlet": None, "published": None, "url": "javascript:alert(1)", "paragraph": 3,
        "quote": "He typed <script>alert(1)</script>.", "passage": "Before. He typed <script>alert(1)</script>. After.",
        "score": 0.8,
    }  # fmt: skip
    out = render.sources_html(
        {"question": "q", "answer": "x [1]", "refused": False, "citations": [cite]}
    )
    assert "<script" not in out and "<img" not in out and "<b>" not in out
    assert "javascript:" not in out  # a non-http URL is not linked
    assert "date unknown" in out and "paragraph 3" in out
    assert "<mark>He typed &lt;script&gt;alert(1)&lt;/script&gt;.</mark>" in out


def test_refusal_says_no_supporting_passage() -> None:
    out = render.sources_html({"question": "q", "answer": "no", "refused": True, "citations": []})
    assert "No supporting passage" in out


def test_cited_sources_come_before_further_passages() -> None:
    def cite(n: int) -> dict[str, Any]:
        return {"n": n, "article_id": f"a{n}", "title": f"T{n}", "paragraph": 1,
                "quote": "Q.", "passage": "Q.", "score": 0.5}  # fmt: skip

    out = render.sources_html(
        {
            "question": "q",
            "answer": "Q [1]. R [2].",
            "refused": False,
            "citations": [cite(1), cite(2), cite(3)],
        }
    )
    assert "2 sources cited in the answer" in out
    head = out.index("not cited in the answer")
    assert out.index('data-n="2"') < head < out.index('data-n="3"')


def test_article_view_escapes_and_marks_the_cited_paragraph() -> None:
    from assistant.types import Article

    article = Article(id="a1", body="<b>First</b> para.\n\n## <i>Head</i>\n\nSecond one. Quote here.",
                      title="<script>x</script>", url="https://example.org/a?b=1&c=2")  # fmt: skip
    out = render.article_html(article, paragraph=2, quote="Quote here.", prefix="t")
    assert "<b>" not in out and "<i>" not in out and "<script>" not in out
    assert '<h4 class="ca-heading">&lt;i&gt;Head&lt;/i&gt;</h4>' in out
    assert 'id="t-p2" class="ca-para ca-cited"' in out and "<mark>Quote here.</mark>" in out
    assert 'href="https://example.org/a?b=1&amp;c=2"' in out


def test_highlight_and_table_rows() -> None:
    assert render.highlight("a <b> c", "<b>") == "a <mark>&lt;b&gt;</mark> c"
    assert render.highlight("a b", "missing") == "a b"
    # a passage of joined paragraphs shows them apart, the quote marked in its own
    assert render.highlight("One.\n\nTwo. Three.", "Two.") == "One.<br><br><mark>Two.</mark> Three."
    from assistant.index.catalog import ArticleRow

    rows = [
        ArticleRow(id="z", mtime_ns=0, size=0, file_sha="", content_hash="", signature=b"",
                   title="Beta", author="Ann", outlet="CNA", published=None, url=None, added=None),
        ArticleRow(id="y", mtime_ns=0, size=0, file_sha="", content_hash="", signature=b"",
                   title="alpha", author="Bob", outlet=None, published="2025-01-02", url=None,
                   added=None),
    ]  # fmt: skip
    assert [r[0] for r in render.table_rows(rows)] == ["alpha", "Beta"]
    assert [r[-1] for r in render.table_rows(rows, "cna")] == ["z"]


def test_generated_note_lists_what_was_removed_escaped() -> None:
    note = render.generated_note({
        "answer": "A [1].", "generated": True, "fallback": None,
        "statements": [{"text": "ok", "verified": True},
                       {"text": "<b>made up</b>", "verified": False, "reason": "no support"}],
    })  # fmt: skip
    assert "checked against the passage" in note and "Removed 1 generated statement " in note
    assert "~~&lt;b&gt;made up&lt;/b&gt;~~ (no support)" in note
    assert render.generated_note({"fallback": "refusal"}) == ""


def test_rendering_needs_no_gradio() -> None:
    import subprocess
    import sys

    code = "import sys, assistant.web.render, assistant.web.app; print('gradio' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_web_settings_refuse_private_urls_unless_allowed() -> None:
    assert launch.web_settings(Settings.from_env({})).ingest.allow_private_urls is False
    assert launch.web_settings(
        Settings.from_env({"ASSISTANT_ALLOW_PRIVATE_URLS": "1"})
    ).ingest.allow_private_urls


def test_the_web_gives_web_users_advice_they_can_follow_and_the_cli_keeps_its_own() -> None:
    from types import SimpleNamespace

    from assistant.answer.pipeline import unmatched_filters
    from assistant.ingest.sources import check_url
    from assistant.settings import IngestSettings
    from assistant.types import Filters
    from assistant.web.chat import chat
    from assistant.web.context import fail

    library: Any = SimpleNamespace(stores=SimpleNamespace(allowed_articles=lambda f: []))
    refusal = unmatched_filters(library, Filters(outlet="Nowhere Times"))
    assert refusal is not None and "(assistant list shows the outlets" in refusal  # the CLI's
    answer = {"question": "Why?", "answer": refusal, "refused": True, "citations": []}
    ctx: Any = SimpleNamespace(assistant=SimpleNamespace(
        can_generate=False, ensure_index=lambda: None,
        ask=lambda *a, **kw: SimpleNamespace(to_dict=lambda: answer)))  # fmt: skip
    shown = next(chat(ctx, "Why?", [], "Nowhere Times", "", "", "", 5))[2][-1]["answer"]
    assert shown.endswith("Widen or clear the filters (the Corpus tab lists the outlets, "
                          "authors and dates).")  # fmt: skip
    with pytest.raises(InputError) as e:
        check_url("http://127.0.0.1:9/a", IngestSettings(allow_private_urls=False))
    assert str(e.value).endswith("(set ASSISTANT_ALLOW_PRIVATE_URLS=1 to allow).")  # the CLI's
    assert fail(e.value).message == (
        "http://127.0.0.1:9/a: refers to a private or local address (127.0.0.1); "
        "the server does not fetch such addresses (its administrator can allow them)."
    )
    assert render.web_advice("Nothing to change.") == "Nothing to change."


def test_auth_and_loopback() -> None:
    assert launch.parse_auth("ann:se:cret") == ("ann", "se:cret")
    assert launch.parse_auth(None) is None
    with pytest.raises(InputError):
        launch.parse_auth("no-password")
    assert launch.is_loopback("127.0.0.1") and launch.is_loopback("localhost")
    assert not launch.is_loopback("0.0.0.0")


# --- the running app ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_library(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Settings:
    """A library of the seed + the hostile article, for the module's app."""
    root = tmp_path_factory.mktemp("web")
    return build_library(root, model_cache, [SEED, DATA / "hostile_script.md"])


@pytest.fixture(scope="module")
def app_url(app_library: Settings) -> Iterator[str]:
    """The app over ``app_library``, served until the module ends."""
    with served_app(app_library) as url:
        yield url


def test_api_ask_with_the_question_alone(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    ans: Any = client.predict(SEED_QUESTION, api_name="/ask")
    if isinstance(ans, str):  # the contract allows a JSON string
        import json

        ans = json.loads(ans)
    assert ans["question"] == SEED_QUESTION and ans["refused"] is False
    assert "[1]" in ans["answer"]
    first = ans["citations"][0]
    assert set(first) >= {"n", "article_id", "title", "author", "outlet", "published", "url",
                          "paragraph", "quote", "passage", "score"}  # fmt: skip
    assert first["n"] == 1 and first["article_id"] == SEED_ID
    assert first["author"] == "Stefan Wolff" and first["outlet"] == "CNA"
    assert first["quote"] in first["passage"] and SEED_QUOTE in first["quote"]

    follow = client.predict("and what did Ukraine reject?", [ans], api_name="/ask")
    assert not follow["refused"] and follow["citations"]

    only = client.predict(SEED_QUESTION, None, "The Byte Review", api_name="/ask")
    assert {c["outlet"] for c in only["citations"]} <= {"The Byte Review"}


def test_the_only_public_api_is_ask(app_url: str) -> None:
    """The page's own events stay private: a callable component value (the feed table's was)
    would be listed as an endpoint such as /lambda_6 for anyone to call."""
    from gradio_client import Client

    api: Any = Client(app_url, verbose=False).view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]
    assert not api["unnamed_endpoints"]


def test_api_empty_question_is_an_error(app_url: str) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="Invalid date"):
        client.predict(SEED_QUESTION, since="last week", api_name="/ask")
    with pytest.raises(AppError, match="As of: Invalid date 'June'"):
        client.predict(SEED_QUESTION, as_of="June", api_name="/ask")


def test_api_asks_as_of_a_date(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    ans: Any = client.predict(SEED_QUESTION, as_of="2022/06/16", api_name="/ask")
    if isinstance(ans, str):
        import json

        ans = json.loads(ans)
    assert ans["citations"][0]["author"] == "Stefan Wolff"  # undated: nothing says it came later


# --- in a browser ---------------------------------------------------------------------------------


def require_chromium() -> None:
    """Skip a browser test when Chromium is missing, except under CI, where it fails the run
    (a CI that passed without its browser tests would prove nothing about the web app)."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        missing = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{missing}; under CI a missing browser fails the run", pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh page on the app; every alert/confirm dialog is recorded in ``page.dialogs``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.set_default_timeout(30_000)
    pg.goto(app_url, wait_until="load")
    pg.get_by_text("Commentary Assistant").first.wait_for()
    pg.locator("#ca-examples").get_by_text(SEED_QUESTION).wait_for()  # the corpus has loaded
    yield pg
    context.close()


def _ask(page: Any, question: str, answers_before: int) -> Any:
    """Ask in the chat; the locator of the new answer once it is shown."""
    box = page.locator("#ca-question textarea")
    box.fill(question)
    box.press("Enter")
    bot = page.locator('#ca-chat [data-testid="bot"]')
    bot.nth(answers_before).wait_for()
    return bot.nth(answers_before)


@pytest.mark.browser
def test_chat_answers_cites_follows_up_and_opens_the_article(page: Any) -> None:
    answer = _ask(page, SEED_QUESTION, 0)
    assert "[1]" in answer.inner_text()
    assert "Russia has offered in return" in answer.inner_text()
    card = page.locator("#ca-sources .ca-card").first
    card.wait_for()
    meta = card.locator(".ca-meta").inner_text()
    assert "Stefan Wolff" in meta and "CNA" in meta and "date unknown" in meta
    assert re.search(r"paragraph \d+", meta)
    assert SEED_QUOTE in card.locator("mark").inner_text()
    if shot := os.environ.get("WEB_SCREENSHOT"):
        page.wait_for_timeout(300)
        page.screenshot(path=shot)

    follow = _ask(page, "and what did Ukraine reject?", 1)
    assert re.search(r"\[1\]", follow.inner_text())
    assert "No answer in the corpus" not in follow.inner_text()

    # back to the first answer's sources, then open its article at the cited paragraph
    page.locator('#ca-chat [data-testid="bot"]').first.click()
    page.locator("#ca-sources .ca-card").first.locator("mark").get_by_text(SEED_QUOTE).wait_for()
    page.locator("#ca-sources button.ca-open").first.click()
    cited = page.locator("#ca-chat-article .ca-cited")
    cited.wait_for()
    assert SEED_QUOTE in cited.locator("mark").inner_text()
    page.wait_for_function(
        "() => { const r = document.querySelector('#ca-chat-article .ca-cited').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert page.locator("#ca-chat-article .ca-para").count() > 20  # the whole article
    assert page.dialogs == []


@pytest.mark.browser
def test_empty_question_shows_an_error_not_an_answer(page: Any) -> None:
    page.get_by_role("button", name="Ask", exact=True).click()
    page.get_by_text("The question is empty").wait_for()
    assert page.locator('#ca-chat [data-testid="bot"]').count() == 0


@pytest.mark.browser
def test_hostile_article_renders_as_text(page: Any) -> None:
    answer = _ask(page, "What did he type into the comment field?", 0)
    page.locator("#ca-sources .ca-card").first.wait_for()
    shown = answer.inner_text() + page.locator("#ca-sources").inner_text()
    assert "<script>alert(1)</script>" in shown
    # open the hostile article: every paragraph as text
    card = page.locator("#ca-sources .ca-card", has_text="comment box").first
    card.locator("button.ca-open").click()
    view = page.locator("#ca-chat-article")
    view.locator(".ca-cited").wait_for()
    text = view.inner_text()
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
    # and in the corpus tab
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#ca-table").get_by_text("What a comment box taught me").click()
    page.locator("#ca-corpus-article").get_by_text("onerror=alert(2)", exact=False).wait_for()
    assert "<script>alert(1)</script>" in page.locator("#ca-corpus-article").inner_text()
    assert page.locator("script:has-text('alert(')").count() == 0
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(500)
    assert page.dialogs == []


@pytest.mark.browser
def test_add_by_pasting_ask_then_remove(page: Any) -> None:
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#ca-paste textarea").fill(PASTED)
    page.locator("#ca-paste-title input, #ca-paste-title textarea").first.fill(HOSTILE_TITLE)
    page.locator("#ca-paste-author input, #ca-paste-author textarea").first.fill("Ana Costa")
    page.locator("#ca-paste-outlet input, #ca-paste-outlet textarea").first.fill("Lisbon Ledger")
    page.locator("#ca-paste-date input, #ca-paste-date textarea").first.fill("2025-03-01")
    page.locator("#ca-paste-add").click()
    log = page.locator("#ca-add-log textarea")
    page.wait_for_function(
        "() => / added$/.test(document.querySelector('#ca-add-log textarea').value)"
    )
    line = log.input_value().strip()
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]* added", line), line
    new_id = line.split()[0]
    page.locator("#ca-table").get_by_text(HOSTILE_TITLE).wait_for()  # the title shown as text

    page.get_by_role("tab", name="Chat").click()
    _ask(page, "How much does a single tram ticket cost in Lisbon?", 0)
    card = page.locator("#ca-sources .ca-card").first
    card.get_by_text("Ana Costa").wait_for()
    assert "Lisbon Ledger" in card.inner_text() and "2025-03-01" in card.inner_text()
    assert "3.10 euros" in card.locator("mark").inner_text()

    # a URL to a private address is refused by the web app
    page.get_by_role("tab", name="Corpus").click()
    page.get_by_role("tab", name="From a URL").click()
    page.get_by_label("Address").fill("http://127.0.0.1:9/article")
    page.get_by_role("button", name="Fetch and add").click()
    page.wait_for_function(
        "() => /private or local address/.test(document.querySelector('#ca-add-log textarea').value)"
    )

    page.locator("#ca-picked input, #ca-picked textarea").first.fill(new_id)
    page.get_by_role("button", name="Remove").click()
    page.locator("#ca-remove-yes").click()  # "Remove “…” (id)?": yes
    page.wait_for_function(
        "id => document.querySelector('#ca-status input, #ca-status textarea').value === id + ' removed'",
        arg=new_id,
    )
    page.wait_for_timeout(300)
    assert page.locator("#ca-table").get_by_text("Tram fares").count() == 0
    assert page.dialogs == []


@pytest.mark.browser
def test_upload_several_files(page: Any, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Corpus").click()
    page.get_by_role("tab", name="Upload files").click()
    bad = tmp_path / "empty.txt"
    bad.write_text("   \n")
    files = [str(DATA / "plain_globe.txt"), str(DATA / "markdown_frontmatter.md"), str(bad)]
    page.locator("#ca-upload input[type=file]").set_input_files(files)
    page.wait_for_function(
        # Gradio shows a file's stem and extension in separate elements
        "() => /empty\\s*\\.txt/.test(document.querySelector('#ca-upload').innerText)"
    )
    page.get_by_role("button", name="Add files").click()
    page.wait_for_function(
        "() => /failed$/.test(document.querySelector('#ca-add-log textarea').value)"
    )
    lines = page.locator("#ca-add-log textarea").input_value().splitlines()
    assert lines[0].endswith(" added") and lines[1].endswith(" added")
    assert lines[2].startswith("empty.txt error:")  # the name uploaded, not a temp path
    assert lines[-1] == "2 added, 0 duplicates, 1 failed"


def test_the_header_counts_in_the_right_number() -> None:
    from assistant.web.render import header_html

    assert "Answers from 1 article (1 passage);" in header_html(1, 1)
    assert "Answers from 2 articles (30 passages);" in header_html(2, 30)


@pytest.mark.parametrize(
    ("pasted", "message"),
    [("", "pasted text: empty; nothing to add. Paste the article's text."),
     (" \n\t", "pasted text: empty; nothing to add. Paste the article's text."),
     ("\u3000\n", "pasted text: only whitespace; nothing to add. Paste the article's text."),
     ("x" * 30, "pasted text: too large (30 bytes; the limit is 20). Shorten it.")],
)  # fmt: skip
def test_pasted_text_that_adds_nothing_is_told_as_text_not_a_file(
    pasted: str, message: str
) -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    import gradio as gr

    from assistant.ingest.sources import decode
    from assistant.web.corpus_tab import add_pasted

    s = Settings.from_env()
    s = replace(s, ingest=replace(s.ingest, max_bytes=20))
    ctx: Any = SimpleNamespace(editors=None, settings=s)
    with pytest.raises(gr.Error) as e:
        add_pasted(ctx, pasted, "", "", "", "", "", None)  # type: ignore[arg-type]
    assert e.value.message == message
    with pytest.raises(InputError) as file_error:
        decode(b"", "empty.txt", 20)  # a file (the CLI, uploads) keeps its wording
    assert str(file_error.value) == "empty.txt: empty file; nothing to add."


@pytest.mark.parametrize(
    "typed",
    ["/etc/hostname", "./corpus", "file:///etc/passwd", "FILE:/etc/passwd", "not a url",
     "ftp://example.org/a", "https:///etc/passwd", "C:\\Users\\a.html"],
)  # fmt: skip
def test_web_address_refuses_anything_but_http_and_names_nothing(typed: str) -> None:
    from assistant.ingest.sources import web_address

    with pytest.raises(InputError) as e:
        web_address(typed)
    assert "http://" in str(e.value) and typed not in str(e.value)
    assert web_address(" https://example.org/a ") == "https://example.org/a"


@pytest.mark.browser
def test_url_box_never_reads_the_server_disk(
    page: Any, app_library: Settings, tmp_path: Path
) -> None:
    """A server-side file and folder typed into "From a URL" (or the feed box) are refused with
    a line that names no path, and nothing is read into the library."""
    secret = tmp_path / "server-side"
    secret.mkdir()
    (secret / "page.html").write_text(
        "<html><head><title>Server secret</title></head><body><p>" + "Private words. " * 40
        + "</p></body></html>"
    )  # fmt: skip
    (secret / "notes").write_text("not an article")
    before = sorted(p.name for p in app_library.corpus_dir.iterdir())
    refusal = "Only web addresses starting with http://"
    page.get_by_role("tab", name="Corpus").click()
    page.get_by_role("tab", name="From a URL").click()
    for typed in (str(secret / "page.html"), str(secret), f"file://{secret}/page.html"):
        page.get_by_label("Address").fill(typed)
        page.get_by_role("button", name="Fetch and add").click()
        page.get_by_text(refusal).first.wait_for()
        shown = page.locator("body").inner_text()
        assert str(secret) not in shown and "notes error" not in shown
        page.wait_for_timeout(300)
    page.get_by_role("tab", name="Follow a feed").click()
    page.locator("#ca-feed-url input, #ca-feed-url textarea").first.fill(str(secret))
    page.locator("#ca-feed-follow").click()
    page.get_by_text(refusal).first.wait_for()
    assert str(secret) not in page.locator("body").inner_text()
    assert sorted(p.name for p in app_library.corpus_dir.iterdir()) == before
    assert not any("Private words" in p.read_text() for p in app_library.corpus_dir.glob("*.md"))


# --- issue 24: what was understood, errors in place, answers to keep, a corpus table that scales ---

SHOTS = os.environ.get("WEB_SHOTS")  # a directory: keep screenshots at 1400 and 390 px there


def _shoot(page: Any, name: str) -> None:
    if SHOTS:
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(SHOTS) / name))


@pytest.mark.browser
def test_a_follow_up_shows_how_it_was_understood_and_a_standalone_question_does_not(
    page: Any,
) -> None:
    _ask(page, SEED_QUESTION, 0)
    follow = _ask(page, "why?", 1)
    assert f"Understood as: why? ({SEED_QUESTION})" in follow.inner_text()
    alone = _ask(page, "How old was Vin Scully when he died?", 2)
    assert "Understood as" not in alone.inner_text()
    assert "Stefan Wolff" not in alone.inner_text().split("\n")[0]


@pytest.mark.browser
def test_errors_show_beside_their_control_and_the_chat_stays_usable(page: Any) -> None:
    first = _ask(page, SEED_QUESTION, 0)
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Since").fill("last week")
    box = page.locator("#ca-question textarea")
    box.fill("and what did Ukraine reject?")
    box.press("Enter")
    error = page.locator("#ca-chat-error .ca-error")
    error.wait_for()
    assert "Filters › Since: Invalid date 'last week'" in error.inner_text()
    # no overlay, no toast: the answer so far and the question box are still there, usable
    assert page.locator(".toast-body").count() == 0
    assert "Russia has offered in return" in first.inner_text() and first.is_visible()
    assert box.input_value() == "and what did Ukraine reject?"
    _shoot(page, "web-error-1400.png")
    page.get_by_label("Since").fill("")
    box.press("Enter")
    page.locator('#ca-chat [data-testid="bot"]').nth(1).wait_for()
    assert page.locator("#ca-chat-error .ca-error").count() == 0  # cleared by the next success
    # the Corpus tab: "Add files" with nothing chosen, a refused feed address
    page.get_by_role("tab", name="Corpus").click()
    page.get_by_role("tab", name="Upload files").click()
    page.locator("#ca-upload-add").click()
    page.locator("#ca-add-error").get_by_text("Choose one or more").wait_for()
    page.get_by_role("tab", name="Follow a feed").click()
    page.locator("#ca-feed-url input, #ca-feed-url textarea").first.fill("not a url")
    page.locator("#ca-feed-follow").click()
    page.locator("#ca-feed-error").get_by_text("Only web addresses").wait_for()
    assert page.locator(".toast-body").count() == 0
    assert page.dialogs == []


@pytest.mark.browser
def test_the_conversation_survives_a_reload_exports_copies_and_links_its_sources(
    page: Any,
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _ask(page, SEED_QUESTION, 0)
    _ask(page, "and what did Ukraine reject?", 1)
    page.reload(wait_until="load")
    bots = page.locator('#ca-chat [data-testid="bot"]')
    bots.nth(1).wait_for()  # both answers are back, from the browser's storage
    assert "Russia has offered in return" in bots.nth(0).inner_text()
    # [1] of the first answer: its sources are shown and card 1 comes into view
    bots.nth(0).locator('a[href="#ca-cite-1"]').first.click()
    card = page.locator('#ca-sources [data-answer="0"] .ca-card[data-n="1"]')
    card.wait_for()
    page.locator("#ca-sources .ca-card.ca-flash").wait_for()
    assert SEED_QUOTE in card.locator("mark").inner_text()
    # Copy: the same Markdown as `assistant ask --format markdown`, no escapes
    page.locator("#ca-sources button.ca-copy").click()
    page.locator("#ca-sources button.ca-copy", has_text="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"### {SEED_QUESTION}\n") and "\\[" not in copied
    assert "Stefan Wolff, CNA, date unknown, paragraph 12" in copied and "   > “It is not" in copied
    # Export: every answer with its sources
    with page.expect_download() as download:
        page.locator("#ca-export").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".md")
    assert exported.startswith("# Conversation") and exported.count("\n### ") == 2
    assert copied in exported and "and what did Ukraine reject?" in exported
    _shoot(page, "web-answer.png")
    # Clear empties it, for good
    page.locator("#ca-clear").click()
    page.wait_for_function("() => !document.querySelector('#ca-chat [data-testid=\"bot\"]')")
    page.reload(wait_until="load")
    page.locator("#ca-examples").get_by_text(SEED_QUESTION).wait_for()
    page.wait_for_timeout(1000)
    assert page.locator('#ca-chat [data-testid="bot"]').count() == 0


def _news_records(n: int) -> list[dict[str, Any]]:
    """``n`` short dated articles on made-up local matters, every fifth without a title."""
    towns = ["Aldham", "Brenford", "Corrow", "Dunmere", "Eastwick", "Fallowby", "Glenmarsh"]
    topics = ["bus lanes", "library hours", "school meals", "river cleanup", "market stalls"]
    out = []
    for i in range(n):
        town, topic = towns[i % len(towns)], topics[i % len(topics)]
        text = (
            f"{town} council voted on {topic} in meeting number {i}.\n\n"
            f"Residents of {town} said the {topic} plan number {i} needs more money and time.\n\n"
            f"The council will report back on {topic} in {town} next spring."
        )
        rec: dict[str, Any] = {"id": f"local-{i:03d}", "text": text,
                               "published": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                               "author": f"Writer {i % 9}", "outlet": "The Local Ledger"}  # fmt: skip
        if i % 5:
            rec["title"] = f"{town} weighs {topic} ({i})"
        out.append(rec)
    out.append({"id": "monroe-note", "title": "Monroe county doubles its bus budget",
                "text": "Monroe county doubled its bus budget on Tuesday.\n\nRiders cheered.",
                "published": "2023-05-05"})  # fmt: skip
    return out


@pytest.fixture(scope="module")
def big_url(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[str]:
    """An app over 81 short articles: enough for two pages of the corpus table."""
    import json

    root = tmp_path_factory.mktemp("big")
    records = root / "local.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in _news_records(80)))
    with served_app(build_library(root, model_cache, [records])) as url:
        yield url


@pytest.mark.browser
def test_the_corpus_table_pages_sorts_searches_words_and_undoes_a_remove(
    browser: Any, big_url: str
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(big_url, wait_until="load")
    page.get_by_role("tab", name="Corpus").click()
    count = page.locator("#ca-count")
    count.get_by_text("81 articles · 1–50 shown, page 1 of 2").wait_for()
    rows = page.locator("#ca-table .virtual-row")
    visible = page.evaluate(
        "() => Array.from(document.querySelectorAll('#ca-table .virtual-row')).filter(r => {"
        " const b = r.getBoundingClientRect();"
        " return b.height > 0 && b.top >= 0 && b.bottom <= window.innerHeight; }).length"
    )
    assert visible >= 15, visible
    # newest first: December 2024 before anything older, the 2023 article last
    assert "2024-12-" in rows.first.inner_text()
    assert page.locator("#ca-sort input").input_value() == "Newest first"
    # an untitled article shows its first line
    assert page.locator("#ca-table").get_by_text("council voted on").count() > 0
    _shoot(page, "web-corpus-1400.png")
    page.locator("#ca-next").click()
    count.get_by_text("51–81 shown, page 2 of 2").wait_for()
    assert "2024-" in rows.first.inner_text()  # (rows are drawn as they scroll into view)
    page.locator("#ca-sort input").click()
    page.get_by_role("option", name="Oldest first", exact=True).click()
    count.get_by_text("page 1 of 2").wait_for()
    assert "Monroe county" in rows.first.inner_text()
    # whole words, with a count: "Monroe" is not found by "Roe"
    search = page.locator("#ca-search input, #ca-search textarea").first
    search.fill("roe")
    count.get_by_text("0 of 81 articles match “roe”").wait_for()
    search.fill("bus lanes Aldham")
    count.get_by_text("of 81 articles match “bus lanes Aldham”").wait_for()
    assert rows.count() >= 1 and all("Aldham" in rows.nth(i).inner_text()
                                      for i in range(rows.count()))  # fmt: skip
    # remove asks first, then can be undone once
    search.fill("Monroe")
    count.get_by_text("1 of 81 articles match").wait_for()
    page.locator("#ca-picked input, #ca-picked textarea").first.fill("monroe-note")
    page.locator("#ca-remove").click()
    page.locator("#ca-confirm").get_by_text(
        "Remove “Monroe county doubles its bus budget”"
    ).wait_for()
    page.locator("#ca-remove-no").click()
    page.wait_for_timeout(300)
    assert page.locator("#ca-confirm").is_hidden()
    page.locator("#ca-remove").click()
    page.locator("#ca-remove-yes").click()
    count.get_by_text("0 of 80 articles match").wait_for()
    page.locator("#ca-undo").click()
    count.get_by_text("1 of 81 articles match").wait_for()
    status = page.locator("#ca-status input, #ca-status textarea").first
    assert status.input_value() == "monroe-note restored"
    assert page.locator("#ca-undo").is_hidden()
    context.close()


@pytest.mark.browser
def test_the_as_of_date_in_filters_is_used_and_a_bad_one_shown_beside_it(page: Any) -> None:
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("As of").fill("June")
    box = page.locator("#ca-question textarea")
    box.fill(SEED_QUESTION)
    box.press("Enter")
    error = page.locator("#ca-chat-error .ca-error")
    error.wait_for()
    assert "Filters › As of: Invalid date 'June'" in error.inner_text()
    page.get_by_label("As of").fill("2022/06/16")  # as news-quiz sets write it
    box.press("Enter")
    answer = page.locator('#ca-chat [data-testid="bot"]').first
    answer.wait_for()
    assert "Russia has offered in return" in answer.inner_text()  # undated: kept
    assert page.locator("#ca-chat-error .ca-error").count() == 0
