"""Rotates an application log and ships the compressed generations to the archive host.

Run hourly from cron. ``app.log`` becomes ``app.log.1.gz``; older generations move up by one
(``app.log.1.gz`` -> ``app.log.2.gz`` ...) and generations past ``keep`` are deleted. The new
generation is uploaded to the central archive with rsync; a failed upload is logged and the
file is picked up again by the next nightly sweep.
"""

import logging
import os
import re
import subprocess

ARCHIVE_TARGET = "rsync://logship@logs.internal.example.com/app-logs/"
ARCHIVE_PASSWORD = os.environ.get("LOGSHIP_RSYNC_PASSWORD", "")
KEEP_GENERATIONS = 14

log = logging.getLogger(__name__)


def generations(log_dir, base):
    """Rotated generations of ``base`` as (number, file name) pairs, oldest first."""
    pattern = re.compile(re.escape(base) + r"\.(\d+)\.gz$")
    found = []
    for name in os.listdir(log_dir):
        match = pattern.match(name)
        if match:
            found.append((int(match.group(1)), name))
    return sorted(found, reverse=True)


def ship(path, run=subprocess.run):
    """Upload ``path`` to the archive; return True on success."""
    env = dict(os.environ, RSYNC_PASSWORD=ARCHIVE_PASSWORD)
    try:
        run(["rsync", "--times", path, ARCHIVE_TARGET], env=env, check=True)
    except (OSError, subprocess.CalledProcessError):
        log.warning("upload of %s failed; the nightly sweep will retry", path, exc_info=True)
        return False
    return True


def rotate(log_dir, base="app.log", keep=KEEP_GENERATIONS, run=subprocess.run):
    """Rotate ``base`` once; return the deleted file names and whether the upload worked."""
    current = os.path.join(log_dir, base)
    if not os.path.exists(current):
        return {"deleted": [], "shipped": False}
    deleted = []
    for number, name in generations(log_dir, base):
        if int(number) >= keep:
            os.remove(os.path.join(log_dir, name))
            deleted.append(name)
        else:
            newer = os.path.join(log_dir, f"{base}.{int(number) + 1}.gz")
            os.replace(os.path.join(log_dir, name), newer)
    first = f"{current}.1"
    os.replace(current, first)
    run(["gzip", "-f", first], check=True)
    with open(current, "a", encoding="utf-8"):
        pass  # the application keeps appending to a fresh, empty file
    return {"deleted": deleted, "shipped": ship(f"{first}.gz", run=run)}
