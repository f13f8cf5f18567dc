"""Tests for assistant.ingest.cleaning: the CNA seed, four differently shaped articles, edge cases."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.ingest.cleaning import (
    Cleaned,
    clean_html,
    clean_markdown,
    clean_text,
    parse_date,
    stated_date,
)

DATA = Path(__file__).parent / "data"
SEED = DATA / "000_7112adcedfa7c1bb.txt"
SEED_TITLE = (
    "Commentary: Could Trump really walk away after Ukraine rejects ‘final offer’ peace deal?"
)
SEED_HEADINGS = [
    "## THE ONLY PLAYER WITH A REMOTE CHANCE",
    "## COULD TRUMP WALK AWAY FROM PEACE TALKS?",
    "## ENOUGH TO SELL A POOR DEAL AS SUCCESS",
]
SEED_BOILERPLATE = [
    "(Photo: REUTERS/Brian Snyder)",
    "US President Donald Trump meets with Ukrainian President",
    "Sputnik/Gavriil Grigorov/Pool via REUTERS",
    "Russia's President Vladimir Putin attends a meeting",
    "by · CNA · Join",
    "Read a summary of this article on FAST",
    "bite-sized news",
    "Click here to return to FAST",
    "Tap here",
    "Source: CNA",
    "Sign up for our newsletters",
    "Get our pick of top stories",
    "Subscribe here",
    "Get the CNA app",
    "notifications for breaking news",
    "Download here",
    "WhatsApp",
    "Join our channel",
    "Join here",
]


def paragraphs(cleaned: Cleaned) -> list[str]:
    """Return the body's blocks (paragraphs and headings)."""
    return cleaned.body.split("\n\n")


def text_paragraphs(cleaned: Cleaned) -> list[str]:
    """Return the body's paragraphs without the headings."""
    return [p for p in paragraphs(cleaned) if not p.startswith("## ")]


def headings(cleaned: Cleaned) -> list[str]:
    """Return the body's ``## `` headings in order."""
    return [p for p in paragraphs(cleaned) if p.startswith("## ")]


def assert_well_formed(cleaned: Cleaned) -> None:
    """Check the body format: one blank line between blocks, no title line, trimmed."""
    assert cleaned.body == cleaned.body.strip()
    assert "\n\n\n" not in cleaned.body
    assert "\r" not in cleaned.body and "\u00a0" not in cleaned.body
    assert all(p.strip() == p and p for p in paragraphs(cleaned))
    if cleaned.title:
        assert cleaned.title not in paragraphs(cleaned)[0]


# --- the seed ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Cleaned:
    return clean_text(SEED.read_text(encoding="utf-8"))


def test_seed_metadata(seed: Cleaned) -> None:
    assert seed.title == SEED_TITLE
    assert seed.author == "Stefan Wolff"
    assert seed.outlet == "CNA"
    assert seed.published is None
    assert seed.url is None


def test_seed_body_shape(seed: Cleaned) -> None:
    assert_well_formed(seed)
    pars = text_paragraphs(seed)
    assert pars[0].startswith("A shaky ceasefire with vague commitments")
    assert pars[0].endswith("says international security expert Stefan Wolff.")
    assert pars[1].startswith("BIRMINGHAM: Even United States President Donald Trump")
    assert pars[-2].endswith("but will still fall well short of the actual end of the war.")
    assert pars[-1].startswith("Stefan Wolff is Professor of International Security")
    assert pars[11].startswith(
        "It is not clear, however, what, if anything, Russia has offered in return"
    )
    assert headings(seed) == SEED_HEADINGS
    assert paragraphs(seed)[8] == SEED_HEADINGS[0]


def test_seed_keeps_quotes_verbatim(seed: Cleaned) -> None:
    assert "a deal was “very close”." in seed.body
    assert "in return – apart from relinquishing" in seed.body
    assert "Mr Trump's response" in seed.body


@pytest.mark.parametrize("piece", SEED_BOILERPLATE)
def test_seed_boilerplate_removed(seed: Cleaned, piece: str) -> None:
    assert piece not in seed.body
    assert "\nFAST" not in seed.body and not seed.body.endswith("FAST")


