"""The task directory format: one folder per task, read, checked and written here.

A folder named after its task id holds ``task.toml`` (metadata and the answer key, modelled by
``TaskFile``), ``code.py``, ``fix.py``, ``visible_tests.py``, ``hidden_tests.py``, and when they
apply ``benchmark.py`` (optimize tasks), ``conftest.py`` (pytest-style tasks) and a ``LICENSE``.
docs/task-format.md is the user's guide; docs/task.schema.json is ``task_schema_json()``.

TOML because a task file is written by hand: it has comments and multi-line strings (the
instructions), the standard library reads it (``tomllib``) and ``tomli_w`` writes it.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Self

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from python_env.errors import InvalidRequest, InvalidTask
from python_env.tasks.generate.dataset import SPLITS, read_records, split_file, to_task
from python_env.tasks.generate.dataset import available as holds_dataset
from python_env.types import (
    Category,
    Difficulty,
    Issue,
    Task,
    TaskInfo,
    TaskKind,
    TaskProblem,
    TestStyle,
)

TASK_TOML = "task.toml"
CODE, FIX, VISIBLE, HIDDEN = "code.py", "fix.py", "visible_tests.py", "hidden_tests.py"
BENCHMARK, CONFTEST = "benchmark.py", "conftest.py"  # other files (a LICENSE) are not read
REQUIRED = (CODE, FIX, VISIBLE, HIDDEN)
TASK_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
FORMAT = "format"  # the rule every problem found here breaks
# Names the code under review cannot be imported as: the sandbox's own modules, pytest, the
# standard library (a task's ``json.py`` would hide the real one from its own tests).
RESERVED_MODULES = frozenset(
    {"tests", "visible_tests", "hidden_tests", "conftest", "benchmark", "pytest", "_pytest"}
    | sys.stdlib_module_names
)


class TaskFile(BaseModel):
    """The keys of ``task.toml``: a task's metadata and its answer key."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="task.toml")

    title: str = Field(min_length=1, description="One line saying what the code is.")
    kinds: tuple[TaskKind, ...] = Field(
        min_length=1, description="What is asked: any of review, repair, optimize."
    )
    difficulty: Difficulty = Field(description="easy, medium or hard.")
    max_steps: int = Field(ge=1, description="Actions allowed before the episode is submitted.")
    tests: TestStyle = Field(
        default=TestStyle.RETURN,
        description="How the test files are written: 'return' (zero-argument test functions "
        "whose return values and asserts are compared) or 'pytest' (a pytest suite).",
    )
    module: str = Field(
        default="solution",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The module name the tests import the code under review as.",
    )
    source: str = Field(
        default="curated",
        min_length=1,
        description="Where the task comes from: curated (hand-written), or a corpus name.",
    )
    license: str = Field(
        default="", description="SPDX id of third-party code in the task, e.g. MIT (see LICENSE)."
    )
    attribution: str = Field(default="", description="Whose code it is, and where it is from.")
    instructions: str = Field(
        min_length=1, description="What the agent is told; never gives the issues away."
    )
    issues: tuple[Issue, ...] = Field(
        default=(), description="The answer key: one [[issues]] table per planted issue."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.module in RESERVED_MODULES:
            raise PydanticCustomError(
                "module_reserved",
                "module '{module}' is reserved (a standard library, pytest or sandbox name)",
                {"module": self.module},
            )
        for what, values in (("kinds", self.kinds), ("issue ids", [i.id for i in self.issues])):
            twice = next((v for v in values if values.count(v) > 1), None)
            if twice is not None:
                raise PydanticCustomError(
                    "duplicate", "{what} list '{value}' twice", {"what": what, "value": twice}
                )
        return self


class _Broken(Exception):
    """What is wrong with one task folder, naming the file (and key) at fault."""


def load_task_dir(folder: Path, split: str) -> Task:
    """Read the task folder ``folder`` as a task of ``split``; ``InvalidTask`` names the folder
    and the problem when it breaks the format."""
    try:
        return _read(folder, split)
    except _Broken as exc:
        raise InvalidTask(f"{folder}: {exc}", task_id=folder.name) from None


def load_task_root(root: Path, split: str) -> tuple[list[Task], list[TaskProblem]]:
    """Every task under ``root``, sorted by id, and a ``format`` problem per broken folder.

    ``root`` is a folder of task folders (each with ``task.toml``), a single task folder, or a
    dataset ``python-env generate --out`` wrote: its tasks then belong to ``<split>-train`` and
    ``<split>-test``. ``InvalidTask`` when ``root`` is none of these.
    """
    if not root.is_dir():
        raise InvalidTask(f"{root}: not a directory")
    if holds_dataset(root):
        return _load_dataset(root, split)
    folders = [root] if (root / TASK_TOML).is_file() else sorted(_task_folders(root))
    if not folders:
        raise InvalidTask(f"{root}: no task folder in it (a folder holding {TASK_TOML})")
    tasks, problems = [], []
    for folder in folders:
        try:
            tasks.append(_read(folder, split))
        except _Broken as exc:
            problems.append(TaskProblem(folder.name, FORMAT, str(exc)))
    return tasks, problems


def occupied(folder: Path) -> bool:
    """Whether writing a task to ``folder`` would overwrite something."""
    return folder.exists() and (not folder.is_dir() or any(folder.iterdir()))


def write_task_dir(task: Task, dest: Path, *, force: bool = False) -> Path:
    """Write ``task`` as the folder ``dest/<task id>`` (returned), exactly the files
    ``load_task_dir`` reads back into an equal task (its split aside). An occupied folder is
    refused (``InvalidRequest``) unless ``force``, which replaces it; a task the loader would
    refuse is not written (``InvalidTask``)."""
    if not TASK_ID.fullmatch(task.id):  # before the id becomes part of a path
        raise InvalidTask(f"{task.id!r} is not a task id (lowercase letters, digits, '-')")
    folder = dest / task.id
    if occupied(folder) and not force:
        raise InvalidRequest(f"{folder} already exists and is not empty", field="dest")
    dest.mkdir(parents=True, exist_ok=True)
    # Written beside its place under a hidden name (which loaders skip) and read back with the
    # loader's own checks, so a folder is replaced only by one that loads.
    staging = Path(tempfile.mkdtemp(prefix=f".{task.id}-", dir=dest))
    try:
        staged = staging / task.id
        staged.mkdir()
        for name, content in _files(task).items():
            if content or name in REQUIRED:
                (staged / name).write_bytes(content.encode("utf-8"))
        _read(staged, task.info.split)
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        elif folder.exists() or folder.is_symlink():
            folder.unlink()
        staged.rename(folder)
    except _Broken as exc:
        raise InvalidTask(f"{task.id}: {exc}", task_id=task.id) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _files(task: Task) -> dict[str, str]:
    """File name -> content of the task's folder ("": a file not written)."""
    try:
        meta = TaskFile(
            title=task.info.title,
            kinds=task.info.kinds,
            difficulty=task.info.difficulty,
            max_steps=task.info.max_steps,
            tests=task.test_style,
            module=task.module,
            source=task.info.source,
            instructions=task.instructions + "\n",  # the closing quotes on a line of their own
            issues=task.issues,
        )
    except ValidationError as exc:
        raise _Broken(f"{TASK_TOML}: {_explain(exc)}") from None
    keys = meta.model_dump(mode="json", exclude_defaults=True)
    return {
        TASK_TOML: tomli_w.dumps(keys, multiline_strings=True),
        CODE: task.code,
        FIX: task.fix,
        VISIBLE: task.visible_tests,
        HIDDEN: task.hidden_tests,
        BENCHMARK: task.benchmark,
        CONFTEST: task.conftest,
    }


def task_schema_json() -> str:
    """The JSON Schema of ``task.toml`` (docs/task.schema.json holds this text)."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    return json.dumps({**schema, **TaskFile.model_json_schema()}, indent=2) + "\n"


# -- reading ---------------------------------------------------------------------------------


def _task_folders(root: Path) -> list[Path]:
    """Sub-folders that hold a task, or look as if they should (a task file but no task.toml)."""
    names = {TASK_TOML, *REQUIRED}
    return [
        child
        for child in root.iterdir()
        if child.is_dir()
        and not child.name.startswith((".", "_"))
        and any((child / name).is_file() for name in names)
    ]


def _read(folder: Path, split: str) -> Task:
    if not TASK_ID.fullmatch(folder.name):
        raise _Broken(
            f"folder name {folder.name!r} is not a task id (lowercase letters, digits, '-')"
        )
    meta = _task_file(folder / TASK_TOML)
    stray = sorted(
        p.name for p in folder.glob("*.py") if p.name not in (*REQUIRED, BENCHMARK, CONFTEST)
    )
    if stray:  # the sandbox would never see it: the tests could not import it
        raise _Broken(f"{stray[0]}: not a task file (a task has {', '.join(REQUIRED)}, "
                      f"{BENCHMARK} and {CONFTEST})")  # fmt: skip
    text = {name: _text(folder / name, required=name in REQUIRED) for name in REQUIRED}
    benchmark = _text(folder / BENCHMARK, required=TaskKind.OPTIMIZE in meta.kinds)
    conftest = _text(folder / CONFTEST, required=False)
    if conftest and meta.tests is not TestStyle.PYTEST:
        raise _Broken(f'{CONFTEST}: only pytest-style tasks (tests = "pytest") have one')
    issues = meta.issues
    return Task(
        info=TaskInfo(
            id=folder.name,
            title=meta.title,
            kinds=meta.kinds,
            difficulty=meta.difficulty,
            split=split,
            source=meta.source,
            categories=tuple(sorted({i.category for i in issues}, key=list(Category).index)),
            num_issues=len(issues),
            max_steps=meta.max_steps,
        ),
        instructions=meta.instructions.strip(),
        code=text[CODE],
        visible_tests=text[VISIBLE],
        hidden_tests=text[HIDDEN],
        fix=text[FIX],
        issues=issues,
        benchmark=benchmark,
        test_style=meta.tests,
        conftest=conftest,
        module=meta.module,
    )


def _task_file(path: Path) -> TaskFile:
    try:
        return TaskFile.model_validate(tomllib.loads(_text(path, required=True)))
    except tomllib.TOMLDecodeError as exc:
        raise _Broken(f"{path.name}: {exc}") from None
    except ValidationError as exc:
        raise _Broken(f"{path.name}: {_explain(exc)}") from None


def _text(path: Path, *, required: bool) -> str:
    """The file's text ("" when it is absent and not required), with universal newlines."""
    if not path.is_file():
        if required:
            raise _Broken(f"{path.name} is missing")
        return ""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _Broken(f"{path.name}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise _Broken(f"{path.name}: {exc.strerror}") from None
    if required and not text.strip():
        raise _Broken(f"{path.name} is empty")
    return text


def _explain(exc: ValidationError) -> str:
    """Each error as ``key: problem``; an unknown key with the closest known one."""
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        if error["type"] == "extra_forbidden":
            known = list(Issue.model_fields if loc[0] == "issues" else TaskFile.model_fields)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {known}"
            lines.append(f"{where}: unknown key{hint}")
        elif error["type"] == "missing":
            lines.append(f"{where}: missing (a required key)")
        else:
            got = error["input"]
            shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
            lines.append(f"{where + ': ' if where else ''}{error['msg']}{shown}")
    return "; ".join(lines)


def _load_dataset(root: Path, split: str) -> tuple[list[Task], list[TaskProblem]]:
    """A generated dataset's tasks, in the splits ``<split>-train`` and ``<split>-test``."""
    tasks, problems = [], []
    for part in SPLITS:
        path = split_file(root, part)
        try:
            records = read_records(path)
        except (OSError, ValueError) as exc:
            raise InvalidTask(f"{path}: {exc}") from None
        for number, record in enumerate(records, 1):
            name = str(record.get("info", {}).get("id") or f"{path.name}:{number}")
            try:
                task = to_task(record)
            except ValidationError as exc:
                problems.append(TaskProblem(name, FORMAT, f"{path.name}: {_explain(exc)}"))
                continue
            except (KeyError, TypeError, AttributeError) as exc:
                problems.append(TaskProblem(name, FORMAT, f"{path.name}: bad record: {exc!r}"))
                continue
            info = task.info.model_copy(update={"split": f"{split}-{part}"})
            tasks.append(task.model_copy(update={"info": info}))
    return sorted(tasks, key=lambda t: t.id), problems
