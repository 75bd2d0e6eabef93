"""Small in-process LRU cache for rendered product cards.

The cache keeps at most `capacity` entries; when a new key has to be stored in a full cache,
the entry that was used least recently (read or written) is evicted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_MISSING = object()


class LRUCache:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def keys(self) -> list[Hashable]:
        """Keys from least to most recently used."""
        return list(self._data)

    def get(self, key: Hashable, default: Any = None) -> Any:
        if key in self._data:
            self.hits += 1
            self._data.move_to_end(key)
            return self._data[key]
        self.misses += 1
        return default

    def put(self, key: Hashable, value: Any) -> None:
        if key in self._data:
            self._data.move_to_end(key)
        elif len(self._data) >= self.capacity:
            self._data.popitem(last=False)
            self.evictions += 1
        self._data[key] = value

    def get_or_load(self, key: Hashable, loader: Callable[[Hashable], Any]) -> Any:
        """Cached value for key, calling loader(key) and caching its result on a miss."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = loader(key)
            self.put(key, value)
        return value

    def invalidate(self, key: Hashable) -> bool:
        return self._data.pop(key, _MISSING) is not _MISSING

    def stats(self) -> dict[str, int]:
        return {"size": len(self._data), "hits": self.hits, "misses": self.misses, "evictions": self.evictions}
