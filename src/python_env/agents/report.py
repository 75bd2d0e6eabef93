"""Evaluation reports: per-episode rows, aggregates per kind/category/difficulty, a side-by-side
table of several reports, and a plot of the score distribution per agent."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from python_env import __version__

if TYPE_CHECKING:
    from python_env.agents.evaluation import RunStats

GROUPS = (("difficulty", "difficulty"), ("kind", "kinds"), ("category", "categories"))


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(statistics.fmean(items), 4) if items else None


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Summary statistics of a set of episode rows. Scores are over the episodes that completed;
    an episode the infrastructure failed (``error``) is counted apart, never as a 0."""
    done = [r for r in rows if r["error"] is None]
    scores = [r["score"] for r in done]
    turns = sum(r["steps"] + r["invalid_actions"] for r in done)
    findings = [r["findings"] for r in done if r["findings"] is not None]
    # Component scores only where the task grades them (optimize tasks run tests but grade speed).
    tests = [r["components"]["tests"] for r in done if "tests" in r["components"]]
    perf = [r["components"]["performance"] for r in done if "performance" in r["components"]]
    kinds = Counter(str(r["error"]).split(":", 1)[0] for r in rows if r["error"] is not None)
    return {
        "episodes": len(rows),
        "completed": len(done),
        "mean_score": _mean(scores),
        "score_ci95": _ci95(scores),
        "median_score": round(statistics.median(scores), 4) if scores else None,
        "solved": sum(s >= 0.99 for s in scores),
        "mean_reward_sum": _mean(r["reward_sum"] for r in done),
        "mean_steps": _mean(r["steps"] for r in done),
        "invalid_rate": round(sum(r["invalid_actions"] for r in done) / turns, 4)
        if turns
        else None,
        "precision": _mean(f["precision"] for f in findings),
        "recall": _mean(f["recall"] for f in findings),
        "f1": _mean(f["f1"] for f in findings),
        "tests": _mean(tests),
        "performance": _mean(perf),
        "mean_wall_s": _mean(r["wall_s"] for r in done),
        "errors": len(rows) - len(done),
        "error_kinds": dict(sorted(kinds.items())),
    }


def _number(value: Any, missing: float = math.nan) -> float:
    return float(value) if isinstance(value, int | float) else missing


def _completed(stats: dict[str, Any]) -> int:
    """Episodes that completed (reports written before errors were counted apart: all)."""
    return int(stats.get("completed", stats.get("episodes", 0)))


def _ci95(values: Sequence[float]) -> float | None:
    """Half-width of the normal-approximation 95 % interval of the mean."""
    if len(values) < 2:
        return None
    half: float = 1.96 * statistics.stdev(values) / math.sqrt(len(values))
    return round(half, 4)


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
    """The eval report: run settings, per-episode results and aggregates (``extra`` adds keys,
    e.g. ``repo``: the episodes were the split's repository tasks)."""
    rows = [r.summary() for r in stats.results]
    return {
        "agent": agent,
        "split": split,
        "server": server,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python_env": __version__,
        **(extra or {}),
        "run": {
            "episodes": stats.episodes,
            "tasks": len({r.task_id for r in stats.results if r.error is None}),  # distinct
            "errors": stats.errors,
            "concurrency": stats.concurrency,
            "wall_s": round(stats.wall_s, 3),
            "episodes_per_s": round(stats.episodes_per_s, 3),
        },
        "aggregate": aggregates(rows),
        "episodes": rows,
    }


def aggregates(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every aggregate of a report: overall, per difficulty, kind, category and task."""
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_task[row["task_id"]].append(row)
    return {
        "overall": aggregate(rows),
        **{f"by_{name}": grouped(rows, field) for name, field in GROUPS},
        "by_task": {task: aggregate(items) for task, items in sorted(by_task.items())},
    }


def load_report(path: Path) -> dict[str, Any]:
    """Read an eval report written by ``python-env eval``."""
    data: dict[str, Any] = json.loads(path.read_text())
    if "aggregate" not in data or "episodes" not in data:
        raise ValueError(f"{path} is not a python-env eval report")
    data["aggregate"] = aggregates(data["episodes"])  # older reports scored failures as 0
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
    ("completed", "completed"),
    ("errors (not scored)", "errors"),
    ("mean score (completed)", "mean_score"),
    ("± 95 % CI", "score_ci95"),
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
                    "-" if agg is None else f"{_cell(agg['mean_score'])} (n={_completed(agg)})"
                )
            lines.append(f"| score: {name} {group} | " + " | ".join(cells) + " |")
    kinds = [r["aggregate"]["overall"].get("error_kinds") or {} for r in reports]
    if any(kinds):
        cells = [", ".join(f"{k}: {n}" for k, n in x.items()) or "-" for x in kinds]
        lines.append("| error kinds | " + " | ".join(cells) + " |")
    run = [r.get("run", {}) for r in reports]
    lines.append("| episodes/s | " + " | ".join(_cell(x.get("episodes_per_s")) for x in run) + " |")
    return "\n".join(lines)


def plot_scores(
    reports: Sequence[dict[str, Any]], path: Path, title: str = "", paths: Sequence[Path] = ()
) -> Path:
    """Mean score ± 95 % CI per agent, overall and per task kind and category, saved as PNG;
    the title names the split(s), episode counts and date."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    taken: set[str] = set()
    named = list(paths) + [None] * (len(reports) - len(paths))
    labels = [_label(r, p, taken) for r, p in zip(reports, named, strict=True)]
    panels = [("overall", None), ("by task kind", "by_kind"), ("by category", "by_category")]
    fig, axes = plt.subplots(
        1, 3, figsize=(13, 4.2), dpi=120, gridspec_kw={"width_ratios": [1, 2, 3]}
    )
    width = 0.8 / max(1, len(reports))
    for ax, (name, key) in zip(axes, panels, strict=True):
        groups = (
            ["all"] if key is None else sorted({g for r in reports for g in r["aggregate"][key]})
        )
        for k, (report, label) in enumerate(zip(reports, labels, strict=True)):
            stats = [
                report["aggregate"]["overall"] if key is None else report["aggregate"][key].get(g)
                for g in groups
            ]
            means = [_number((s or {}).get("mean_score")) for s in stats]  # NaN: no bar
            errs = [_number((s or {}).get("score_ci95"), 0.0) for s in stats]
            xs = [i + (k - (len(reports) - 1) / 2) * width for i in range(len(groups))]
            ax.bar(xs, means, width, yerr=errs, capsize=3, label=label)
            for x, s in zip(xs, stats, strict=True):
                ax.annotate(f"n={_completed(s or {})}", (x, 0.98), ha="center",
                            fontsize=6, rotation=90, va="top")  # fmt: skip
        ax.set_xticks(range(len(groups)), groups, rotation=20, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(name, fontsize=9)
    axes[0].set_ylabel("mean task score (± 95 % CI)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(reports), fontsize=8, frameon=False)
    splits = ", ".join(sorted({str(r["split"]) for r in reports}))
    if any(r.get("repo") for r in reports):  # eval --repo: repository tasks of the split
        splits += " (repository tasks)"
    counts = ", ".join(
        f"{lab}: {_completed(r['aggregate']['overall'])}/{r['aggregate']['overall']['episodes']}"
        for lab, r in zip(labels, reports, strict=True)
    )
    dates = sorted({str(r.get("created", ""))[:10] for r in reports})
    fig.suptitle(
        title or f"python_env · split {splits} · completed episodes {counts} · {', '.join(dates)}",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
