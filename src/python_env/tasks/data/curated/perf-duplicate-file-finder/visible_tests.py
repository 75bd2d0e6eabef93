from solution import file_digest, find_duplicates, wasted_bytes

FILES = [
    ("photos/a.jpg", b"JPEG-1"),
    ("backup/a.jpg", b"JPEG-1"),
    ("notes.txt", b"hello"),
    ("copy of notes.txt", b"hello"),
    ("unique.bin", b"\x00\x01"),
]


def test_groups_are_sorted():
    assert find_duplicates(FILES) == [["backup/a.jpg", "photos/a.jpg"], ["copy of notes.txt", "notes.txt"]]


def test_wasted_bytes():
    assert wasted_bytes(FILES) == len(b"JPEG-1") + len(b"hello")


def test_digest_is_sha256():
    assert file_digest(b"abc").startswith("ba7816bf")
