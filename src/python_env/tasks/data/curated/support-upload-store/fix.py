"""Stores attachments uploaded through the support portal.

Each ticket has its own upload directory. The web layer passes the file name exactly as the
browser sent it, together with the file content.
"""

import hashlib
import os
import tempfile

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ALLOWED_SUFFIXES = {".png", ".jpg", ".jpeg", ".pdf", ".txt", ".log"}


class UploadError(ValueError):
    """The upload was refused; the message is shown to the user."""


class UploadStore:
    """Attachment storage rooted at one directory."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)

    def _path(self, filename):
        path = os.path.realpath(os.path.join(self.root, filename))
        if os.path.dirname(path) != os.path.realpath(self.root):
            raise UploadError(f"invalid file name: {filename!r}")
        return path

    def save(self, filename, data):
        """Store ``data`` under ``filename``; return its SHA-256 hex digest."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise UploadError("file is larger than 5 MiB")
        suffix = os.path.splitext(filename)[1].lower()
        if suffix not in ALLOWED_SUFFIXES:
            raise UploadError(f"file type {suffix or '(none)'} is not allowed")
        target = self._path(filename)
        fd, staging = tempfile.mkstemp(suffix=".part", dir=self.root)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(staging, target)
        return hashlib.sha256(data).hexdigest()

    def read(self, filename):
        with open(self._path(filename), "rb") as fh:
            return fh.read()

    def delete(self, filename):
        os.remove(self._path(filename))

    def names(self):
        """Stored file names, sorted; unfinished ``.part`` files are skipped."""
        return sorted(n for n in os.listdir(self.root) if not n.endswith(".part"))
