"""Security helper templates: one small utility function in a safe and an unsafe variant.

Each is tied to a bandit test id through its ruff ``S`` port (``S602`` is bandit's ``B602``).
The unsafe variant differs from the safe one only on the lines the answer key points at.
"""

from __future__ import annotations

import random
import string
import textwrap
from dataclasses import dataclass

from python_env.types import Severity


@dataclass(frozen=True)
class Template:
    """A helper function with a safe and an unsafe body; ``$fn``/``$arg`` vary per task."""

    name: str
    rule_id: str  # ruff code (bandit id: B + the digits)
    severity: Severity
    names: tuple[tuple[str, str], ...]  # (function name, argument name) choices
    safe: str
    unsafe: str
    explanation: str

    def render(self, rng: random.Random) -> tuple[str, str, str]:
        fn, arg = rng.choice(self.names)
        subs = {"fn": fn, "arg": arg}
        return (
            fn,
            textwrap.dedent(string.Template(self.safe).substitute(subs)).strip() + "\n",
            textwrap.dedent(string.Template(self.unsafe).substitute(subs)).strip() + "\n",
        )


TEMPLATES: tuple[Template, ...] = tuple(
    Template(name=n, rule_id=r, severity=s, names=names, safe=a, unsafe=b, explanation=e)
    for n, r, s, names, a, b, e in (
        (
            "sec_shell_true",
            "S602",
            Severity.CRITICAL,
            (
                ("compress_export", "path"),
                ("archive_report", "filename"),
                ("pack_results", "target"),
            ),
            '''
         def $fn($arg):
             """Compress an exported file with gzip, keeping the original."""
             import subprocess

             return subprocess.run(["gzip", "-k", $arg], check=True)
         ''',
            '''
         def $fn($arg):
             """Compress an exported file with gzip, keeping the original."""
             import subprocess

             return subprocess.run(f"gzip -k {$arg}", shell=True, check=True)
         ''',
            "Command injection: the file name is interpolated into a shell command run with "
            "`shell=True`; pass an argument list without a shell.",
        ),
        (
            "sec_os_system",
            "S605",
            Severity.CRITICAL,
            (("count_lines", "path"), ("line_total", "filename")),
            '''
         def $fn($arg):
             """Count the lines of a data file with wc."""
             import subprocess

             return subprocess.run(["wc", "-l", $arg], check=True, capture_output=True).stdout
         ''',
            '''
         def $fn($arg):
             """Count the lines of a data file with wc."""
             import os

             return os.system(f"wc -l {$arg}")
         ''',
            "Command injection: `os.system` runs the interpolated file name through a shell; "
            "use subprocess with an argument list.",
        ),
        (
            "sec_eval",
            "S307",
            Severity.HIGH,
            (("parse_setting", "text"), ("read_literal", "raw"), ("load_option", "value")),
            '''
         def $fn($arg):
             """Turn a setting written as a Python literal ("[1, 2]", "{'a': 1}") into a value."""
             import ast

             return ast.literal_eval($arg)
         ''',
            '''
         def $fn($arg):
             """Turn a setting written as a Python literal ("[1, 2]", "{'a': 1}") into a value."""
             return eval($arg)
         ''',
            "`eval` on external text executes arbitrary code; use `ast.literal_eval`.",
        ),
        (
            "sec_yaml_load",
            "S506",
            Severity.HIGH,
            (("load_settings", "path"), ("read_config", "config_path")),
            '''
         def $fn($arg):
             """Read the job settings from a YAML file."""
             import yaml

             with open($arg, encoding="utf-8") as handle:
                 return yaml.safe_load(handle)
         ''',
            '''
         def $fn($arg):
             """Read the job settings from a YAML file."""
             import yaml

             with open($arg, encoding="utf-8") as handle:
                 return yaml.load(handle, Loader=yaml.Loader)
         ''',
            "`yaml.load` with the full Loader can build arbitrary Python objects from the file; "
            "use `yaml.safe_load`.",
        ),
        (
            "sec_pickle",
            "S301",
            Severity.HIGH,
            (("restore_cache", "blob"), ("decode_message", "payload")),
            '''
         def $fn($arg):
             """Restore cached results received from the worker queue."""
             import json

             return json.loads($arg)
         ''',
            '''
         def $fn($arg):
             """Restore cached results received from the worker queue."""
             import pickle

             return pickle.loads($arg)
         ''',
            "Unpickling data from the queue runs arbitrary code if an attacker controls it; "
            "use a data-only format such as JSON.",
        ),
        (
            "sec_sql_format",
            "S608",
            Severity.CRITICAL,
            (("find_record", "name"), ("lookup_entry", "key"), ("fetch_row", "label")),
            '''
         def $fn(conn, $arg):
             """Look up the stored result for one entry."""
             cur = conn.execute("SELECT * FROM results WHERE name = ?", ($arg,))
             return cur.fetchone()
         ''',
            '''
         def $fn(conn, $arg):
             """Look up the stored result for one entry."""
             cur = conn.execute(f"SELECT * FROM results WHERE name = '{$arg}'")
             return cur.fetchone()
         ''',
            "SQL injection: the value is formatted into the query; pass it as a parameter.",
        ),
        (
            "sec_weak_hash",
            "S324",
            Severity.HIGH,
            (("hash_password", "password"), ("password_digest", "secret")),
            '''
         def $fn($arg, salt):
             """Derive the value stored for a user's password."""
             import hashlib

             return hashlib.pbkdf2_hmac("sha256", $arg.encode(), salt, 200_000).hex()
         ''',
            '''
         def $fn($arg, salt):
             """Derive the value stored for a user's password."""
             import hashlib

             return hashlib.md5(salt + $arg.encode()).hexdigest()
         ''',
            "MD5 is a broken, fast hash: stored passwords can be brute-forced; use a slow "
            "key-derivation function (pbkdf2_hmac, scrypt).",
        ),
        (
            "sec_random_token",
            "S311",
            Severity.HIGH,
            (("make_token", "length"), ("new_session_id", "size"), ("reset_code", "n")),
            '''
         def $fn($arg=32):
             """Create a password-reset token."""
             import secrets

             alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
             return "".join(secrets.choice(alphabet) for _ in range($arg))
         ''',
            '''
         def $fn($arg=32):
             """Create a password-reset token."""
             import random

             alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
             return "".join(random.choice(alphabet) for _ in range($arg))
         ''',
            "Security token from `random`, a predictable PRNG; use the `secrets` module.",
        ),
        (
            "sec_hardcoded_password",
            "S105",
            Severity.HIGH,
            (("db_credentials", "user"), ("report_login", "account")),
            '''
         def $fn($arg="report"):
             """Credentials for the reporting database."""
             import os

             db_password = os.environ["REPORT_DB_PASSWORD"]
             return {"user": $arg, "password": db_password}
         ''',
            '''
         def $fn($arg="report"):
             """Credentials for the reporting database."""
             db_password = "Winter2024!"
             return {"user": $arg, "password": db_password}
         ''',
            "Hard-coded password in the source; read it from the environment or a secret store.",
        ),
        (
            "sec_tmp_path",
            "S108",
            Severity.MEDIUM,
            (("write_report", "data"), ("dump_results", "rows")),
            '''
         def $fn($arg):
             """Write a report to a scratch file and return its path."""
             import tempfile

             with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
                 handle.write(str($arg))
             return handle.name
         ''',
            '''
         def $fn($arg):
             """Write a report to a scratch file and return its path."""
             with open("/tmp/report.txt", "w") as handle:
                 handle.write(str($arg))
             return handle.name
         ''',
            "Fixed path in the shared /tmp: another user can pre-create or symlink it; use "
            "`tempfile`.",
        ),
        (
            "sec_mktemp",
            "S306",
            Severity.MEDIUM,
            (("export_csv", "rows"), ("save_table", "table")),
            '''
         def $fn($arg):
             """Write rows to a fresh CSV file and return its path."""
             import os
             import tempfile

             fd, path = tempfile.mkstemp(suffix=".csv")
             with os.fdopen(fd, "w") as handle:
                 handle.writelines(",".join(map(str, row)) + "\\n" for row in $arg)
             return path
         ''',
            '''
         def $fn($arg):
             """Write rows to a fresh CSV file and return its path."""
             import tempfile

             path = tempfile.mktemp(suffix=".csv")
             with open(path, "w") as handle:
                 handle.writelines(",".join(map(str, row)) + "\\n" for row in $arg)
             return path
         ''',
            "`tempfile.mktemp` returns a name another process can claim before the file is "
            "opened (race); use `mkstemp`.",
        ),
        (
            "sec_bind_all",
            "S104",
            Severity.MEDIUM,
            (("open_listener", "port"), ("serve_metrics", "port")),
            '''
         def $fn($arg):
             """Open the local metrics socket."""
             import socket

             sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
             sock.bind(("127.0.0.1", $arg))
             return sock
         ''',
            '''
         def $fn($arg):
             """Open the local metrics socket."""
             import socket

             sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
             sock.bind(("0.0.0.0", $arg))
             return sock
         ''',
            "The local-only metrics socket binds to all interfaces (0.0.0.0), exposing it to "
            "the network; bind to 127.0.0.1.",
        ),
        (
            "sec_chmod",
            "S103",
            Severity.MEDIUM,
            (("publish_file", "path"), ("share_output", "filename")),
            '''
         def $fn($arg):
             """Make the output file readable by its owner's group."""
             import os

             os.chmod($arg, 0o640)
         ''',
            '''
         def $fn($arg):
             """Make the output file readable by its owner's group."""
             import os

             os.chmod($arg, 0o777)
         ''',
            "`0o777` makes the file world-writable; grant only the permissions needed.",
        ),
        (
            "sec_tar_extract",
            "S202",
            Severity.HIGH,
            (("unpack_bundle", "archive"), ("restore_backup", "bundle")),
            '''
         def $fn($arg, dest):
             """Unpack an uploaded data bundle."""
             import tarfile

             with tarfile.open($arg) as tar:
                 tar.extractall(dest, filter="data")
         ''',
            '''
         def $fn($arg, dest):
             """Unpack an uploaded data bundle."""
             import tarfile

             with tarfile.open($arg) as tar:
                 tar.extractall(dest)
         ''',
            "`extractall` without a filter lets crafted members write outside `dest` (path "
            "traversal); pass `filter='data'`.",
        ),
        (
            "sec_no_verify",
            "S501",
            Severity.HIGH,
            (("fetch_rates", "url"), ("download_table", "endpoint")),
            '''
         def $fn($arg):
             """Download the latest reference data."""
             import requests

             return requests.get($arg, timeout=10).json()
         ''',
            '''
         def $fn($arg):
             """Download the latest reference data."""
             import requests

             return requests.get($arg, timeout=10, verify=False).json()
         ''',
            "`verify=False` disables TLS certificate checks: anyone on the path can tamper "
            "with the data.",
        ),
        (
            "sec_no_timeout",
            "S113",
            Severity.LOW,
            (("fetch_rates", "url"), ("poll_status", "endpoint")),
            '''
         def $fn($arg):
             """Download the latest reference data."""
             import requests

             return requests.get($arg, timeout=10).json()
         ''',
            '''
         def $fn($arg):
             """Download the latest reference data."""
             import requests

             return requests.get($arg).json()
         ''',
            "HTTP request without a timeout can hang forever on a stalled server; pass `timeout=`.",
        ),
        (
            "sec_unverified_ssl",
            "S323",
            Severity.HIGH,
            (("tls_context", "cafile"), ("client_context", "bundle")),
            '''
         def $fn($arg=None):
             """TLS context for calls to the upstream service."""
             import ssl

             return ssl.create_default_context(cafile=$arg)
         ''',
            '''
         def $fn($arg=None):
             """TLS context for calls to the upstream service."""
             import ssl

             return ssl._create_unverified_context(cafile=$arg)
         ''',
            "An unverified SSL context accepts any certificate (no hostname or chain checks).",
        ),
        (
            "sec_jinja_autoescape",
            "S701",
            Severity.HIGH,
            (("report_templates", "folder"), ("page_renderer", "template_dir")),
            '''
         def $fn($arg):
             """Template environment for the HTML report."""
             import jinja2

             return jinja2.Environment(loader=jinja2.FileSystemLoader($arg), autoescape=True)
         ''',
            '''
         def $fn($arg):
             """Template environment for the HTML report."""
             import jinja2

             return jinja2.Environment(loader=jinja2.FileSystemLoader($arg), autoescape=False)
         ''',
            "Autoescaping is off for HTML templates: values reach the page unescaped (XSS).",
        ),
    )
)
