"""The Python API: ``Assistant`` asks, adds and removes; everything else builds on it.

>>> from assistant.api import Assistant                             # doctest: +SKIP
>>> a = Assistant(Settings.from_env())                                # doctest: +SKIP
>>> a.ask("What has Russia offered in return?").citations[0].author  # doctest: +SKIP
'Stefan Wolff'
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from assistant.answer import asked, conversation, evidence, gist, support, viewpoints
from assistant.answer import compose as answering
from assistant.answer.metadata import Articles, is_opinion, metadata_kind
from assistant.answer.retrieval import Retrieved, retrieve
from assistant.errors import InputError
from assistant.index.stores import to_passage
from assistant.index.sync import AddResult, Library, ProgressFactory
from assistant.ingest.cleaning import safe_text
from assistant.ingest.sources import Failure, RawDoc
from assistant.settings import Settings
from assistant.types import Answer, Filters, Passage, Turn

PER_CITATION = 16  # passages per citation when the first 20 hold fewer than k articles
DEPTH = 4  # a question about what a piece argues cites this many more of its passages
OPINION_BOOST = 2.0  # "the commentary on ...": opinion pieces earn twice a first rank's share
PIECE_FIRST = 0.8  # ... and are answered from that piece: its best sentence down to 80% of the best


class Assistant:
    """Cited answers from the corpus in ``settings.corpus_dir``."""

    def __init__(
        self,
        settings: Settings | None = None,
        progress: ProgressFactory | None = None,
        chat_model: Any = None,
    ) -> None:
        self.settings = settings or Settings()
        self.library = Library(self.settings, progress)
        self._articles = Articles(self.library.stores)
        self._chat_model = chat_model  # a LangChain chat model; built from settings.llm if None

    def close(self) -> None:
        self.library.close()

    # -- library -------------------------------------------------------------------------------
    def ensure_index(self) -> None:
        """Bring the index in line with the corpus when it is not (builds it when missing).

        Costs nothing while a Watcher runs (it keeps the index in line in the background), and
        otherwise one look at the corpus directory, not at every file (``corpus_changed``).
        """
        if self.library.watcher is None and self.library.corpus_changed():
            self.library.sync()

    def add(
        self, items: Iterable[RawDoc | Failure], flags: dict[str, str | None] | None = None, force: bool = False,
        on_result: Any = None,
    ) -> list[AddResult]:  # fmt: skip
        return self.library.add(items, flags, force, on_result)

    def remove(self, article_ids: Sequence[str]) -> None:
        self.library.remove(article_ids)

    # -- asking --------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] = (),
        filters: Filters | None = None,
        k: int | None = None,
        generate: bool = False,
        show_flagged: bool = False,
        mode: str | None = None,
        by: str | None = None,
    ) -> Answer:
        """The cited answer to ``question`` (or a refusal), given the conversation so far.

        ``generate=True``: a language model writes the answer and only verified statements
        stay (``show_flagged`` keeps the others, marked); see ``ask_stream``. ``mode``
        ("viewpoints", "timeline", "answer") and ``by`` ("article", "author", "outlet") ask for
        one entry per article (viewpoints.py); by default the question's wording decides.
        """
        vp = viewpoints.mode_for(question if isinstance(question, str) else "", mode, by)
        if generate and vp is None:
            *_, last = self.ask_stream(question, history, filters, k, show_flagged, mode)
            assert isinstance(last, Answer)
            return last
        started = time.perf_counter()
        question = check_question(question, self.settings.answer.max_question_chars)
        k = self.settings.answer.k if k is None else k
        if k < 1 or k > 50:
            raise InputError(f"-k must be between 1 and 50 (got {k}).")
        turns = [t if isinstance(t, Turn) else Turn(**_turn_fields(t)) for t in history]
        last_cited = [t for t in reversed(turns) if t.articles]
        resolved = conversation.resolve(
            question,
            turns,
            last_author=last_cited[0].author if last_cited else None,
            last_articles=last_cited[0].articles if last_cited else (),
        )
        lib = self.library
        lib.check_manifest()
        lib.ensure_lexical()
        if unmatched := _unmatched_filters(lib, filters):
            return Answer(question, unmatched, refused=True,
                          latency_ms=(time.perf_counter() - started) * 1000)  # fmt: skip
        if vp is not None:  # who says what (and when): one entry per article
            result = viewpoints.answer(self, question, resolved, filters, vp, by)
            result.resolved_question = resolved.query
            result.latency_ms = (time.perf_counter() - started) * 1000
            return result
        recent = asked.asks_recent(resolved.focus)  # "this week": newer coverage first

        def fetch(
            n: int, vector: Any = None, boost: Sequence[str] = (), weight: float = 0.5
        ) -> Retrieved:
            return retrieve(
                lib.stores, resolved.query, filters, n=n,
                boost_articles=[*resolved.boost_articles, *boost], boost=weight,
                recent=recent, vector=vector,
            )  # fmt: skip

        n = max(4 * k, 20)  # enough passages to cite k different articles, most of the time
        about = gist.topic(question)  # "What is the main argument of the column on ...?"
        if about is not None and gist.unnamed(about) and last_cited:
            # "What is its main argument?" after an answer: the piece that answer cited first
            piece = last_cited[0].articles[0]
            found = retrieve(lib.stores, resolved.query, filters, n=n, only_articles=[piece])
        else:
            piece = None
            found = fetch(n)
        if len({p.article_id for p in found.passages}) < k and piece is None:
            # a few long articles took them all
            n = PER_CITATION * k
            found = fetch(n, found.query_vector)
        by_author = _by_named_author(resolved.focus, found.passages)
        if piece is None and (
            preferred := (_opinion(resolved.focus, found.passages) | by_author)
            - set(resolved.boost_articles)
        ):  # "the CNN commentary on ...", "What does Nicole Hemmer say ...": those pieces first
            found = fetch(n, found.query_vector, sorted(preferred), OPINION_BOOST)
        meta_passage = None
        if metadata_kind(question):
            # "who wrote the commentary ...?": find the article first, then answer inside it
            aid = self._articles.article_named(
                resolved.query, found.passages, resolved.boost_articles
            )
            if aid:
                found = retrieve(
                    lib.stores, resolved.query, filters, n=n, only_articles=[aid],
                    vector=found.query_vector,
                )  # fmt: skip
                meta_passage = self._articles.passage_naming_author(aid) or (
                    found.passages[0] if found.passages else None
                )
        candidates = self._candidates(
            [p for p in found.passages if p.article_id in by_author] or found.passages,
            whole_first=meta_passage is None,
        )  # an author's own words answer "What does Nicole Hemmer say ...", not her subject's
        stored = lib.catalog.sentence_vectors([p.chunk_id for p in candidates], lib.embedder.dim)
        scored = evidence.score_sentences(
            about or resolved.focus, found.query_vector, candidates, lib.embed,
            idf=lib.lexical.idf, stored=stored, max_passages=len(candidates),
        )  # fmt: skip
        if resolved.is_follow_up and turns:
            said = {q for t in turns for q in t.quotes}  # "what else": not what was said before
            scored = [e for e in scored if e.quote not in said] or scored
        views = self._about_views(resolved.focus, candidates)
        if about is not None and candidates and meta_passage is None:  # its central sentences
            chosen, speaks = gist.answer(
                scored, stored, candidates[0].article_id, self._judge(about)
            )
            if gist.unnamed(about):  # the piece the conversation cited, or none to speak of
                speaks = 1.0 if piece is not None else 0.0
            judge = lambda ev: speaks  # noqa: E731 - the piece speaks to the topic, or not
            views = True
        else:
            judge = self._judge(resolved.focus)
            need, focus = asked.asked_for(resolved.focus), resolved.focus
            scored = evidence.prefer(  # "how many tons ...": a sentence with the tonnage, if close
                scored,
                lambda ev: asked.answers(need, focus, ev.quote, ev.passage.published),
                evidence.PREFER_WITHIN,
            )
            form = asked.answer_form(focus)  # "What evidence does the columnist cite ...?"
            if form is not None:  # a figure or its source (advice, ...), if close
                scored = evidence.prefer(
                    scored, lambda ev: form.search(ev.quote) is not None, evidence.PREFER_WITHIN
                )
            if views:  # what a piece argues is in the piece, not in the news it comments on
                piece = candidates[0].article_id
                scored = evidence.prefer(
                    scored, lambda ev: ev.passage.article_id == piece, PIECE_FIRST
                )
            chosen = evidence.choose(scored)
            if found.query_vector is not None:  # the judge reads what it was calibrated on
                chosen = evidence.read_alone(chosen, found.query_vector, lib.embed)
        result = answering.compose(
            question,
            chosen,
            scored,
            found.passages,
            k,
            self.settings.answer.refuse_below,
            meta_passage,
            judge,
            self._around,
            DEPTH if views else 0,
        )
        result.resolved_question = resolved.query
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    @staticmethod
    def _about_views(question: str, candidates: Sequence[Passage]) -> bool:
        """True when the question asks what a piece argues, or names the first article's author
        ("How does Andrew Cohen characterise ..."): its answer is in that one article."""
        return asked.about_views(question) or bool(_by_named_author(question, candidates[:1]))

    def _candidates(self, passages: Sequence[Passage], whole_first: bool) -> list[Passage]:
        """The passages whose sentences may answer: the best few retrieved, and (``whole_first``)
        every passage of the first article. Retrieval finds the right article far more often
        than the right paragraph of a long one: an opinion piece's argument is seldom in the
        paragraph that shares the question's words (docs/quality.md)."""
        out = list(passages[: evidence.MAX_PASSAGES])
        if whole_first and out:
            have = {p.chunk_id for p in out}
            ids = [i for i in self.library.catalog.chunk_ids_of(out[0].article_id) if i not in have]
            out += [to_passage(row, meta) for row, meta in self.library.stores.passage_rows(ids)]
        return out

    def _around(self, p: Passage) -> str:
        """The passage with its neighbouring paragraphs, as the article has them (a reader of
        news, where a paragraph is often one sentence, needs the sentences around a quote)."""
        budget = self.settings.answer.passage_chars
        aid, pos = p.chunk_id.rsplit(":", 1)
        near = self.library.catalog.chunks([f"{aid}:{int(pos) - 1}", f"{aid}:{int(pos) + 1}"])
        text = p.text
        before = near.get(f"{aid}:{int(pos) - 1}")
        after = near.get(f"{aid}:{int(pos) + 1}")

        def sep(a: Any, b: Any) -> str | None:
            """What stands between two neighbouring passages in the article, when known."""
            gap = b.start - a.end
            if a.paragraph == b.paragraph:
                return " " if gap == 1 else None
            return "\n\n" if gap == 2 else None

        if before is not None and len(before.text) + len(text) <= budget:
            s = sep(before, p)
            if s is not None:
                text = before.text + s + text
        if after is not None and len(after.text) + len(text) <= budget:
            s = sep(p, after)
            if s is not None:
                text = text + s + after.text
        return text

    def _judge(self, question: str) -> Callable[[evidence.Evidence], float]:
        """How strongly a piece of evidence answers ``question`` (support.py's model)."""
        model = support.load_model()
        need = asked.asked_for(question)

        def judge(ev: evidence.Evidence) -> float:
            if not asked.answers(need, question, ev.quote, ev.passage.published):
                return 0.0  # about the subject, without the asked-for thing: never an answer
            return model.support(support.features(ev.dense, ev.coverage, ev.in_context))

        return judge

    # -- generated answers (opt-in) ------------------------------------------------------------
    @property
    def can_generate(self) -> bool:
        """True when a language model is configured (or was given)."""
        return self._chat_model is not None or self.settings.llm.configured

    def chat_model(self) -> Any:
        """The language model for generated answers (GeneratorError when none is configured)."""
        if self._chat_model is None:
            from assistant.answer.generation import chat_model

            self._chat_model = chat_model(self.settings.llm)
        return self._chat_model

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] = (),
        filters: Filters | None = None,
        k: int | None = None,
        show_flagged: bool = False,
        mode: str | None = None,
    ) -> Iterator[str | Answer]:
        """A generated answer: the model's raw text as it arrives, then the verified Answer.

        The raw text is unchecked (show it as a draft); the Answer at the end holds only the
        statements the cited passages support, or the extractive answer as its fallback.
        ``mode="answer"`` keeps an ordinary answer whatever the wording (see ``ask``).
        """
        from assistant.answer.generation import generate

        started = time.perf_counter()
        model = self.chat_model()  # fails before retrieval when nothing is configured
        base = self.ask(question, history, filters, k, mode=mode)
        if base.viewpoints is not None:  # a viewpoints answer is its quotes: nothing to write
            yield base
            return
        for item in generate(
            model, base, self.library.embed, base.resolved_question or base.question, show_flagged
        ):
            if isinstance(item, Answer):
                item.latency_ms = (time.perf_counter() - started) * 1000
            yield item

    def as_retriever(self, k: int = 5, filters: Filters | None = None) -> Any:
        """A LangChain retriever over this library (``Document``s with our metadata)."""
        from assistant.answer.langchain_retriever import AssistantRetriever

        return AssistantRetriever(assistant=self, k=k, filters=filters or Filters())

    def passages(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Passage]:
        """The ``k`` best passages for ``query`` (retrieval only, no answer)."""
        self.library.ensure_lexical()
        return retrieve(
            self.library.stores,
            check_question(query, self.settings.answer.max_question_chars),
            filters,
            n=k,
        ).passages


