"""The Markdown of answers (web Copy and Export, ``assistant ask --format markdown``)."""

from __future__ import annotations

import doctest

import assistant.markdown
from assistant.markdown import answer_markdown, conversation_markdown


def test_the_examples_in_the_module_hold() -> None:
    assert doctest.testmod(assistant.markdown).failed == 0


def test_user_text_cannot_be_read_as_html_and_plain_text_stays_as_it_is() -> None:
    answer = {
        "question": "<script>alert(1)</script> & what did AT&T say?",
        "resolved_question": "<img src=x onerror=alert(2)>",
        "answer": "Prices rose <b>3%</b> [1].",
        "refused": False,
        "citations": [{"n": 1, "title": "<i>Fares</i> & fees", "author": "Ann <Lee>",
                       "outlet": "Q&A Weekly", "published": "2024-03-04", "paragraph": 2,
                       "url": "https://example.org/a?x=1&y=2", "article_id": "fares",
                       "quote": "Prices rose <b>3%</b>, says &lt;AT&amp;T&gt;."}],
    }  # fmt: skip
    text = answer_markdown(answer)
    assert "<" not in text.replace("<https://example.org/a?x=1&y=2>", "")
    assert text.splitlines()[0] == (
        "### &lt;script&gt;alert(1)&lt;/script&gt; & what did AT&T say?"
    )
    assert "*Understood as: &lt;img src=x onerror=alert(2)&gt;*" in text
    assert "Prices rose &lt;b&gt;3%&lt;/b&gt; [1]." in text
    assert (
        "1. **&lt;i&gt;Fares&lt;/i&gt; & fees** — Ann &lt;Lee&gt;, Q&A Weekly, 2024-03-04, "
        "paragraph 2 <https://example.org/a?x=1&y=2>"
    ) in text
    assert "says &amp;lt;AT&amp;amp;T&amp;gt;." in text  # shown as typed, not as <AT&T>
    plain = {"question": "Why did fares rise?", "answer": "Costs [1].", "refused": False,
             "citations": []}  # fmt: skip
    assert answer_markdown(plain) == "### Why did fares rise?\n\nCosts [1].\n"
    assert conversation_markdown([answer]).count("&lt;script&gt;") == 1


def test_a_url_that_is_not_a_plain_web_address_is_left_out() -> None:
    cite = {"n": 1, "title": "T", "paragraph": 1, "quote": "Q.", "article_id": "t",
            "url": "https://example.org/<script>"}  # fmt: skip
    text = answer_markdown({"question": "Q?", "answer": "Q [1].", "citations": [cite]})
    assert "example.org" not in text and "<" not in text
