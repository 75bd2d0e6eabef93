import os
import tempfile

from solution import UploadError, UploadStore


def _attempt(action):
    try:
        result = action()
    except UploadError:
        return "rejected"
    except OSError as exc:
        return type(exc).__name__
    return ["accepted", result]


def test_round_trip_and_overwrite():
    with tempfile.TemporaryDirectory() as tmp:
        store = UploadStore(os.path.join(tmp, "t1"))
        first = store.save("notes.txt", b"v1")
        second = store.save("notes.txt", b"version two")
        store.save("Trace.LOG", b"...")
        return [first, second, store.read("notes.txt"), store.names()]


def test_dotdot_upload_rejected():
    with tempfile.TemporaryDirectory() as tmp:
        store = UploadStore(os.path.join(tmp, "t1", "uploads"))
        outcome = _attempt(lambda: store.save("../../evil.txt", b"owned"))
        return [outcome, os.path.exists(os.path.join(tmp, "evil.txt")), store.names()]


def test_absolute_name_rejected():
    with tempfile.TemporaryDirectory() as tmp:
        store = UploadStore(os.path.join(tmp, "t1"))
        target = os.path.join(tmp, "cron.txt")
        outcome = _attempt(lambda: store.save(target, b"* * * * * sh"))
        return [outcome, os.path.exists(target)]


def test_read_outside_rejected():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "secret.txt"), "wb") as fh:
            fh.write(b"db-password")
        store = UploadStore(os.path.join(tmp, "t1"))
        return _attempt(lambda: store.read("../secret.txt"))


def test_delete_outside_rejected():
    with tempfile.TemporaryDirectory() as tmp:
        victim = os.path.join(tmp, "keep.txt")
        with open(victim, "wb") as fh:
            fh.write(b"x")
        store = UploadStore(os.path.join(tmp, "t1"))
        return [_attempt(lambda: store.delete("../keep.txt")), os.path.exists(victim)]


def test_size_and_type_limits():
    with tempfile.TemporaryDirectory() as tmp:
        store = UploadStore(tmp)
        return [
            _attempt(lambda: store.save("big.pdf", b"0" * (5 * 1024 * 1024 + 1))),
            _attempt(lambda: store.save("README", b"no suffix")),
            _attempt(lambda: store.save("photo.JPEG", b"jpg")),
            store.names(),
        ]
