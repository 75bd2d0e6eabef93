"""In-memory full-text search for the help-center articles."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (runs of letters and digits) of ``text``."""
    return _WORD.findall(text.lower())


class DocumentStore:
    """Documents by id; ``search`` finds the ones that contain every word of a query."""

    def __init__(self) -> None:
        self._docs: dict[str, str] = {}

    def add(self, doc_id: str, text: str) -> None:
        """Add a document, or replace the text of an existing one (it keeps its position)."""
        self._docs[doc_id] = text

    def remove(self, doc_id: str) -> None:
        """Delete a document; raises KeyError for an unknown id."""
        del self._docs[doc_id]

    def __len__(self) -> int:
        return len(self._docs)

    def search(self, query: str) -> list[str]:
        """Ids of the documents containing every word of ``query``, in the order they were added.

        A query without any word matches nothing.
        """
        terms = tokenize(query)
        if not terms:
            return []
        hits = []
        for doc_id, text in self._docs.items():
            words = tokenize(text)
            if all(term in words for term in terms):
                hits.append(doc_id)
        return hits
