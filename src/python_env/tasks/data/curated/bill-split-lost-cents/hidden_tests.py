from solution import format_cents, split_bill, split_evenly, to_cents


def test_remainder_goes_to_first_diners():
    return split_evenly(1002, 4)


def test_more_people_than_cents():
    return split_evenly(2, 5)


def test_divisible_total():
    return split_evenly(1200, 4)


def test_single_person_pays_all():
    return split_evenly(1999, 1)


def test_sum_is_preserved():
    return [sum(split_evenly(total, n)) for total, n in [(1001, 3), (7, 2), (99999, 7), (10, 10)]]


def test_bill_with_tip():
    return split_bill("57.10", ["dee", "eli", "fay"], tip_percent=15)


def test_parsing_and_formatting():
    return [to_cents("12.5"), to_cents(" 3 "), to_cents("0.07"), format_cents(1205), format_cents(7)]


def test_no_diners_rejected():
    try:
        split_evenly(100, 0)
    except ValueError:
        return "ValueError"
    return "no error"


def test_bad_amount_rejected():
    try:
        to_cents("12,50")
    except ValueError:
        return "ValueError"
    return "no error"
