"""Meeting-room booking calendar of the office app.

Bookings are half-open intervals [start, end): a meeting from 10:00 to 11:00 and one from
11:00 to 12:00 in the same room do not conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class BookingConflict(Exception):
    def __init__(self, booking_id: int) -> None:
        super().__init__(f"conflicts with booking {booking_id}")
        self.booking_id = booking_id


@dataclass(frozen=True)
class Booking:
    id: int
    room: str
    start: datetime
    end: datetime
    owner: str


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """True when the half-open intervals [a_start, a_end) and [b_start, b_end) intersect."""
    return a_start < b_end and b_start < a_end


class Calendar:
    def __init__(self, rooms: list[str]) -> None:
        self._by_room: dict[str, list[Booking]] = {room: [] for room in rooms}
        self._next_id = 1

    def bookings(self, room: str) -> list[Booking]:
        """Bookings of a room in chronological order."""
        return sorted(self._by_room[room], key=lambda b: b.start)

    def _check_free(self, bookings: list[Booking], start: datetime, end: datetime) -> None:
        if end <= start:
            raise ValueError("a booking must end after it starts")
        for existing in bookings:
            if overlaps(start, end, existing.start, existing.end):
                raise BookingConflict(existing.id)

    def _find(self, booking_id: int) -> Booking:
        for bookings in self._by_room.values():
            for booking in bookings:
                if booking.id == booking_id:
                    return booking
        raise KeyError(booking_id)

    def book(self, room: str, start: datetime, end: datetime, owner: str) -> Booking:
        bookings = self._by_room[room]
        self._check_free(bookings, start, end)
        booking = Booking(self._next_id, room, start, end, owner)
        self._next_id += 1
        bookings.append(booking)
        return booking

    def reschedule(self, booking_id: int, start: datetime, end: datetime) -> Booking:
        """Move a booking to a new time in the same room, keeping its id and owner."""
        booking = self._find(booking_id)
        bookings = self._by_room[booking.room]
        self._check_free([b for b in bookings if b.id != booking_id], start, end)
        moved = replace(booking, start=start, end=end)
        bookings[bookings.index(booking)] = moved
        return moved

    def cancel(self, booking_id: int, owner: str) -> Booking:
        booking = self._find(booking_id)
        if booking.owner != owner:
            raise PermissionError("only the owner can cancel a booking")
        self._by_room[booking.room].remove(booking)
        return booking

    def free_slots(
        self, room: str, day_start: datetime, day_end: datetime, min_length: timedelta = timedelta(0)
    ) -> list[tuple[datetime, datetime]]:
        """Free intervals of the room within [day_start, day_end), in chronological order,
        keeping only those at least `min_length` long."""
        slots = []
        cursor = day_start
        for booking in self.bookings(room):
            if not overlaps(booking.start, booking.end, day_start, day_end):
                continue
            if booking.start > cursor:
                slots.append((cursor, booking.start))
            cursor = max(cursor, booking.end)
        if cursor < day_end:
            slots.append((cursor, day_end))
        return [(a, b) for a, b in slots if b - a >= min_length]
