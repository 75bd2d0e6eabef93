import hashlib
import os
import tempfile

from solution import UploadError, UploadStore


def test_save_and_read():
    with tempfile.TemporaryDirectory() as tmp:
        store = UploadStore(os.path.join(tmp, "ticket-17"))
        digest = store.save("screenshot.png", b"\x89PNG...")
        assert digest == hashlib.sha256(b"\x89PNG...").hexdigest()
        assert store.read("screenshot.png") == b"\x89PNG..."
        assert store.names() == ["screenshot.png"]


def test_disallowed_type():
    with tempfile.TemporaryDirectory() as tmp:
        store = UploadStore(tmp)
        try:
            store.save("invoice.exe", b"MZ")
        except UploadError:
            return
        raise AssertionError("an .exe upload was accepted")


def test_name_cannot_leave_upload_dir():
    with tempfile.TemporaryDirectory() as tmp:
        store = UploadStore(os.path.join(tmp, "ticket-17"))
        try:
            store.save("../escaped.txt", b"hello")
        except UploadError:
            pass
        assert not os.path.exists(os.path.join(tmp, "escaped.txt"))