def test_seed_survives_crlf_nbsp_and_zero_width(seed: Cleaned) -> None:
    raw = SEED.read_text(encoding="utf-8")
    messy = "\ufeff" + raw.replace("\n", "\r\n").replace("Mr Trump", "Mr\u00a0Trump")
    messy = messy.replace("Kissinger", "Kiss\u200binger")
    assert clean_text(messy) == seed


# --- plain text with a different boilerplate style --------------------------------------


def test_plain_globe() -> None:
    cleaned = clean_text((DATA / "plain_globe.txt").read_text(encoding="utf-8"))
    assert_well_formed(cleaned)
    assert cleaned.title == "Europe’s ports are the new front line of the trade war"
    assert cleaned.author == "Miriam Okafor"
    assert cleaned.outlet == "The Harbour Review"
    assert cleaned.published == "2025-03-03"
    pars = text_paragraphs(cleaned)
    # hard-wrapped lines are joined into one paragraph
    assert pars[0].startswith("When governments talk about trade wars, they tend to picture")
    assert pars[0].endswith("on the quaysides of Rotterdam, Antwerp and Hamburg.")
    assert pars[-1].startswith("Miriam Okafor is a senior fellow")
    assert headings(cleaned) == ["## WHAT COMES NEXT"]
    # long sentence that merely mentions "subscribe" is kept
    assert any(p.startswith("Readers who subscribe to the weekly freight bulletins") for p in pars)
    for piece in [
        "Opinion",
        "Photo: AFP",
        "Container cranes stand idle",
        "By Miriam Okafor",
        "| The Harbour Review |",
        "Share this article",
        "Follow us",
        "Advertisement",
        "Read more",
        "Topics:",
        "Share on",
        "Copy link",
        "Sign up",
    ]:
        assert piece not in cleaned.body, piece


# --- HTML page --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def html_page() -> Cleaned:
    html = (DATA / "html_with_nav.html").read_text(encoding="utf-8")
    return clean_html(html, url="https://example.org/cities/price-parking")


def test_html_metadata(html_page: Cleaned) -> None:
    assert html_page.title == "Why cities should price parking before building more roads"
    assert html_page.author == "Tomas Lindqvist"
    assert html_page.outlet == "The Civic Ledger"
    assert html_page.published == "2024-11-18"
    assert html_page.url == "https://example.org/cities/price-parking"


def test_html_body(html_page: Cleaned) -> None:
    assert_well_formed(html_page)
    pars = text_paragraphs(html_page)
    assert pars[0].startswith("Every city council that has ever debated a new ring road")
    assert pars[-1].endswith("has been costing their cities dearly.")
    assert headings(html_page) == ["## The hidden subsidy", "## What councils should do first"]
    assert not html_page.body.startswith("#")  # the <h1> title is not repeated in the body
    for piece in [
        "cookie",
        "Accept all",
        "News",
        "Climate",
        "Subscribe",
        "Related articles",
        "Bus lanes work",
        "Privacy policy",
        "All rights reserved",
        "newsletter",
        "window.dataLayer",
        "<",
    ]:
        assert piece not in html_page.body, piece


def test_html_without_url_has_no_url() -> None:
    cleaned = clean_html((DATA / "html_with_nav.html").read_text(encoding="utf-8"))
    assert cleaned.url is None
    assert cleaned.title == "Why cities should price parking before building more roads"


def test_html_only_navigation_raises() -> None:
    html = "<html><body><nav><a href='/'>Home</a><a href='/news'>News</a></nav></body></html>"
    with pytest.raises(InputError, match="No article text found after cleaning"):
        clean_html(html)


# --- Markdown with front matter ---------------------------------------------------------


def test_markdown_front_matter() -> None:
    cleaned = clean_markdown((DATA / "markdown_frontmatter.md").read_text(encoding="utf-8"))
    assert_well_formed(cleaned)
    assert cleaned.title == "The case for boring central banks"
    assert cleaned.author == "Priya Raman"
    assert cleaned.outlet == "The Ledger Quarterly"
    assert cleaned.published == "2025-01-14"
    assert cleaned.url == "https://example.org/ledger/boring-central-banks"
    assert headings(cleaned) == ["## Mission creep has consequences", "## A narrower, clearer job"]
    pars = text_paragraphs(cleaned)
    assert pars[0].startswith("Central bankers have become celebrities.")
    assert pars[-1].startswith("Priya Raman is an economist")
    assert "a record of plain communication moved earlier" in cleaned.body  # link -> text
    assert "boring on purpose:" in cleaned.body  # emphasis markers dropped
    assert "- publish a simple reaction function and stick to it;\n- leave" in cleaned.body
    assert "“a central bank that promises everything will eventually be trusted" in cleaned.body
    for piece in ["---", "![", "https://", "Subscribe", "Share this article", "# The case"]:
        assert piece not in cleaned.body, piece


