"""Packaging promises: the Dockerfile copies only what exists, the manifest validates, the README's
client example runs against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_copies_existing_files_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", text, flags=re.M):
        if line.startswith("--from="):
            continue  # from an earlier build stage, not from the context
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert re.search(r"^USER (?!root)\w+", text, flags=re.M)
    assert "HEALTHCHECK" in text and "MAX_CONCURRENT_ENVS" in text


def test_openenv_static_validation_passes() -> None:
    openenv = Path(sys.executable).parent / "openenv"
    out = subprocess.run(
        [str(openenv), "validate", "--level", "static"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS" in out.stdout


def test_readme_has_space_front_matter_and_both_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    front = readme.split("---")[1]
    assert "sdk: docker" in front and "app_port: 8000" in front and "openenv" in front
    assert ".venv/bin/python-env serve" in readme
    test_command = '.venv/bin/pip install -e ".[dev,generate,ray]" && .venv/bin/python -m pytest -q'
    assert test_command in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install --quiet -e ".[dev,generate,ray]"' in ci and "python -m pytest -q" in ci


def test_readme_client_examples_run_and_print_what_the_readme_shows(server_url: str) -> None:
    section = (ROOT / "README.md").read_text().split("## Run an episode", 1)[1]
    section = section.split("## Actions", 1)[0]
    examples = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    shown = section.split("It prints:\n\n```\n", 1)[1].split("```", 1)[0]
    assert len(examples) == 2
    outputs = []
    for example in examples:
        code = example.replace("http://127.0.0.1:8000", server_url)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout)
    assert outputs[0] == shown  # the curated episode: rewards that sum to the score, as printed
    task_line, score_line = outputs[1].strip().splitlines()
    assert task_line.startswith("gen-") and score_line.startswith("score 0.0 | planted: [")
