"""Cited answers on the real model and index: the contract, refusals, metadata, filters, follow-ups.

The library is the seed commentary plus three short test articles (tests/data), built once per
session and copied per test (the ``seeded`` fixture).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.answer.compose import REFUSAL
from assistant.api import Assistant, turn_from_answer
from assistant.errors import InputError
from assistant.types import Answer, Filters, Turn
from tests.conftest import SEED_ID

SEED_QUESTION = "What has Russia offered in return?"
SEED_QUOTE = "It is not clear, however, what, if anything, Russia has offered in return"
QUESTIONS = [
    SEED_QUESTION,
    "Why is Ukraine important to Trump?",
    "What did Zelenskyy rule out?",
    "What is a reverse Kissinger?",
    "Why should cities price parking?",
    "What have central banks been asked to tackle?",
    "What is happening at Europe's ports?",
]
UNANSWERABLE = [
    "What is the capital of Australia?",
    "How many moons does Jupiter have?",
    "Who won the 1998 football World Cup?",
]


def check_contract(a: Assistant, ans: Answer) -> None:
    """Every [n] has its citation, numbered in order of first use; quotes are verbatim."""
    d = ans.to_dict()
    assert set(d) >= {"question", "answer", "refused", "citations", "latency_ms"}
    numbers = [c["n"] for c in d["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    used = [int(n) for n in re.findall(r"\[(\d+)\]", d["answer"])]
    first_use = list(dict.fromkeys(used))
    assert first_use == list(range(1, len(first_use) + 1)), d["answer"]
    assert set(used) <= set(numbers)
    if not d["refused"]:
        assert used, "an answer without a citation"
    for c in d["citations"]:
        assert c["quote"] and c["quote"] in c["passage"]
        body = a.library.corpus.read(c["article_id"]).body
        assert c["passage"] in body and c["quote"] in body
        row = a.library.catalog.article(c["article_id"])
        assert row is not None
        assert (c["title"], c["author"], c["outlet"], c["published"]) == (
            row.title, row.author, row.outlet, row.published,
        )  # fmt: skip
        assert isinstance(c["paragraph"], int) and c["paragraph"] >= 1
        assert 0.0 <= c["score"] <= 1.0


def add_article(
    a: Assistant, doc_id: str, text: str, url: str | None = None, published: str | None = None
) -> None:
    """Add one test article (pasted text, with its address and date when given) and check it
    went in."""
    from assistant.ingest.sources import RawDoc

    meta = {k: v for k, v in (("url", url), ("published", published)) if v}
    [r] = a.add([RawDoc(f"{doc_id}.txt", text, "text", meta, id=doc_id)])
    assert r.status == "added", r.message


FOOD_WASTE = (  # an opinion piece arguing with a minister it quotes
    "Opinion: Food waste needs all of us\n\nBy Tia Lund\n\n“Real progress on food waste will "
    "come from the government,” a minister said.\n\nI disagree.\n\nIn truth, real progress "
    "will come when people and businesses step up together."
)


def test_the_seed_question_is_answered_by_its_sentence(seeded: Assistant) -> None:
    ans = seeded.ask(SEED_QUESTION)
    assert not ans.refused
    first = ans.citations[0]
    assert first.article_id == SEED_ID and first.paragraph == 12
    assert SEED_QUOTE in first.quote and SEED_QUOTE in ans.answer
    assert (first.author, first.outlet, first.published) == ("Stefan Wolff", "CNA", None)
    assert ans.answer.split("[1]")[0].strip().endswith("control")  # the marker ends the statement


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_keep_the_contract(seeded: Assistant, question: str) -> None:
    ans = seeded.ask(question)
    assert not ans.refused, ans.answer
    check_contract(seeded, ans)


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_questions_the_corpus_does_not_cover_are_refused(seeded: Assistant, question: str) -> None:
    ans = seeded.ask(question)
    assert ans.refused and ans.answer == REFUSAL
    assert "[" not in ans.answer
    check_contract(seeded, ans)  # nearest passages may be listed, flagged by a low score
    assert all(c.score < seeded.settings.answer.refuse_below for c in ans.citations)


@pytest.mark.parametrize(
    ("question", "expected", "article"),
    [
        ("Who wrote the commentary on Trump walking away from Ukraine?", "Stefan Wolff", SEED_ID),
        ("When was the case for boring central banks published?", "2025-01-14", None),
        ("Which outlet published the piece on pricing parking?", "The Civic Ledger", None),
    ],
)
def test_questions_about_an_article_are_answered_from_its_metadata(
    seeded: Assistant, question: str, expected: str, article: str | None
) -> None:
    ans = seeded.ask(question)
    assert not ans.refused and expected in ans.answer
    assert "[1]" in ans.answer
    if article:
        assert ans.citations[0].article_id == article
    check_contract(seeded, ans)


def test_who_wrote_the_commentary_names_the_pieces_author(seeded: Assistant) -> None:
    news = "Leeds waste collections resume\n\nBy Ann Lee\n\nBin collections resumed on Monday."
    add_article(seeded, "leeds-waste", news, "https://example.com/news/leeds-waste")
    piece = (  # its title does not say "food waste"; the news report's title says "waste"
        "Opinion: We all throw away too much\n\nBy Tia Lund\n\nFood waste is a problem we can "
        "fix together: plan meals, buy less and eat the leftovers."
    )
    add_article(seeded, "food-waste", piece, "https://example.com/opinion/food-waste")
    ans = seeded.ask("Who wrote the commentary on food waste?")
    assert "Tia Lund" in ans.answer and "Ann Lee" not in ans.answer, ans.answer
    # an author the library does not record is said to be unknown, not guessed from the text
    add_article(seeded, "trees", "Opinion: Parks need trees\n\nCities should plant more trees "
                "in their parks, and soon.", "https://example.com/opinion/trees")  # fmt: skip
    unknown = seeded.ask("Who wrote the commentary on trees in parks?")
    assert unknown.refused and "does not record its author" in unknown.answer, unknown.answer


def test_a_column_on_a_topic_is_a_piece_on_that_topic_not_any_opinion_piece(
    seeded: Assistant,
) -> None:
    # the seed is a "Commentary:"; a reader calls a plain article on cycling lanes a column
    lanes = (
        "City cycling lanes are worth the fight\n\nBy Tom Baker\n\nThe council voted to remove "
        "the protected cycling lane on Elm Street. Cycling trips there have tripled since 2021."
    )
    add_article(seeded, "lanes", lanes, "https://example.com/news/cycling-lanes")
    for question in ("Who wrote the column on cycling lanes?",
                     "What does the commentary on cycling lanes say about Elm Street?"):  # fmt: skip
        ans = seeded.ask(question)
        assert ans.citations[0].article_id == "lanes", (question, ans.answer)
    assert "Tom Baker" in seeded.ask("Who wrote the column on cycling lanes?").answer


def test_unknown_metadata_is_not_invented(seeded: Assistant) -> None:
    ans = seeded.ask("When was the commentary on Trump walking away from Ukraine published?")
    assert "published on" not in ans.answer  # the seed's date is unknown


def test_filters_apply_to_both_retrievers(seeded: Assistant) -> None:
    only = seeded.ask(SEED_QUESTION, filters=Filters(outlet="The Civic Ledger"))
    assert {c.outlet for c in only.citations} <= {"The Civic Ledger"}
    assert only.refused  # the parking article does not say what Russia offered

    by_author = seeded.ask("Why should cities price parking?", filters=Filters(author="wolff"))
    assert {c.author for c in by_author.citations} <= {"Stefan Wolff"}

    dated = seeded.ask("central banks", filters=Filters(since="2025-01-01", until="2025-12-31"))
    assert dated.citations
    assert all(c.published and "2025-01-01" <= c.published <= "2025-12-31" for c in dated.citations)

    nothing = seeded.ask(SEED_QUESTION, filters=Filters(since="2030-01-01"))
    assert nothing.refused and nothing.citations == []

    for retriever in ("dense", "bm25"):
        seeded.settings = seeded.library.settings = seeded.settings.with_answer(retriever=retriever)
        ans = seeded.ask(SEED_QUESTION, filters=Filters(author="Raman"))
        assert {c.author for c in ans.citations} <= {"Priya Raman"}


def test_a_scripted_conversation(seeded: Assistant) -> None:
    first = seeded.ask(SEED_QUESTION)
    history = [turn_from_answer(first)]

    rejected = seeded.ask("and what did Ukraine reject?", history=history)
    assert not rejected.refused and rejected.citations[0].article_id == SEED_ID
    assert "ruled out a recognition of Russia’s 2014 annexation of Crimea" in rejected.answer
    assert SEED_QUOTE not in rejected.answer  # what was said is not said again
    check_contract(seeded, rejected)
    history.append(turn_from_answer(rejected))

    # the article does not say why; the follow-up keeps the topic and the answer stays honest
    why = seeded.ask("why?", history=history)
    assert why.resolved_question and "Ukraine reject" in why.resolved_question
    check_contract(seeded, why)
    history.append(turn_from_answer(why))

    china = seeded.ask("what else does he say about China?", history=history)
    assert not china.refused
    assert "Stefan Wolff" in (china.resolved_question or "")
    assert china.citations[0].article_id == SEED_ID and "China" in china.answer
    check_contract(seeded, china)


def test_a_follow_up_is_judged_by_its_own_words(seeded: Assistant) -> None:
    first = seeded.ask("Why is Ukraine important to Trump?")
    assert "puzzle piece" in first.answer
    china = seeded.ask("what else does he say about China?", history=[turn_from_answer(first)])
    assert not china.refused
    assert "China" in china.answer.split("[1]")[0]  # the first statement speaks of China


def test_history_as_answer_objects(seeded: Assistant) -> None:
    """The web API passes earlier answer objects (dicts) as the conversation."""
    first = seeded.ask(SEED_QUESTION).to_dict()
    ans = seeded.ask("and what did Ukraine reject?", history=[first])
    assert not ans.refused and ans.citations[0].article_id == SEED_ID
    assert "Crimea" in ans.answer


@pytest.mark.parametrize(
    ("question", "follows"),
    [
        ("why?", True),
        ("Any numbers?", True),
        ("and what did Ukraine reject?", True),
        ("what else does he say about China?", True),
        ("Who is the president of FIFA?", False),  # short, but it names what it is about
        ("Why did Putin refuse?", False),
        ("Why should cities price parking?", False),
        ("How old was Vin Scully when he died?", False),  # its own pronoun: issue 24
        ("What do economists say about their recession forecasts?", False),
        ("Which company said it would stop selling its products in Russia?", False),
        ("Monkeypox vaccines?", False),
        ("How old is he?", True),
        ("Who will replace him?", True),
        ("What does it mean for abortion access?", True),
    ],
)
def test_which_questions_lean_on_the_conversation(question: str, follows: bool) -> None:
    from assistant.answer.conversation import is_follow_up

    assert is_follow_up(question) is follows


def test_a_pronoun_is_never_the_byline_of_an_answer_about_someone_else() -> None:
    from assistant.answer.conversation import resolve

    cup = [Turn("Who won the Stanley Cup in 2022?", articles=("a",), author="Jacob Lev")]
    assert resolve("How old was Vin Scully when he died?", cup, "Jacob Lev").query == (
        "How old was Vin Scully when he died?"
    )
    assert "Jacob Lev" not in resolve("What did he say after the game?", cup, "Jacob Lev").query
    seed = [Turn(SEED_QUESTION, articles=(SEED_ID,), author="Stefan Wolff")]
    assert resolve("what else does he say?", seed, "Stefan Wolff").query.startswith(
        "what else does Stefan Wolff say?"
    )


def test_a_new_topic_is_not_a_follow_up(seeded: Assistant) -> None:
    first = seeded.ask(SEED_QUESTION)
    ans = seeded.ask("Why should cities price parking?", history=[turn_from_answer(first)])
    assert ans.resolved_question == "Why should cities price parking?"
    assert ans.citations[0].outlet == "The Civic Ledger"


def test_langchain_retriever_returns_documents_with_our_metadata(seeded: Assistant) -> None:
    docs = seeded.as_retriever(k=3).invoke(SEED_QUESTION)
    assert 1 <= len(docs) <= 3
    top: Any = docs[0]
    assert top.metadata["article_id"] == SEED_ID and top.metadata["paragraph"] == 12
    assert top.metadata["author"] == "Stefan Wolff" and SEED_QUOTE in top.page_content
    only = seeded.as_retriever(k=3, filters=Filters(outlet="CNA")).invoke("parking")
    assert {d.metadata["outlet"] for d in only} <= {"CNA"}


def test_cli_ask_text_and_json(seeded: Assistant, capsys: pytest.CaptureFixture[str]) -> None:
    seeded.close()
    assert cli.main(["ask", SEED_QUESTION]) == 0
    out = capsys.readouterr().out
    assert SEED_QUOTE in out.replace("\n", " ") and "Sources:" in out
    assert "[1] Commentary: Could Trump really walk away" in out
    assert "Stefan Wolff, CNA, date unknown, paragraph 12" in out

    assert cli.main(["ask", SEED_QUESTION, "--json", "-k", "2"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["refused"] is False and len(d["citations"]) <= 2
    assert d["citations"][0]["article_id"] == SEED_ID

    assert cli.main(["ask", "What is the capital of Australia?"]) == 0
    assert "The corpus does not say" in capsys.readouterr().out


def test_cli_ask_bad_input_is_one_line(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded.close()
    for argv in (["ask", "   "], ["ask", "x" * 5000], ["ask", "q", "-k", "0"],
                 ["ask", "q", "--since", "yesterday"], ["ask", "q", "--history", "missing.json"],
                 ["ask", "q", "--json", "--format", "markdown"]):  # fmt: skip
        assert cli.main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err, (argv, err)


# -- answers that hold up in a news library (article signals, citations, refusal) --------------


def test_every_article_has_its_own_vector_and_whole_text_bm25(seeded: Assistant) -> None:
    lib = seeded.library
    lib.ensure_lexical()
    ids = [r.id for r in lib.catalog.articles()]
    assert set(lib.catalog.article_vectors(ids, 384)) == set(ids)
    vector = lib.embed([SEED_QUESTION])[0]
    by_lede, by_text = lib.stores.article_rankings(SEED_QUESTION, vector, ids)
    assert max(by_lede, key=lambda a: by_lede[a]) == SEED_ID and by_text[0] == SEED_ID


def test_an_added_article_joins_the_article_rankings_at_once(seeded: Assistant) -> None:
    from assistant.ingest.sources import RawDoc

    text = (
        "Tram fares in Graz\n\nThe city of Graz will make its trams free for pensioners from May, "
        "the mayor announced on Monday.\n\nThe council expects ridership to grow by a fifth."
    )
    [result] = seeded.add([RawDoc("graz.txt", text, "text", id="graz")])
    assert result.status == "added"
    question = "Which city will make trams free for pensioners?"
    ans = seeded.ask(question)
    assert not ans.refused and ans.citations[0].article_id == "graz"
    _, by_text = seeded.library.stores.article_rankings(question, None, ["graz", SEED_ID])
    assert by_text == ["graz"]


def test_further_citations_come_from_other_articles(seeded: Assistant) -> None:
    ans = seeded.ask("Why should cities price parking?")
    stated = len(re.findall(r"\[\d+\]", ans.answer))
    further = [c.article_id for c in ans.citations[stated:]]
    cited_first = {c.article_id for c in ans.citations[:stated]}
    distinct = len({r.id for r in seeded.library.catalog.articles()}) - len(cited_first)
    assert len(set(further[:distinct])) == len(further[:distinct])  # no article twice first
    assert not set(further[:distinct]) & cited_first


def test_a_cited_passage_shows_the_paragraphs_around_its_quote(seeded: Assistant) -> None:
    first = seeded.ask(SEED_QUESTION).citations[0]
    body = seeded.library.corpus.read(SEED_ID).body
    paragraphs = body.split("\n\n")
    assert first.passage in body and SEED_QUOTE in first.passage
    assert "\n\n" in first.passage  # more than the one paragraph
    assert len(first.passage) <= seeded.settings.answer.passage_chars
    assert any(SEED_QUOTE in p for p in paragraphs)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who wrote the commentary on Trump walking away from Ukraine?", "author"),
        ("Who is the author of 'Could Trump really walk away'?", "author"),
        ("What does the author of the commentary say about Russia?", None),
        ("Who wrote the novel War and Peace?", None),
    ],
)
def test_which_questions_ask_about_an_article_itself(question: str, kind: str | None) -> None:
    from assistant.answer.metadata import metadata_kind

    assert metadata_kind(question) == kind


def test_a_general_who_wrote_question_is_not_answered_with_an_articles_author(
    seeded: Assistant,
) -> None:
    ans = seeded.ask("Who wrote the novel War and Peace?")
    assert ans.refused and "Stefan Wolff" not in ans.answer


def test_the_support_model_wants_a_close_sentence_not_the_question_s_words() -> None:
    from assistant.answer import support

    model = support.load_model()
    close = model.support(support.features(dense=0.7, coverage=0.5, in_context=0.7))
    # an off-topic sentence is not support, however many of the question's words it holds
    off = model.support(support.features(dense=0.3, coverage=1.0, in_context=0.3))
    assert close >= 0.5 > off
    # the library's closest passage: unknown or below the sentence's own, it is the sentence's
    assert support.features(0.7, 0.5, 0.7)["best"] == 0.7
    assert support.features(0.7, 0.5, 0.7, best=0.4)["best"] == 0.7
    nearer = model.support(support.features(dense=0.5, coverage=0.5, in_context=0.5, best=0.8))
    assert nearer > model.support(support.features(dense=0.5, coverage=0.5, in_context=0.5))


def test_retrieval_reports_the_closest_passage_it_searched(seeded: Assistant) -> None:
    from assistant.answer.retrieval import retrieve

    found = retrieve(seeded.library.stores, "What has Russia offered in return?")
    assert found.best_dense is not None
    assert found.best_dense == max(p.dense for p in found.passages if p.dense is not None)


NEAR_MISSES = [  # the subject is in the library, the asked-for fact is not
    "How many US troops would have to leave Europe under the reordering the Kremlin wants?",
    "What was the name of the former governor who said a central bank that promises everything "
    "will be trusted with nothing?",
    "How many containers pass through the port of Rotterdam each year?",
]


@pytest.mark.parametrize("question", NEAR_MISSES)
def test_a_near_miss_is_refused_however_close_its_subject(seeded: Assistant, question: str) -> None:
    ans = seeded.ask(question)
    assert ans.refused and ans.answer == REFUSAL, ans.answer
    check_contract(seeded, ans)


def test_the_sentence_that_gives_what_is_asked_is_the_one_quoted(seeded: Assistant) -> None:
    ans = seeded.ask("How many sailings have shipping lines rerouted to avoid the new levies?")
    assert not ans.refused
    assert "hundreds of sailings" in ans.citations[0].quote


@pytest.mark.parametrize(
    ("question", "kind", "words"),
    [
        ("How many tons of spent fuel does France store?", "count", ("tons",)),
        ("How many people were arrested in Ottawa?", "count", ("", "arrested")),
        ("How old is Joe Kennedy?", "age", ()),
        ("In what year will students sit the digital SAT?", "year", ()),
        (
            "What was the production budget of 'Top Gun: Maverick'?",
            "money",
            ("production", "budget"),
        ),
        ("How much did it cost to build the centre?", "money", ()),
        (
            "What is Fouad Zaban's win-loss record as head coach?",
            "attribute",
            ("win-loss", "record"),
        ),
        ("What is the name of the Russian judge who sentenced her?", "name", ("russian", "judge")),
        ("In which Russian penal colony is she held?", "name", ("russian", "penal", "colony")),
        ("Who won the 2022 FIFA World Cup?", "attribute", ("fifa", "world", "cup")),
        ("Who is the director of The Godfather?", "someone", ()),
        ("Who was the runner-up of the 2018 World Cup?", "someone", ("group",)),
    ],
)
def test_what_a_question_asks_for(question: str, kind: str, words: tuple[str, ...]) -> None:
    from assistant.answer.asked import Asked, asked_for

    assert asked_for(question) == Asked(kind, words)


@pytest.mark.parametrize(
    "question",
    [
        "Why does the author oppose the plan?",
        "What is undermining the ambitions of Moldova?",  # a verb, not a thing
        "What was the profession of Amy Johnson?",  # answered by an instance ("aviator")
        "When was Pixel 6 announced?",  # a date is not checked (it changed no answer)
        "What share of Ukraine's mineral revenues would the US receive?",
        "Which team won the Stanley Cup?",
        "Which company cut the air conditioning in its stores?",  # answered by a name anywhere
        "Which city hosted the Olympic Games in 2008?",
        "What has Russia offered in return?",
        "Who is to blame for the gas shortage?",  # a culprit may be "the industry"
        "Who is responsible for the outage?",
        "Who is Ketanji Brown Jackson?",  # who she is: a description, not another name
        "Who were the protesters in Ottawa?",  # a group, described rather than named
        "Who was born first, Ann Lee or Bo Ray?",  # the choice names them
    ],
)
def test_questions_that_ask_for_nothing_checkable(question: str) -> None:
    from assistant.answer.asked import asked_for

    assert asked_for(question) is None


@pytest.mark.parametrize(
    ("question", "sentence", "gives"),
    [
        ("How many tons does France store?", "France stores 10,500 metric tons of it.", True),
        ("How many tons does France store?", "An 80-year-old question: where to store the tons?", False),
        ("How many people were arrested?", "Police said 191 people were arrested.", True),
        ("How many people were arrested?", "As many as 18,000 people demonstrated.", False),
        ("How old is Joe Kennedy?", "Kennedy, 53, began praying in 2008.", True),
        ("How old is Joe Kennedy?", "Kennedy began praying in 2008.", False),
        ("What was the film's production budget?", "It made $156 million in its opening weekend.", False),
        ("What was the film's production budget?", "Its budget was $170 million.", True),
        ("What is the atomic number of carbon?", "Whatever the exact number, the situation is dire.", False),
        ("What is the name of the Russian judge who sentenced Brittney Griner?",
         "A Russian judge sentenced Brittney Griner to nine years.", False),
        ("What is the name of the Russian judge who sentenced Griner?",
         "Judge Anna Sotnikova sentenced Griner to nine years.", True),
        ("In which Russian penal colony is Griner held?",
         "The US protests the movement of Brittney Griner to a remote penal colony.", False),
        ("In which Russian penal colony is Griner held?",
         "Griner was moved to penal colony IK-2 in Mordovia.", True),
        ("Who won the 2022 FIFA World Cup?",
         "Since Germany won the Olympic gold medal in 2016, Euro 2022 marks a first.", False),
        ("Who won the 2022 FIFA World Cup?", "Argentina won the World Cup in Qatar.", True),
        ("In what year will students sit the digital SAT?",
         "The digital SAT is no answer, any more than MOOCs were in the 2000s.", False),
        ("In what year will students sit the digital SAT?", "It goes digital in 2024.", True),
        ("Who is the CEO of Google?", "CEO of Google and Alphabet ...", False),
        ("Who is the CEO of Google?", "Google CEO Sundar Pichai spoke on Tuesday.", True),
        ("Who is the CEO of Lego?", "Niels B. Christiansen has led it since 2017.", True),
        ("Who is the lead actress in La La Land?",
         "La La Land (2016) cast and crew credits, including actors and actresses.", False),
        ("Who is the lead actress in La La Land?", "Sep 8, 2016 ... La La Land opens.", False),
        ("Who was the runner-up of the 2018 World Cup?", "Croatia lost the final.", True),
        ("What did Elon Musk offer to pay for Twitter?", "The board met to weigh Musk's offer.",
         False),
        ("What did Elon Musk offer to pay for Twitter?", "Twitter agreed to a $44 billion deal.",
         True),
    ],
)  # fmt: skip
def test_whether_a_sentence_gives_what_is_asked(question: str, sentence: str, gives: bool) -> None:
    from assistant.answer.asked import asked_for
    from assistant.answer.asked import gives as gives_fn

    assert gives_fn(asked_for(question), sentence, question) is gives


@pytest.mark.parametrize(
    ("question", "sentence", "clash"),
    [
        ("Who defeated Serena Williams at the 2022 US Open?",
         "Williams lost to Naomi Osaka in the US Open final in 2018.", True),
        ("Who defeated Serena Williams at the 2022 US Open?",
         "Williams lost to Ajla Tomljanovic at the 2022 US Open.", False),
        ("Who defeated Serena Williams at the 2022 US Open?",
         "Williams lost to Ajla Tomljanovic in the third round.", False),  # no year: no clash
        ("Who won the 2018 Nobel Prize in Literature?",
         "She spoke at the 2019 Nobel Prize ceremony.", True),
        ("From 1945-1949 Dick Humbert played for which team?",
         "Humbert played end in 1941 for the Eagles.", False),  # no event named by its year
        ("Who won the Stanley Cup in 2022?",
         "The Lightning won the last two Stanley Cups in 2020 and 2021.", True),
        ("Who won the Stanley Cup in 2022?", "The Avalanche won the Stanley Cup on Sunday.", False),
    ],
)  # fmt: skip
def test_a_sentence_putting_the_asked_event_in_another_year(
    question: str, sentence: str, clash: bool
) -> None:
    from assistant.answer.asked import contradicts

    assert contradicts(question, sentence) is clash


def test_a_question_about_a_pieces_argument_cites_more_of_that_piece(seeded: Assistant) -> None:
    ans = seeded.ask("What does the commentary argue Trump could do if Russia refuses a ceasefire?")
    check_contract(seeded, ans)
    assert [c.article_id for c in ans.citations] == [SEED_ID] * 5
    for i, c in enumerate(ans.citations):  # each shows more of the piece, none repeats another
        assert not any(c.passage in o.passage for o in ans.citations[:i])
    # a question that names the piece's author is about that piece too
    named = seeded.ask("How does Stefan Wolff see a shaky ceasefire?")
    assert [c.article_id for c in named.citations] == [SEED_ID] * 5


def test_the_authors_bio_is_not_what_the_author_says(seeded: Assistant) -> None:
    ans = seeded.ask("What does Stefan Wolff say about a shaky ceasefire?")
    assert not ans.refused
    assert "Wolff" not in ans.citations[0].quote, ans.citations[0].quote


def test_the_commentary_a_question_names_comes_before_news_on_its_topic(
    seeded: Assistant,
) -> None:

    news = (
        "Tram fares to rise in Leeds\n\nBy Ann Lee\n\nLeeds will raise tram fares by ten pence "
        "from May, the council said on Monday. The council said tram fares had not risen in six "
        "years and that costs had grown. Riders' groups said tram fares were already high."
    )
    opinion = (
        "Opinion: Cheap trams are worth every penny\n\nBy Ben Ortiz\n\nLeeds is wrong to make "
        "its trams dearer. A city that wants cleaner air should pay people to leave the car at "
        "home, and a fare rise does the opposite."
    )
    add_article(seeded, "leeds-news", news, "https://example.com/news/leeds-tram-fares")
    add_article(seeded, "leeds-opinion", opinion, "https://example.com/opinion/leeds-trams")
    ans = seeded.ask("What does the opinion piece say about tram fares in Leeds?")
    assert ans.citations[0].article_id == "leeds-opinion"
    # and the piece of an author the question names
    assert seeded.library.catalog.article("leeds-news").author == "Ann Lee"  # type: ignore[union-attr]
    ans = seeded.ask("What does Ann Lee write about Leeds trams?")
    assert ans.citations[0].article_id == "leeds-news"


@pytest.mark.parametrize(
    ("question", "views"),
    [
        ("What does Nicole Hemmer say the digital SAT fails to address?", True),
        ("Why does the CNN commentary on the SAT call it minor?", True),
        ("What does the columnist recommend donors do?", True),
        ("Which head of state announced his resignation this week?", False),
        ("The GOP's most outspoken critic of Donald Trump lost her seat. Who is she?", False),
    ],
)
def test_which_questions_ask_what_a_piece_argues(question: str, views: bool) -> None:
    from assistant.answer.asked import about_views

    assert about_views(question) is views


@pytest.mark.parametrize(
    ("question", "recent"),
    [
        ("Which head of state announced his resignation this week?", True),
        ("What is the latest on the ceasefire talks?", True),
        ("How many monkeypox cases are there in the US as of now?", True),
        ("Why should cities price parking?", False),
        ("What has Russia offered in return?", False),
    ],
)
def test_which_questions_ask_about_what_is_new(question: str, recent: bool) -> None:
    from assistant.answer.asked import asks_recent

    assert asks_recent(question) is recent


def test_this_weeks_question_is_answered_from_the_newest_coverage(seeded: Assistant) -> None:
    from assistant.ingest.sources import RawDoc

    text = (
        "Leeds sets new tram fares\n\nLeeds council voted on tram fares on Tuesday. Tram fares "
        "in Leeds will rise by ten pence, the council said. Riders' groups said tram fares in "
        "Leeds were already high."
    )  # the same report on three dates (syndicated): only the date tells them apart
    dates = {"fares-2020": "2020-05-05", "fares-2022": "2022-07-12", "fares-2021": "2021-03-02"}
    docs = [
        RawDoc(f"{i}.txt", f"{text}\n\nFiled as {i}.", "text", {"published": d}, id=i)
        for i, d in dates.items()
    ]
    assert {r.status for r in seeded.add(docs, force=True)} == {"added"}
    ans = seeded.ask("What did Leeds council decide about tram fares this week?")
    assert ans.citations[0].article_id == "fares-2022"


def test_who_is_asked_is_answered_by_a_sentence_naming_someone(seeded: Assistant) -> None:
    text = (
        "Tramlink leadership\n\nThe chief executive of Tramlink and its parent company faces a "
        "busy spring. Since March, Ann Okafor has run Tramlink after the board chose her. "
        "Ridership rose last year."
    )
    add_article(seeded, "ceo", text)
    ans = seeded.ask("Who is the chief executive of Tramlink?")
    assert not ans.refused, ans.answer
    assert "Ann Okafor" in ans.citations[0].quote, ans.citations[0].quote


@pytest.mark.parametrize(
    ("a", "b", "differ"),
    [
        ("Google CEO Sundar Pichai joins the Alphabet board.",
         "Google CEO Tim Cook joins the Alphabet board.", True),
        ("Spider-Man was released on September 7, 2018.",
         "Spider-Man was released on September 1, 2020.", True),
        ("Google CEO Sundar Pichai joins the Alphabet board.",
         "Sundar Pichai, Google's CEO, joins Alphabet's board.", False),  # the same, reworded
        ("The council raised tram fares by ten pence in May.",
         "Riders were not consulted about the higher fares.", False),  # different statements
    ],
)  # fmt: skip
def test_statements_that_differ_in_a_name_or_number(a: str, b: str, differ: bool) -> None:
    from assistant.answer.compose import disagree

    assert disagree(a, b) is differ


def test_an_answer_whose_sources_disagree_says_so(seeded: Assistant) -> None:
    from assistant.cli import format_answer
    from assistant.web.render import chat_messages

    for doc_id, name, outlet in (
        ("acme-1", "Ann Okafor", "Daily A"),
        ("acme-2", "Bo Lindqvist", "B News"),
    ):
        text = (f"Acme names a new chief\n\nBy Sam Reed, {outlet}\n\nThe new chief executive of "
                f"Acme Freight is {name}, the company said on Monday.")  # fmt: skip
        add_article(seeded, doc_id, text)
    ans = seeded.ask("Who is the new chief executive of Acme Freight?").to_dict()
    assert not ans["refused"] and "Ann Okafor" in ans["answer"] and "Bo Lindqvist" in ans["answer"]
    assert ans["conflicts"] == [[1, 2]]
    assert "Note: [1] and [2] say nearly the same with another name" in format_answer(ans)
    assert "⚠" in chat_messages([ans])[-1]["content"]
    assert "conflicts" not in seeded.ask(SEED_QUESTION).to_dict()  # agreeing answers: unchanged


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What is the main argument of the commentary on the digital SAT?", "the digital SAT?"),
        ("What's the key message of the piece on nuclear waste?", "nuclear waste?"),
        ("Summarize Nicole Hemmer's column on the SAT", "Nicole Hemmer's column on the SAT"),
        ("What does the commentary argue about the SAT?", None),  # a question about its view
        ("What is the main reason for the delay?", None),
        ("What is its main point?", ""),  # the piece is the conversation's
        ("What is the main point of contention in the talks?", None),  # not about a piece
        ("Summarize the debate over the SAT", None),
    ],
)
def test_which_questions_ask_for_a_pieces_gist(question: str, topic: str | None) -> None:
    from assistant.answer.gist import topic as gist_topic

    assert gist_topic(question) == topic


def test_the_main_argument_of_a_piece_is_its_central_sentences(seeded: Assistant) -> None:
    ans = seeded.ask("What is the main argument of the commentary on the Ukraine peace deal?")
    check_contract(seeded, ans)
    assert not ans.refused, ans.answer
    stated = [c for c in ans.citations if f"[{c.n}]" in ans.answer]
    assert len(stated) == 2 and {c.article_id for c in stated} == {SEED_ID}
    assert stated[0].paragraph < stated[1].paragraph  # in the piece's order
    assert "Wolff" not in ans.answer  # not the byline or the author's bio
    # no piece on the topic: refused, whatever the piece's central sentences
    assert seeded.ask("What is the main argument of the commentary on quantum gravity?").refused


def test_its_main_point_is_that_of_the_piece_the_conversation_cited(seeded: Assistant) -> None:
    first = seeded.ask(SEED_QUESTION)
    for question in ("What is its main point?", "Summarize it"):
        ans = seeded.ask(question, history=[turn_from_answer(first)])
        assert not ans.refused, (question, ans.answer)
        stated = [c for c in ans.citations if f"[{c.n}]" in ans.answer]
        assert {c.article_id for c in stated} == {SEED_ID} and len(stated) == 2
    assert seeded.ask("What is its main point?").refused  # no conversation: which piece?


def test_a_sentence_that_asks_is_not_the_answer(seeded: Assistant) -> None:

    text = (
        "Leeds trams\n\nWhat will Leeds do about its tram fares this spring? The council voted to "
        "raise tram fares by ten pence from May. Riders were not consulted."
    )
    add_article(seeded, "asks", text)
    ans = seeded.ask("What will Leeds do about its tram fares?")
    assert not ans.answer.startswith("What will Leeds"), ans.answer
    assert "raise tram fares" in ans.citations[0].quote


@pytest.mark.parametrize(
    ("sentence", "quotable"),
    [
        ("The council voted to raise tram fares by ten pence.", True),
        ("More from Suzette Hackney:", False),
        ("Here is what the council said on Monday:", False),
        ("FILE - In this photo of 2016, a tram leaves the depot.", False),
        ("Read more", False),
        ("Can Ukraine ever be part of the group?", False),
        ('He asked: "Who pays for the trams?"', False),
        ("More:Supreme Court overturns Roe v. Wade in 6-3 decision", False),  # a link
        ("BLOODSHED SINCE SANDY HOOK:Uvalde shooting among deadliest attacks.", False),
        ("Salvador Ramos:Texas school shooter lived in Uvalde: What we know", False),
        ("Austin:Although cases rose, Gov. Abbott said no new rules would come.", True),
    ],
)
def test_what_states_nothing_on_its_own_is_not_quoted(sentence: str, quotable: bool) -> None:
    from assistant.answer.evidence import quotable as is_quotable

    assert is_quotable(sentence) is quotable


def test_a_source_quoted_in_an_opinion_piece_is_not_the_pieces_argument(seeded: Assistant) -> None:

    add_article(seeded, "waste", FOOD_WASTE, "https://example.com/opinion/food-waste")
    ans = seeded.ask("Where does the opinion piece say real progress on food waste will come from?")
    assert ans.citations[0].article_id == "waste"
    assert ans.citations[0].quote.startswith("In truth"), ans.answer


@pytest.mark.parametrize(
    ("title", "url", "author", "opinion"),
    [
        ("Commentary: Could Trump really walk away?", None, "Stefan Wolff", True),
        ("Opinion: Cheap trams are worth it", None, None, True),
        ("Trams get dearer", "https://example.com/opinion/trams", None, True),
        ("Trams get dearer", None, "Opinion Ben Ortiz", True),
        ("Trams get dearer", "https://example.com/news/trams", "Ann Lee", False),
        ("Columbia wins the title", None, None, False),
    ],
)
def test_which_articles_are_opinion_pieces(
    title: str, url: str | None, author: str | None, opinion: bool
) -> None:
    from assistant.answer.metadata import is_opinion
    from assistant.types import Passage

    p = Passage("a:0", "a", 1, 0, 1, "x", None, title, author, None, None, url)
    assert is_opinion(p) is opinion


def test_a_question_about_what_was_said_may_be_answered_with_the_quote(seeded: Assistant) -> None:

    add_article(seeded, "waste", FOOD_WASTE, "https://example.com/opinion/food-waste")
    ans = seeded.ask("What did the minister say real progress on food waste will come from?")
    assert ans.citations[0].quote.startswith("“Real progress"), ans.answer


@pytest.mark.parametrize(
    ("question", "form"),
    [
        ("What evidence does the columnist cite that most drivers oppose the protest?", "figure"),
        ("What proof does the editorial offer that the rescue made money?", "figure"),
        ("What figures does the author give for the cost?", "figure"),
        ("What does Samuel Adkisson recommend donors do about universities like Yale?", "advice"),
        ("What does the column urge readers to back?", "advice"),
        ("What should Europe do about its gas, according to the commentary?", "advice"),
        ("What public figures attended the funeral?", None),
        ("Why does the columnist oppose the protest?", None),
    ],
)
def test_what_an_argument_question_asks_a_sentence_to_hold(question: str, form: str | None) -> None:
    from assistant.answer.asked import ADVICE, FIGURE, answer_form

    assert answer_form(question) is {"figure": FIGURE, "advice": ADVICE, None: None}[form]


@pytest.mark.parametrize(
    ("sentence", "pattern", "holds"),
    [
        ("Some 90% of Canadian truckers are vaccinated.", "figure", True),
        ("The US has spent $13 billion on the search.", "figure", True),
        ("According to the Kiel Institute, Estonia gave the most.", "figure", True),
        ("A recent study by Stanford University showed stoves leak.", "figure", True),
        ("It's been over 15 years since Bulgaria and Romania joined the bloc.", "figure", False),
        ("Riders love the trams, and the council should say so.", "figure", False),
        ("Donors should withhold funding from such institutions.", "advice", True),
        ("Instead, it's time to rethink the test's function.", "advice", True),
        ("The government has recognized the need to address this problem.", "advice", False),
        ("Yale offers financial grants to help defray living expenses.", "advice", False),
    ],
)
def test_a_sentence_holding_a_figure_or_advice(sentence: str, pattern: str, holds: bool) -> None:
    from assistant.answer.asked import ADVICE, FIGURE

    assert bool((FIGURE if pattern == "figure" else ADVICE).search(sentence)) is holds


def test_asked_for_evidence_a_piece_gives_its_figures_not_its_claim(seeded: Assistant) -> None:
    text = (
        "Opinion: The city should keep its trams\n\nBy Mara Quill, Daily A\n\n"
        "The tram network is the best thing this city has built in decades.\n\n"
        "Riders love the trams, and the council should stop pretending otherwise.\n\n"
        "Riders have voted with their feet: they made 4.2 million trips last year, up 30% since "
        "2019.\n\n"
        "Cutting the service now would be a mistake the council would regret."
    )
    add_article(seeded, "trams-opinion", text)
    ans = seeded.ask("What evidence does the columnist give that riders love the trams?")
    assert not ans.refused, ans.answer
    assert "4.2 million trips" in ans.citations[0].quote, ans.citations[0].quote
    ans = seeded.ask("Why does the columnist say riders love the trams?")  # no evidence asked
    assert "4.2 million trips" not in ans.citations[0].quote, ans.citations[0].quote


def test_who_won_is_not_answered_from_a_report_older_than_the_event(seeded: Assistant) -> None:
    last_year = (  # the 2021 final's report: it names no year, its date does
        "Harbour Cup final\n\nThe Harbour Cup rowing final was held on Saturday. Mara Quill won "
        "the Harbour Cup by a length."
    )
    add_article(seeded, "cup-2021", last_year, published="2021-07-11")
    ans = seeded.ask("Who won the Harbour Cup in 2022?")
    assert ans.refused, ans.answer  # a 2021 report cannot say who won in 2022
    result = (
        "Harbour Cup final\n\nThe Harbour Cup rowing final was held on Saturday. Ines Vidal won "
        "the Harbour Cup by two lengths."
    )
    add_article(seeded, "cup-2022", result, published="2022-07-10")
    ans = seeded.ask("Who won the Harbour Cup in 2022?")
    assert not ans.refused and "Ines Vidal" in ans.answer, ans.answer


@pytest.mark.parametrize(
    ("question", "published", "clash"),
    [
        ("What did the Fed do to interest rates in July 2022?", "2022-06-15", True),
        ("What did the Fed do to interest rates in July 2022?", "2022-07-27", False),
        ("What was the inflation rate in 2021?", "2020-12-01", True),
        ("What was the inflation rate in 2021?", "2022-01-12", False),
        ("What will the Fed do in July 2022?", "2022-06-15", False),  # a forecast may tell
        ("What did the Fed do in July 2022?", None, False),  # undated: cannot tell
    ],
)
def test_a_report_older_than_the_time_asked_about_cannot_tell(
    question: str, published: str | None, clash: bool
) -> None:
    from assistant.answer.asked import contradicts

    assert contradicts(question, "The Fed spoke.", published) is clash


def test_asked_what_a_piece_urges_it_gives_its_advice(seeded: Assistant) -> None:
    text = (
        "Opinion: Fix the buses first\n\nBy Ola Brandt, Daily B\n\n"
        "The council spent the spring arguing about the city's buses.\n\n"
        "Bus riders waited longer than ever for the council's buses this year.\n\n"
        "The council should publish every route's delays each month.\n\n"
        "Nobody at City Hall seems to ride the bus."
    )
    add_article(seeded, "buses-opinion", text)
    ans = seeded.ask("What does the columnist urge the council to do about the buses?")
    assert "should publish" in ans.citations[0].quote, ans.citations[0].quote


def test_chosen_evidence_is_judged_on_the_sentence_read_alone(seeded: Assistant) -> None:
    from assistant.answer.evidence import Evidence, read_alone
    from assistant.types import Passage

    text = "The council should publish every route's delays each month."
    p = Passage("bus:0", "bus", 1, 0, len(text), text, None, None, None, None, None, None)
    embed = seeded.library.embed
    q = embed(["What does the columnist urge the council to do?"])[0]
    in_passage = Evidence(p, 0, 0, len(text), 0.4, 0.9, 0.5, 0.0, 0.9, alone=False)
    [ev] = read_alone([in_passage], q, embed)
    assert ev.alone and abs(ev.dense - float(embed([text])[0] @ q)) < 1e-5
    assert read_alone([ev], q, embed)[0] is ev  # read alone already: left as it is


def test_a_question_asked_as_of_a_date_uses_only_what_was_published_by_then(
    seeded: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    add_article(seeded, "ferry-june", "Ferry strike\n\nThe ferry crews of Port Alna walked out on "
                "Monday, and the harbour authority offered a 3 percent raise.", published="2022-06-06")  # fmt: skip
    add_article(seeded, "ferry-july", "Ferry strike ends\n\nThe ferry crews of Port Alna went back "
                "to work after the harbour authority offered a 6 percent raise.", published="2022-07-04")  # fmt: skip
    question = "What raise did the harbour authority offer the ferry crews of Port Alna?"
    assert {"ferry-june", "ferry-july"} <= {c.article_id for c in seeded.ask(question).citations}
    early = seeded.ask(question, as_of="2022/06/16")  # the news-quiz form of a date
    assert not early.refused and "3 percent" in early.answer, early.answer
    assert "ferry-july" not in {c.article_id for c in early.citations}
    assert SEED_ID in {
        c.article_id for c in seeded.ask(SEED_QUESTION, as_of="2022-01-01").citations
    }  # undated: kept
    assert main(["ask", question, "--as-of", "2022-06-16", "--json"]) == 0
    assert "ferry-july" not in capsys.readouterr().out
    assert main(["ask", question, "--as-of", "June"]) == 1
    assert "Invalid date 'June'" in capsys.readouterr().err


def test_question_sets_carry_the_date_asked(tmp_path: Path) -> None:
    from assistant.evaluation.questions import load_questions

    f = tmp_path / "q.jsonl"
    f.write_text(
        '{"id": "a", "question": "What happened?", "question_date": "2022/06/16"}\n'
        '{"id": "b", "question": "What happened?", "as_of": "2022-07-01"}\n'
    )
    a, b = load_questions(f)
    assert (a.as_of, b.as_of) == ("2022-06-16", "2022-07-01")
    assert a.extra == {"question_date": "2022/06/16"}  # kept for results.jsonl
    f.write_text('{"id": "c", "question": "What happened?", "as_of": "soon"}\n')
    with pytest.raises(InputError, match='"as_of" must be a date'):
        load_questions(f)


def test_a_refusals_nearest_passages_keep_the_order_the_answer_preferred(
    seeded: Assistant,
) -> None:
    """The evidence and advice preferences reorder the sentences in the choose stage; compose
    must get that order, or a refused question's first "nearest passage" is not the sentence
    they put first (advice MRR .792 -> .583 when the pipeline was first split out)."""
    from assistant.answer import compose
    from assistant.answer.evidence import Evidence
    from assistant.answer.pipeline import Found
    from assistant.answer.reading import read
    from assistant.answer.retrieval import Retrieved
    from assistant.types import Passage

    def ev(n: int, text: str, score: float) -> Evidence:  # two paragraphs of one piece
        p = Passage(f"piece:{n}", "piece", n + 1, 0, len(text), text, None, None, None, None,
                    None, None)  # fmt: skip
        return Evidence(p, n, 0, len(text), score, score, 0.5)

    plain = ev(0, "The city runs many buses across the old town.", 0.40)
    advice = ev(1, "The city should buy more electric buses now.", 0.36)
    reading = read("What does the columnist urge the city to do about buses?")
    assert reading.form is not None  # asked for advice
    cands = [plain.passage, advice.passage]
    found = Found(Retrieved(cands, None))
    chosen, scored, _, _ = seeded.answering.choose(reading, found, cands, [plain, advice],
                                                   None, True)  # fmt: skip
    assert scored[0] is advice and chosen[0].quote == advice.quote
    # refused (support under the bar): the piece's passages follow in the preferred order
    refused = compose.compose(reading.question, chosen, scored, cands, 5, 0.99,
                              judge=lambda e: 0.1, depth=4)  # fmt: skip
    assert refused.refused and refused.citations[0].quote == advice.quote


def test_a_window_grows_by_whole_neighbours_within_its_budget() -> None:
    from types import SimpleNamespace as P

    from assistant.answer.pipeline import window

    # paragraphs 1-5 of ten characters, two apart as "\n\n" leaves them; p4 stands 5 further on
    near = {j: P(text=f"p{j}".ljust(10, "."), paragraph=j + 1, start=12 * j, end=12 * j + 10)
            for j in range(5)}  # fmt: skip
    near[4] = P(text="p4".ljust(10, "."), paragraph=5, start=12 * 4 + 5, end=12 * 4 + 15)
    middle = near.pop(2)
    assert window(middle, 2, near, 10) == middle.text
    three = [near[1].text, middle.text, near[3].text]
    assert window(middle, 2, near, 34) == "\n\n".join(three)
    # the whole budget: p0 joins, p4 does not (it does not follow p3 in the article)
    assert window(middle, 2, near, 1000).split("\n\n") == [
        near[0].text,
        near[1].text,
        middle.text,
        near[3].text,
    ]