def test_markdown_front_matter_values_are_normalised() -> None:
    text = "---\ntitle: T\npublished: {}\n---\n\nA real paragraph of article text here.\n"
    assert clean_markdown(text.format("2025-03-03")).published == "2025-03-03"
    assert clean_markdown(text.format("'March 3, 2025'")).published == "2025-03-03"
    assert clean_markdown(text.format("2025-03-03T08:15:00Z")).published == "2025-03-03"
    assert clean_markdown(text.format("'sometime last spring'")).published is None


def test_markdown_hash_title_without_front_matter() -> None:
    cleaned = clean_markdown("# A title\n\nSome text of the article.\n\n### Deeper\n\nMore text.")
    assert cleaned.title == "A title"
    assert cleaned.body == "Some text of the article.\n\n## Deeper\n\nMore text."
    assert (cleaned.author, cleaned.outlet, cleaned.published, cleaned.url) == (None,) * 4


# --- hostile literal text ---------------------------------------------------------------


@pytest.mark.parametrize("clean", [clean_markdown, clean_text])
def test_hostile_text_kept_as_text(clean) -> None:
    cleaned = clean((DATA / "hostile_script.md").read_text(encoding="utf-8"))
    assert "He typed <script>alert(1)</script> into the comment field" in cleaned.body
    assert "someone else tried <img src=x onerror=alert(2)> and got" in cleaned.body


def test_hostile_markdown_metadata() -> None:
    cleaned = clean_markdown((DATA / "hostile_script.md").read_text(encoding="utf-8"))
    assert_well_formed(cleaned)
    assert cleaned.title == "What a comment box taught me about web security"
    assert cleaned.author == "Dana Whitfield"
    assert cleaned.published == "2025-02-09"
    assert headings(cleaned) == [
        "## Escaping is not optional",
        "## Trust nothing you did not write",
    ]


# --- general rules ----------------------------------------------------------------------


@pytest.mark.parametrize("clean", [clean_text, clean_markdown, clean_html])
@pytest.mark.parametrize("raw", ["", "   ", "\n\r\n\t\u00a0\u200b\n"])
def test_empty_input_raises(clean, raw: str) -> None:
    with pytest.raises(InputError, match="No article text found after cleaning"):
        clean(raw)


def test_only_boilerplate_raises() -> None:
    with pytest.raises(InputError, match="No article text found after cleaning"):
        clean_text("Advertisement\n\nSubscribe here\n\nSource: Reuters\n\nFollow us on X")


def test_crlf_and_nbsp_normalised() -> None:
    cleaned = clean_text(
        "A\u00a0title\r\n\r\nFirst\u00a0 paragraph\u202fhere.\r\n\r\nSecond one.\r\n"
    )
    assert cleaned.title == "A title"
    assert cleaned.body == "First paragraph here.\n\nSecond one."


def test_subscribe_mentions_are_not_over_deleted() -> None:
    long = (
        "Publishers have learned that readers who subscribe for one investigation often leave "
        "within a year, which is why the newsroom now measures loyalty rather than sign-ups."
    )
    short = "Fewer households subscribe to a daily paper than ever before."
    cleaned = clean_text(f"Title here\n\n{long}\n\n{short}\n\nSubscribe now")
    assert text_paragraphs(cleaned) == [long, short]