def _opinion(question: str, passages: Sequence[Passage]) -> set[str]:
    """The opinion pieces among the candidates, when the question asks about a commentary."""
    if not asked.names_commentary(question):
        return set()
    return {p.article_id for p in passages if is_opinion(p)}


def _by_named_author(question: str, passages: Sequence[Passage]) -> set[str]:
    """The candidate articles whose author the question names ("What does Nicole Hemmer say")."""
    return {
        p.article_id
        for p in passages
        if any(re.search(rf"\b{re.escape(n)}\b", question) for n in evidence.names_of(p.author))
    }


def _turn_fields(t: dict[str, Any]) -> dict[str, Any]:
    """A Turn's fields from a dict (a question and answer, or an answer object)."""
    cites = t.get("citations") or []
    return {
        "question": str(t.get("question", "")),
        "answer": str(t.get("answer", "")),
        "articles": tuple(
            c["article_id"] for c in cites if isinstance(c, dict) and "article_id" in c
        ),
        "author": next(
            (c.get("author") for c in cites if isinstance(c, dict) and c.get("author")), None
        ),
        "quotes": tuple(c["quote"] for c in cites if isinstance(c, dict) and "quote" in c),
    }


def turn_from_answer(a: Answer) -> Turn:
    """The Turn to pass as history after ``a``."""
    return Turn(**_turn_fields(a.to_dict()))


def _unmatched_filters(library: Library, filters: Filters | None) -> str | None:
    """The refusal to give when the filters admit no article at all (else the answer would
    read as if the corpus had nothing on the question); None when some article passes."""
    if filters is None or library.stores.allowed_articles(filters) != []:
        return None
    given = {"outlet": filters.outlet, "author": filters.author, "since": filters.since,
             "until": filters.until}  # fmt: skip
    named = ", ".join(f"{k} {v!r}" for k, v in given.items() if v)
    return (
        f"No article in the corpus matches the filters ({named}), so there is nothing to answer "
        "from. Widen or clear the filters (assistant list shows the outlets, authors and dates)."
    )


def check_question(question: str, limit: int) -> str:
    """The question as it is searched with (whitespace collapsed); InputError when it is empty
    or longer than ``limit`` characters."""
    if isinstance(question, str):
        question = safe_text(question)  # invalid bytes, lone surrogates, control characters
    if not isinstance(question, str) or not question.strip():
        raise InputError(
            'The question is empty: type a question, e.g. "What has Russia offered in return?"'
        )
    q = " ".join(question.split())
    if len(q) > limit:
        raise InputError(
            f"The question is too long ({len(q):,} characters; the limit is {limit:,}). Shorten it."
        )
    return q
