"""The Python API: ``Assistant`` asks, adds and removes; everything else builds on it.

>>> from assistant.api import Assistant                             # doctest: +SKIP
>>> a = Assistant(Settings.from_env())                                # doctest: +SKIP
>>> a.ask("What has Russia offered in return?").citations[0].author  # doctest: +SKIP
'Stefan Wolff'
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from assistant.answer import viewpoints
from assistant.answer.pipeline import Answering
from assistant.answer.reading import read
from assistant.answer.retrieval import retrieve
from assistant.errors import InputError
from assistant.index.sync import AddResult, Library, ProgressFactory
from assistant.ingest.cleaning import safe_text
from assistant.ingest.sources import Failure, RawDoc
from assistant.settings import Settings
from assistant.types import Answer, Filters, Passage, Turn


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
        self.answering = Answering(self.library)
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
        as_of: str | None = None,
    ) -> Answer:
        """The cited answer to ``question`` (or a refusal), given the conversation so far.

        ``generate=True``: a language model writes the answer and only verified statements
        stay (``show_flagged`` keeps the others, marked); see ``ask_stream``. ``mode``
        ("viewpoints", "timeline", "answer") and ``by`` ("article", "author", "outlet") ask for
        one entry per article (viewpoints.py); by default the question's wording decides.
        ``as_of`` (YYYY-MM-DD): the day the question is asked on; articles published after it
        are not used (also ``filters.as_of``).
        """
        vp = viewpoints.mode_for(question if isinstance(question, str) else "", mode, by)
        if generate and vp is None:
            *_, last = self.ask_stream(question, history, filters, k, show_flagged, mode, as_of)
            assert isinstance(last, Answer)
            return last
        started = time.perf_counter()
        question = check_question(question, self.settings.answer.max_question_chars)
        k = self.settings.answer.k if k is None else k
        if k < 1 or k > 50:
            raise InputError(f"-k must be between 1 and 50 (got {k}).")
        if as_of is not None:
            filters = replace(filters or Filters(), as_of=Filters.parse(as_of=as_of).as_of)
        turns = [t if isinstance(t, Turn) else Turn(**_turn_fields(t)) for t in history]
        reading = read(question, turns, filters.as_of if filters else None)
        result = self.answering.answer(reading, filters, k, vp, by)
        result.resolved_question = reading.query
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

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
        as_of: str | None = None,
    ) -> Iterator[str | Answer]:
        """A generated answer: the model's raw text as it arrives, then the verified Answer.

        The raw text is unchecked (show it as a draft); the Answer at the end holds only the
        statements the cited passages support, or the extractive answer as its fallback.
        ``mode="answer"`` keeps an ordinary answer whatever the wording (see ``ask``).
        """
        from assistant.answer.generation import generate

        started = time.perf_counter()
        model = self.chat_model()  # fails before retrieval when nothing is configured
        base = self.ask(question, history, filters, k, mode=mode, as_of=as_of)
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
