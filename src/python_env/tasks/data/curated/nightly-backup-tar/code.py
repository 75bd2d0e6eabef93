"""Nightly backup job: archives a data directory with tar and prunes old archives.

Invoked from cron as ``python backup.py <source_dir> <dest_dir> <label>``.
"""

import datetime as dt
import subprocess
import sys
from pathlib import Path

ARCHIVE_PREFIX = "backup-"
KEEP_LAST = 7


def archive_name(label, when):
    """File name of the archive taken for ``label`` at ``when``."""
    return f"{ARCHIVE_PREFIX}{label}-{when:%Y%m%d-%H%M%S}.tar.gz"


def create_backup(source_dir, dest_dir, label, when, run=subprocess.run):
    """Archive ``source_dir`` into ``dest_dir``; return the archive path."""
    dest = Path(dest_dir) / archive_name(label, when)
    command = f"tar -czf {dest} -C {source_dir} ."
    run(command, shell=True, check=True)
    return dest


def list_backups(dest_dir, label):
    """Archives of ``label``, oldest first (the timestamp in the name sorts correctly)."""
    prefix = f"{ARCHIVE_PREFIX}{label}-"
    names = (p for p in Path(dest_dir).iterdir() if p.is_file())
    return sorted(p for p in names if p.name.startswith(prefix) and p.name.endswith(".tar.gz"))


def prune_backups(dest_dir, label, keep=KEEP_LAST):
    """Delete all but the newest ``keep`` archives; return the deleted file names."""
    archives = list_backups(dest_dir, label)
    doomed = archives[:-keep] if keep > 0 else archives
    for path in doomed:
        path.unlink()
    return [path.name for path in doomed]


def main(argv):
    source_dir, dest_dir, label = argv
    archive = create_backup(source_dir, dest_dir, label, dt.datetime.now())
    removed = prune_backups(dest_dir, label)
    print(f"wrote {archive.name}, pruned {len(removed)} old archive(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
