from solution import CHUNK_SIZE, file_digest, find_duplicates, wasted_bytes


def test_three_copies_and_group_order():
    files = [
        ("z/1", b"same"),
        ("m/2", b"other"),
        ("a/3", b"same"),
        ("k/4", b"same"),
        ("b/5", b"other"),
        ("c/6", b"solo"),
    ]
    return [find_duplicates(files), wasted_bytes(files)]


def test_empty_files_ignored():
    files = [("e1", b""), ("e2", b""), ("x", b"x"), ("y", b"x")]
    return [find_duplicates(files), wasted_bytes(files), find_duplicates([]), wasted_bytes([])]


def test_same_size_different_content():
    files = [("p", b"abcd"), ("q", b"abce"), ("r", b"dcba"), ("s", b"abcd")]
    return [find_duplicates(files), wasted_bytes(files)]


def test_no_duplicates():
    files = [(f"f{i}", bytes([i]) * (i + 1)) for i in range(6)]
    return [find_duplicates(files), wasted_bytes(files)]


def test_large_multi_chunk_content():
    big = bytes(range(256)) * (CHUNK_SIZE // 128 + 3)
    files = [("big1", big), ("big2", big[:-1] + b"\x00"), ("big3", bytes(big))]
    return [find_duplicates(files), wasted_bytes(files), file_digest(big)[:16]]


def test_wasted_bytes_keeps_first_path_by_name():
    files = [("b", b"12345"), ("a", b"12345"), ("c", b"123"), ("d", b"123"), ("e", b"123")]
    return [find_duplicates(files), wasted_bytes(files)]


def test_digest_values():
    return [file_digest(b""), file_digest(b"hello")]
