import random

from solution import moving_average, spikes


def benchmark():
    rng = random.Random(1234)
    counts = [int(rng.random() * 400) for _ in range(1500)]
    averages = moving_average(counts, 30)
    found = spikes(counts[:300], 15)
    return [len(averages), round(sum(averages), 6), round(max(averages), 6), found]
