"""Smooth per-minute request counts for the traffic dashboard."""

from __future__ import annotations


def moving_average(counts: list[int], window: int) -> list[float]:
    """Trailing mean of ``counts`` over the last ``window`` minutes, one value per minute.

    The first minutes average over the shorter history that exists so far.
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    averages = []
    total = 0
    for i, count in enumerate(counts):
        total += count
        if i >= window:
            total -= counts[i - window]
        averages.append(total / min(i + 1, window))
    return averages


def spikes(counts: list[int], window: int, factor: float = 2.0) -> list[int]:
    """Minutes whose count exceeds ``factor`` times the trailing average of the minutes before."""
    averages = moving_average(counts, window)
    return [
        minute
        for minute in range(1, len(counts))
        if counts[minute] > factor * averages[minute - 1]
    ]