@pytest.mark.parametrize(
    "caption",
    [
        "Protesters gather outside parliament on Monday. (Photo: AP/Jane Smith)",
        "Soldiers walk past a destroyed tank near Kharkiv. REUTERS/Oleksandr Ratushniak",
        "A trader works on the floor of the exchange. AFP",
        "The skyline at dusk. Getty Images",
        "Ships wait offshore. Photographer: Jason Alden/Bloomberg",
        "The summit venue. EPA-EFE",
        "Leaders meet in Brussels. (AP Photo/Virginia Mayo)",
        "Ministers at the talks, Mar 1, 2025. Sputnik/Pool via REUTERS",
        "Photo: AFP",
        "A shipyard in Busan. File photo",
        # a news site's video widget and photo gallery, caught with the text
        "JUST WATCHED Marvel Studios releases 'Thor' teaser Replay More Videos ... MUST WATCH "
        "Marvel Studios releases 'Thor' teaser 01:01",
        "Photos: Tennis legend Serena Williams Serena serves during the Australian Open in 2003. "
        "Hide Caption 12 of 44 Photos: Tennis legend Serena Williams Williams waits.",
        "Hide Caption 12 of 44 Photos: Tennis legend Serena Williams Serena serves in 2003.",
    ],
)
def test_captions_removed(caption: str) -> None:
    cleaned = clean_text(f"Title here\n\n{caption}\n\nThe article says something.")
    assert cleaned.body == "The article says something."


def test_sentence_citing_an_agency_is_kept() -> None:
    par = "The ministry confirmed the figures, according to Reuters."
    assert clean_text(f"Title here\n\n{par}").body == par


@pytest.mark.parametrize(
    ("byline", "author", "outlet", "published"),
    [
        ("By Jane Doe | The Outlet | March 3, 2025", "Jane Doe", "The Outlet", "2025-03-03"),
        ("By Jane Doe and John Roe", "Jane Doe and John Roe", None, None),
        ("by · CNA · Join", None, "CNA", None),
        ("BY Ana de la Cruz – 4 April 2024", "Ana de la Cruz", None, "2024-04-04"),
    ],
)
def test_bylines(byline: str, author, outlet, published) -> None:
    cleaned = clean_text(f"Title here\n\n{byline}\n\nThe article says something.")
    assert cleaned.body == "The article says something."
    assert (cleaned.author, cleaned.outlet, cleaned.published) == (author, outlet, published)


def test_by_at_sentence_start_is_not_a_byline() -> None:
    par = "By contrast, the minister said nothing"
    cleaned = clean_text(f"Title here\n\n{par}\n\nThe article says something.")
    assert cleaned.body.startswith(par)
    assert cleaned.author is None


def test_source_line_gives_outlet_only_when_none_else() -> None:
    body = "Title here\n\nThe article says something.\n\nSource: Reuters"
    cleaned = clean_text(body)
    assert (cleaned.outlet, cleaned.body) == ("Reuters", "The article says something.")
    assert (
        clean_text(body.replace("Title here", "Title here\n\nBy Al Bo | Globe")).outlet == "Globe"
    )


def test_author_from_standfirst_and_bio() -> None:
    stand = "Deals are fragile, says NUS political scientist Lim Wei Ling."
    assert clean_text(f"Title here\n\n{stand}\n\nMore text.").author == "Lim Wei Ling"
    bio = "Maria Lopez is an associate professor of economics at the University of Leeds."
    assert clean_text(f"Title here\n\nText of the piece.\n\n{bio}").author == "Maria Lopez"
    grad = "Samuel Adkisson is a 2018 graduate of Yale Law School and an attorney in Virginia."
    assert clean_text(f"Title here\n\nText of the piece.\n\n{grad}").author == "Samuel Adkisson"


@pytest.mark.parametrize(
    ("line", "bio"),
    [
        (
            "Tia Nelson, managing director for climate at the Outrider Foundation, is a writer.",
            True,
        ),
        ("Samuel Adkisson is a 2018 graduate of Yale Law School.", True),
        (
            "Editor's Note: X is an analyst. The views expressed in this commentary are his own.",
            True,
        ),
        ("Joe Biden, the president, said on Monday that he would go.", False),
        ("Donors should withhold funding from such institutions.", False),
    ],
)
def test_an_authors_bio_line(line: str, bio: bool) -> None:
    from assistant.bylines import is_bio

    assert is_bio(line) is bio


def test_nothing_invented() -> None:
    cleaned = clean_text("Plain words without any metadata at all.\n\nAnother paragraph.")
    assert cleaned == Cleaned(
        body="Plain words without any metadata at all.\n\nAnother paragraph.",
        title=None,
        author=None,
        outlet=None,
        published=None,
        url=None,
    )


def test_parse_date() -> None:
    assert parse_date(dt.date(2025, 3, 3)) == "2025-03-03"
    assert parse_date("Sept. 9, 2024") == "2024-09-09"
    assert parse_date("2025-02-30") is None
    assert parse_date(None) is None


