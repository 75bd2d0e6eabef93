from solution import moving_average, spikes


def test_window_longer_than_series():
    return moving_average([3, 1, 4, 1, 5], 10)


def test_window_three_mixed_counts():
    return moving_average([0, 9, 2, 7, 7, 0, 0, 12, 1], 3)


def test_empty_and_single():
    return [moving_average([], 4), moving_average([7], 4), spikes([], 3), spikes([5], 3)]


def test_invalid_window():
    out = []
    for window in (0, -2):
        try:
            moving_average([1, 2, 3], window)
            out.append("no error")
        except ValueError as exc:
            out.append(str(exc))
    return out


def test_non_integral_averages():
    return moving_average([1, 2, 2, 10, 3, 3, 3], 4)


def test_spikes_with_factor_and_zero_history():
    counts = [0, 0, 5, 5, 5, 40, 6, 6, 100]
    return [spikes(counts, 2), spikes(counts, 4, factor=3.0), spikes(counts, 1, factor=1.0)]
