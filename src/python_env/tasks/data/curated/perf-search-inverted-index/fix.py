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
        self._index: dict[str, set[str]] = {}
        self._position: dict[str, int] = {}
        self._next_position = 0

    def add(self, doc_id: str, text: str) -> None:
        """Add a document, or replace the text of an existing one (it keeps its position)."""
        if doc_id in self._docs:
            self._unindex(doc_id)
        else:
            self._position[doc_id] = self._next_position
            self._next_position += 1
        self._docs[doc_id] = text
        for term in set(tokenize(text)):
            self._index.setdefault(term, set()).add(doc_id)

    def remove(self, doc_id: str) -> None:
        """Delete a document; raises KeyError for an unknown id."""
        self._unindex(doc_id)
        del self._docs[doc_id]
        del self._position[doc_id]

    def _unindex(self, doc_id: str) -> None:
        for term in set(tokenize(self._docs[doc_id])):
            ids = self._index[term]
            ids.discard(doc_id)
            if not ids:
                del self._index[term]

    def __len__(self) -> int:
        return len(self._docs)

    def search(self, query: str) -> list[str]:
        """Ids of the documents containing every word of ``query``, in the order they were added.

        A query without any word matches nothing.
        """
        terms = set(tokenize(query))
        if not terms:
            return []
        postings = [self._index.get(term, set()) for term in terms]
        hits = set.intersection(*postings)
        return sorted(hits, key=self._position.__getitem__)