def test_import_is_light() -> None:
    code = "import sys, assistant.ingest.cleaning; print('trafilatura' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("line", "published"),
    [
        ("Apr 23, 2025", "2025-04-23"),
        ("Fri, 25 Apr 2025 06:00AM", "2025-04-25"),
        ("April 25, 2025 at 6:00 a.m. EDT", "2025-04-25"),
        ("2025-04-25", "2025-04-25"),
        ("Updated Apr 24, 2025", None),  # an update is not the publication date
        ("Apr 23 2025 was the day the talks fell through", None),
        ("Feb 30, 2025", None),  # no such day: not read, not guessed
    ],
)
def test_a_date_line_near_the_top_is_the_dateline(line: str, published: str | None) -> None:
    cleaned = clean_text(f"Title here\n\nBy Jane Doe\n\n{line}\n\nThe article says something.")
    assert (cleaned.author, cleaned.published) == ("Jane Doe", published)
    assert (line in cleaned.body) is (published is None)


def test_a_date_line_deep_in_the_text_is_not_a_dateline() -> None:
    pars = [f"Paragraph {i} of the article says something." for i in range(5)]
    cleaned = clean_text("Title here\n\n" + "\n\n".join([*pars, "March 3, 2025", "The end."]))
    assert cleaned.published is None and "March 3, 2025" in cleaned.body


def test_page_date_comes_from_markup_never_from_the_prose() -> None:
    prose = "<p>Talks on 2024-03-02 failed, and on Apr 23, 2025 they failed again.</p>" * 5
    page = (
        "<html><head>{head}</head><body><article><h1>T</h1>{extra}"
        + prose
        + "</article></body></html>"
    )
    assert stated_date(page.format(head="", extra="")) is None
    assert stated_date(page.format(head="", extra=""), "https://x.org/a") is None
    assert stated_date(page.format(head="", extra=""), "https://x.org/2025/04/20/a") == "2025-04-20"
    meta = '<meta property="article:published_time" content="2025-04-25T06:00:00+08:00">'
    assert (
        stated_date(page.format(head=meta, extra=""), "https://x.org/2025/04/20/a") == "2025-04-25"
    )
    time_el = '<p class="byline">By X, <time datetime="2025-04-21">21 April</time></p>'
    assert stated_date(page.format(head="", extra=time_el)) == "2025-04-21"
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2025-04-19"}</script>'
    assert stated_date(page.format(head=ld, extra="")) == "2025-04-19"


def test_a_one_line_snippet_is_kept_as_its_own_text() -> None:
    """Search snippets (JSONL records) are one short paragraph: neither a title over nothing
    nor a promo because they name a film called "Return to ..." (RGB lost 18 records so)."""
    crew = "Who's making Assassin's Creed: Crew List ; Director. Justin Kurzel ; Screenwriters. Bill Collage"
    assert clean_text(crew).body == crew
    film = (
        "Feb 15, 2023 ... Officially announced late last year, Silent Hill movie director "
        "Christophe Gans is returning to the franchise with Return to Silent Hill, ..."
    )
    assert "Return to Silent Hill" in clean_text(film).body
    with pytest.raises(InputError):
        clean_text("Sign up for our daily newsletter. GET THE NEWSLETTER.")


@pytest.mark.parametrize(
    "line", ["CNN —", "Washington CNN —", "New York CNN Business —", "Colombo, Sri Lanka CNN —"]
)
def test_a_place_and_outlet_line_is_a_dateline_not_the_title(line: str) -> None:
    cleaned = clean_text(f"{line}\n\nStocks fell on Monday as investors worried.\n\nMore followed.")
    assert cleaned.title is None
    assert line not in cleaned.body
    assert cleaned.body.startswith("Stocks fell on Monday")
    titled = clean_text(f"Stocks fall again\n\n{line}\n\nStocks fell on Monday.\n\nMore followed.")
    assert (titled.title, titled.body.split("\n")[0]) == (
        "Stocks fall again",
        "Stocks fell on Monday.",
    )


def test_a_dash_inside_the_text_is_kept() -> None:
    text = "Markets\n\nStocks fell.\n\nThen came the worst day of all —\n\nand it was Monday."
    assert "Then came the worst day of all —" in clean_text(text).body
