"""Assemble the directory to push to a Hugging Face Space, and check it offline with OpenEnv's code.

``openenv push DIR`` wants an OpenEnv env root: ``openenv.yaml``, ``README.md``, a Dockerfile and
``pyproject.toml``, plus ``__init__.py`` and ``client.py`` at the top (OpenEnv's ``envs/<name>``
layout). The repository keeps a src layout (a top-level ``__init__.py`` would make pytest import
every test under the checkout's directory name), so this script writes the Space directory: the
image's inputs (the Dockerfile and what it copies) and two shims re-exporting the client.

``openenv push`` (OpenEnv 0.10) has no ``--dry-run``; it logs in, creates the Space and uploads.
This runs the two steps of it that need neither, with OpenEnv's own code: the directory check and
the staging of the upload (ignore patterns, the Dockerfile rewrite that sets
``ENABLE_WEB_INTERFACE``, the README front matter). Then it checks what a Space needs: the Docker
SDK, ``app_port`` equal to the port the image serves, the UI path, nothing but the image's inputs.

Usage: ``python scripts/make_space.py [OUT]`` (default ``build/space``), then
``openenv push OUT --repo-id YOU/python-env``. Prints ``key: value`` lines and ``problem: ...``
for each problem; exit status 1 if any.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml
from openenv.cli.commands import push  # the code `openenv push` runs

ROOT = Path(__file__).resolve().parents[1]
# What the Dockerfile copies, the manifest with its runtime plan, and the Space's README.
SPACE_FILES = ("Dockerfile", "requirements.lock", "pyproject.toml", "README.md", "LICENSE",
               "NOTICE", "openenv.yaml", "validation", "src", "server")  # fmt: skip
NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.py[co]", "*.egg-info", ".*_cache")
SHIMS = {
    "__init__.py": '"""OpenEnv layout shim: the python_env client and wire models (the code is in '
    'src/python_env)."""\n\nfrom python_env import CodeReviewAction, CodeReviewObservation, '
    'CodeReviewState, PythonEnv\n\n__all__ = ["CodeReviewAction", "CodeReviewObservation", '
    '"CodeReviewState", "PythonEnv"]\n',
    "client.py": '"""OpenEnv layout shim: the client is python_env.client.PythonEnv."""\n\n'
    'from python_env.client import PythonEnv\n\n__all__ = ["PythonEnv"]\n',
}
ALLOWED_TOP = set(SPACE_FILES) | set(SHIMS)


def assemble(out: Path) -> None:
    """Write the Space directory ``out`` (replacing it) from the repository."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in SPACE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, out / name, ignore=NOT_SOURCE)
        else:
            shutil.copy2(source, out / name)
    for name, text in SHIMS.items():
        (out / name).write_text(text)


def front_matter(readme: str) -> dict[str, object]:
    """The YAML block between the leading ``---`` lines of a README (empty when absent)."""
    match = re.match(r"---\n(.*?)\n---\n", readme, re.S)
    loaded = yaml.safe_load(match.group(1)) if match else None
    return loaded if isinstance(loaded, dict) else {}


def check(staged: Path, readme: str) -> list[str]:
    """Problems with the staged upload (empty when a Space would build it and serve the UI);
    ``readme`` is the README as written (so a plain git push to a Space works too)."""
    problems = []
    meta = front_matter(readme)
    manifest = yaml.safe_load((staged / "openenv.yaml").read_text())
    dockerfile = (staged / "Dockerfile").read_text()
    expose = re.search(r"^EXPOSE\s+(\d+)", dockerfile, re.M)
    port = re.search(r"^\s*PORT=(\d+)", dockerfile, re.M)
    if meta.get("sdk") != "docker":
        problems.append(f"README front matter: sdk is {meta.get('sdk')!r}, not 'docker'")
    served = {str(manifest.get("port")), expose and expose.group(1), port and port.group(1)}
    if {str(meta.get("app_port"))} != served:
        problems.append(f"app_port {meta.get('app_port')} but the image serves {sorted(served)}")
    if meta.get("base_path") != "/web":
        problems.append(f"base_path is {meta.get('base_path')!r}: the Space would not open /web")
    if "ENV ENABLE_WEB_INTERFACE=true" not in dockerfile:
        problems.append("the staged Dockerfile does not enable the web interface")
    problems += [f"uploaded: {p.name}" for p in staged.iterdir() if p.name not in ALLOWED_TOP]
    return problems


def main(argv: list[str] | None = None) -> int:
    """Assemble, stage the upload the way ``openenv push`` does, print it, report problems."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "build" / "space")
    out = parser.parse_args(argv).out.resolve()
    assemble(out)
    env_name, _ = push._validate_openenv_directory(out)
    patterns = push._load_ignore_patterns(out, None)
    with tempfile.TemporaryDirectory(prefix="python-env-space-") as tmp:
        staged = Path(tmp) / "upload"
        push._prepare_staging_directory(out, env_name, staged, patterns, enable_interface=True)
        files = [p for p in staged.rglob("*") if p.is_file()]
        meta = front_matter((staged / "README.md").read_text())
        print(f"space directory: {out}")
        print(f"upload: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
        print(f"top level: {' '.join(sorted(p.name for p in staged.iterdir()))}")
        print(f"front matter: {' '.join(f'{k}={v}' for k, v in meta.items() if k != 'tags')}")
        problems = check(staged, (out / "README.md").read_text())
    for problem in problems:
        print(f"problem: {problem}")
    if not problems:
        print(f"push with: openenv push {out} --repo-id <you>/python-env")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
