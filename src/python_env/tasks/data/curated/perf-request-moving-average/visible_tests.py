from solution import moving_average, spikes


def test_short_history_at_start():
    assert moving_average([2, 4, 6, 8], 2) == [2.0, 3.0, 5.0, 7.0]


def test_window_of_one_is_identity():
    assert moving_average([5, 0, 3], 1) == [5.0, 0.0, 3.0]


def test_spikes_found():
    assert spikes([10, 10, 10, 50, 10], 3) == [3]
