import random

from solution import DocumentStore


def benchmark():
    rng = random.Random(1234)
    vocabulary = [f"w{i}" for i in range(60)]
    store = DocumentStore()
    for n in range(250):
        words = [vocabulary[int(rng.random() * 60)] for _ in range(8)]
        store.add(f"doc-{n}", " ".join(words))
    store.add("doc-7", "w1 w2 w3")
    store.remove("doc-11")
    total = 0
    first = []
    for q in range(70):
        hits = store.search(f"{vocabulary[q % 60]} {vocabulary[(q * 7) % 60]}")
        total += len(hits)
        first.append(hits[:2])
    return [total, first, store.search("w0"), len(store)]
