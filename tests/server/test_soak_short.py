"""The soak, short (issue 16): ``benchmarks/soak.py`` at 16 sessions x 100 mixed steps.

The script starts a server of its own on 127.0.0.1 and exits 0 only with no unexpected reply, no
cross-talk (replayed episodes byte-identical), no RSS or fd growth after warm-up, a healthy idle
sandbox pool and every session slot free at the end. The full run (64 x 1,000) is by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


@pytest.mark.timeout(300)
def test_short_soak_passes() -> None:
    # A replay sample keeps the file near a minute on 2 cores; the determinism test replays all.
    args = ["--sessions", "16", "--steps", "100", "--seed", "1", "--max-seconds", "150"]
    args += ["--replay", "80", "--interval", "0.5", "--tasks-per-split", "8"]
    proc = subprocess.run(
        [sys.executable, str(SOAK), *args], capture_output=True, text=True, timeout=280
    )
    report = proc.stdout[-6_000:] + proc.stderr[-3_000:]
    assert proc.returncode == 0, report
    assert "soak: PASS" in proc.stdout and "unexpected 0;" in proc.stdout, report
    assert "0 mismatch(es)" in proc.stdout, report
