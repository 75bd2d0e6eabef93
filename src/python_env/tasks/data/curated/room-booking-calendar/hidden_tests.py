from datetime import datetime, timedelta

from solution import BookingConflict, Calendar, overlaps


def at(hour, minute=0):
    return datetime(2024, 6, 3, hour, minute)


def _slots(slots):
    return [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in slots]


def _outcome(action):
    try:
        booking = action()
    except BookingConflict as exc:
        return ["BookingConflict", exc.booking_id]
    except (KeyError, ValueError, PermissionError) as exc:
        return [type(exc).__name__]
    return [booking.id, booking.room, booking.start.strftime("%H:%M"), booking.end.strftime("%H:%M"), booking.owner]


def test_overlap_predicate():
    pairs = [
        (at(9), at(10), at(10), at(11)),
        (at(10), at(11), at(9), at(10)),
        (at(9), at(10, 30), at(10), at(11)),
        (at(9), at(12), at(10), at(11)),
        (at(9), at(10), at(11), at(12)),
    ]
    return [overlaps(*p) for p in pairs]


def test_back_to_back_chain():
    cal = Calendar(["orion"])
    results = [_outcome(lambda h=h: cal.book("orion", at(h), at(h + 1), f"user{h}")) for h in (9, 10, 11)]
    return results


def test_conflict_names_existing_booking():
    cal = Calendar(["orion", "vega"])
    cal.book("vega", at(9), at(12), "ann")
    target = cal.book("orion", at(9), at(12), "ann")
    return [_outcome(lambda: cal.book("orion", at(11), at(13), "bob")), target.id]


def test_reschedule_shift_by_half_hour():
    cal = Calendar(["orion"])
    meeting = cal.book("orion", at(10), at(11), "cai")
    cal.book("orion", at(14), at(15), "dan")
    moved = _outcome(lambda: cal.reschedule(meeting.id, at(10, 30), at(11, 30)))
    return [moved, [b.id for b in cal.bookings("orion")]]


def test_reschedule_into_other_meeting():
    cal = Calendar(["orion"])
    first = cal.book("orion", at(9), at(10), "eve")
    second = cal.book("orion", at(12), at(13), "fay")
    result = _outcome(lambda: cal.reschedule(first.id, at(12, 30), at(13, 30)))
    kept = _outcome(lambda: cal.bookings("orion")[0])
    return [result, kept, second.id]


def test_free_slots_with_unordered_bookings():
    cal = Calendar(["orion"])
    cal.book("orion", at(15), at(16), "gus")
    cal.book("orion", at(9), at(10), "hal")
    cal.book("orion", at(12), at(13), "ida")
    return _slots(cal.free_slots("orion", at(8), at(18)))


def test_free_slots_in_order_with_min_length():
    cal = Calendar(["orion"])
    cal.book("orion", at(7), at(9), "jo")
    cal.book("orion", at(9, 30), at(11), "ken")
    cal.book("orion", at(11, 15), at(12), "lin")
    return _slots(cal.free_slots("orion", at(8), at(13), min_length=timedelta(minutes=30)))


def test_cancel_rules():
    cal = Calendar(["orion"])
    booking = cal.book("orion", at(9), at(10), "max")
    denied = _outcome(lambda: cal.cancel(booking.id, "ned"))
    done = _outcome(lambda: cal.cancel(booking.id, "max"))
    again = _outcome(lambda: cal.cancel(booking.id, "max"))
    return [denied, done, again, len(cal.bookings("orion"))]


def test_invalid_requests():
    cal = Calendar(["orion"])
    return [
        _outcome(lambda: cal.book("orion", at(10), at(10), "oz")),
        _outcome(lambda: cal.book("orion", at(11), at(10), "oz")),
        _outcome(lambda: cal.book("lyra", at(9), at(10), "oz")),
    ]
