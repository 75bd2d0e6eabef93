"""Evaluation reports: per-episode rows, aggregates per kind/category/difficulty, a side-by-side
table of several reports, and a plot of the score distribution per agent."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from python_env import __version__
from python_env.agents.evaluation import RunStats

GROUPS = (("difficulty", "difficulty"), ("kind", "kinds"), ("category", "categories"))


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(statistics.fmean(items), 4) if items else None


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Summary statistics of a set of episode rows."""
    scores = [r["score"] for r in rows]
    turns = sum(r["steps"] + r["invalid_actions"] for r in rows)
    findings = [r["findings"] for r in rows if r["findings"] is not None]
    # Component scores only where the task grades them (optimize tasks run tests but grade speed).
    tests = [r["components"]["tests"] for r in rows if "tests" in r["components"]]
    perf = [r["components"]["performance"] for r in rows if "performance" in r["components"]]
    return {
        "episodes": len(rows),
        "mean_score": _mean(scores),
        "median_score": round(statistics.median(scores), 4) if scores else None,
        "solved": sum(s >= 0.99 for s in scores),
        "mean_reward_sum": _mean(r["reward_sum"] for r in rows),
        "mean_steps": _mean(r["steps"] for r in rows),
        "invalid_rate": round(sum(r["invalid_actions"] for r in rows) / turns, 4) if turns else 0.0,
        "precision": _mean(f["precision"] for f in findings),
        "recall": _mean(f["recall"] for f in findings),
        "f1": _mean(f["f1"] for f in findings),
        "tests": _mean(tests),
        "performance": _mean(perf),
        "mean_wall_s": _mean(r["wall_s"] for r in rows),
        "errors": sum(r["error"] is not None for r in rows),
    }


def grouped(rows: Sequence[dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    """Aggregates per value of ``field``; a row with several values counts in each group."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        values = row[field] if isinstance(row[field], list) else [row[field]]
        for value in values:
            groups[str(value)].append(row)
    return {name: aggregate(groups[name]) for name in sorted(groups)}


def build_report(
    agent: str, split: str, server: str, stats: RunStats, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The eval report: run settings, per-episode results and aggregates."""
    rows = [r.summary() for r in stats.results]
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_task[row["task_id"]].append(row)
    return {
        "agent": agent,
        "split": split,
        "server": server,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python_env": __version__,
        **(extra or {}),
        "run": {
            "episodes": stats.episodes,
            "errors": stats.errors,
            "concurrency": stats.concurrency,
            "wall_s": round(stats.wall_s, 3),
            "episodes_per_s": round(stats.episodes_per_s, 3),
        },
        "aggregate": {
            "overall": aggregate(rows),
            **{f"by_{name}": grouped(rows, field) for name, field in GROUPS},
            "by_task": {task: aggregate(items) for task, items in sorted(by_task.items())},
        },
        "episodes": rows,
    }


def load_report(path: Path) -> dict[str, Any]:
    """Read an eval report written by ``python-env eval``."""
    data: dict[str, Any] = json.loads(path.read_text())
    if "aggregate" not in data or "episodes" not in data:
        raise ValueError(f"{path} is not a python-env eval report")
    return data


def _label(report: dict[str, Any], path: Path | None, taken: set[str]) -> str:
    label = str(report.get("label") or report["agent"])
    if label in taken and path is not None:
        label = f"{label} ({path.stem})"
    taken.add(label)
    return label


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


TABLE_ROWS = (
    ("episodes", "episodes"),
    ("mean score", "mean_score"),
    ("median score", "median_score"),
    ("solved (≥ 0.99)", "solved"),
    ("mean reward sum", "mean_reward_sum"),
    ("mean steps", "mean_steps"),
    ("invalid-action rate", "invalid_rate"),
    ("findings precision", "precision"),
    ("findings recall", "recall"),
    ("findings F1", "f1"),
    ("tests component", "tests"),
    ("performance component", "performance"),
    ("errors", "errors"),
)


def side_by_side(reports: Sequence[dict[str, Any]], paths: Sequence[Path | None] = ()) -> str:
    """A Markdown table: one column per report, overall metrics then mean score per group."""
    taken: set[str] = set()
    paths = list(paths) + [None] * (len(reports) - len(paths))
    labels = [_label(r, p, taken) for r, p in zip(reports, paths, strict=True)]
    lines = ["| metric | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]
    for title, key in TABLE_ROWS:
        cells = [_cell(r["aggregate"]["overall"].get(key)) for r in reports]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    for name, _field in GROUPS:
        groups = sorted({g for r in reports for g in r["aggregate"][f"by_{name}"]})
        for group in groups:
            cells = []
            for r in reports:
                agg = r["aggregate"][f"by_{name}"].get(group)
                cells.append(
                    "-" if agg is None else f"{agg['mean_score']:.3f} (n={agg['episodes']})"
                )
            lines.append(f"| score: {name} {group} | " + " | ".join(cells) + " |")
    run = [r.get("run", {}) for r in reports]
    lines.append("| episodes/s | " + " | ".join(_cell(x.get("episodes_per_s")) for x in run) + " |")
    return "\n".join(lines)


def plot_scores(reports: Sequence[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Histogram of episode scores, one bar series per agent, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    taken: set[str] = set()
    labels = [_label(r, None, taken) for r in reports]
    scores = [[row["score"] for row in r["episodes"]] for r in reports]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    bins = [i / 10 for i in range(11)]
    ax.hist(scores, bins=bins, label=labels, rwidth=0.9)
    ax.set_xlabel("task score")
    ax.set_ylabel("episodes")
    ax.set_xlim(0, 1)
    ax.set_title(title or "python_env: score distribution per agent")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
