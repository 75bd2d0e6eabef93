from solution import LRUCache


def test_fill_without_eviction():
    cache = LRUCache(3)
    for key in "xyz":
        cache.put(key, key.upper())
    return [cache.keys(), [cache.get(k) for k in "xyz"], cache.stats()]


def test_recency_after_reads():
    cache = LRUCache(3)
    for i, key in enumerate("abc"):
        cache.put(key, i)
    cache.get("a")
    cache.get("b")
    cache.put("d", 3)
    return [cache.keys(), cache.get("c", "gone"), cache.stats()]


def test_overwrite_in_full_cache():
    cache = LRUCache(3)
    for i, key in enumerate("abc"):
        cache.put(key, i)
    cache.put("a", 100)
    cache.put("d", 4)
    return [cache.keys(), cache.get("a"), cache.stats()["evictions"]]


def test_get_or_load_counts_loader_calls():
    calls = []

    def loader(key):
        calls.append(key)
        return key * 2

    cache = LRUCache(2)
    values = [cache.get_or_load(k, loader) for k in ["p", "q", "p", "r", "p", "q"]]
    return [values, calls, cache.keys()]


def test_falsy_values_are_cached():
    cache = LRUCache(2)
    calls = []
    for _ in range(3):
        cache.get_or_load("empty", lambda k: calls.append(k) or 0)
    return [len(calls), cache.get("empty"), cache.stats()]


def test_eviction_order_without_reads():
    cache = LRUCache(2)
    for i in range(5):
        cache.put(i, i * i)
    return [cache.keys(), len(cache), cache.stats()]


def test_invalidate():
    cache = LRUCache(2)
    cache.put("k", 1)
    return [cache.invalidate("k"), cache.invalidate("k"), len(cache)]


def test_capacity_one():
    cache = LRUCache(1)
    cache.put("a", 1)
    cache.put("a", 2)
    cache.get("a")
    cache.put("b", 3)
    return [cache.keys(), cache.stats()]


def test_bad_capacity():
    try:
        LRUCache(0)
    except ValueError:
        return "ValueError"
    return "no error"
