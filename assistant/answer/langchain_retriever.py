"""Our retrieval as a LangChain retriever, for users who build their own chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.types import Filters


class AssistantRetriever(BaseRetriever):
    """Hybrid-retrieved passages as ``Document``s whose metadata carries the citation fields."""

    assistant: Any
    k: int = 5
    filters: Filters = Filters()

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=p.text,
                id=p.chunk_id,
                metadata={
                    "article_id": p.article_id,
                    "paragraph": p.paragraph,
                    "title": p.title,
                    "author": p.author,
                    "outlet": p.outlet,
                    "published": p.published,
                    "url": p.url,
                    "start": p.start,
                    "end": p.end,
                    "score": p.score,
                },
            )
            for p in self.assistant.passages(query, k=self.k, filters=self.filters)
        ]
