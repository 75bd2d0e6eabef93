from datetime import datetime

from solution import BookingConflict, Calendar


def at(hour, minute=0):
    return datetime(2024, 6, 3, hour, minute)


def test_overlapping_booking_is_refused():
    cal = Calendar(["atlas"])
    first = cal.book("atlas", at(10), at(11), "kim")
    try:
        cal.book("atlas", at(10, 30), at(11, 30), "lou")
    except BookingConflict as exc:
        assert exc.booking_id == first.id
    else:
        raise AssertionError("double booking accepted")


def test_back_to_back_meetings():
    cal = Calendar(["atlas"])
    cal.book("atlas", at(10), at(11), "kim")
    cal.book("atlas", at(11), at(12), "lou")
    assert [b.owner for b in cal.bookings("atlas")] == ["kim", "lou"]


def test_free_slots_of_a_day():
    cal = Calendar(["atlas"])
    cal.book("atlas", at(9), at(10), "kim")
    cal.book("atlas", at(13), at(14), "lou")
    assert cal.free_slots("atlas", at(8), at(18)) == [(at(8), at(9)), (at(10), at(13)), (at(14), at(18))]
