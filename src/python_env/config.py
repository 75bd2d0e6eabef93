"""Every setting of python_env in one value object, read from the environment once.

``Settings.from_env()`` is the one place that reads environment variables. The server, the CLI and
the generator build one ``Settings`` when they start and hand its parts down: the sandbox gets
``settings.sandbox``, the catalog ``settings.catalog``. Importing any module reads and starts
nothing.

=====================================  ============================================  ==========
variable                               setting                                       default
=====================================  ============================================  ==========
HOST, PORT                             ``server.host``, ``server.port``              127.0.0.1:8000
MAX_CONCURRENT_ENVS                    ``server.max_concurrent_envs``                64
WORKERS                                ``server.workers`` (uvicorn processes)        1
WS_PING_INTERVAL                       ``server.ws_ping_s`` (see below)              20
WS_COMPRESSION                         ``server.ws_compression`` (see below)         0
PYTHON_ENV_EXECUTOR                    ``sandbox.executor``                          forkserver
PYTHON_ENV_SANDBOX_TIER                ``sandbox.tier``                              auto
PYTHON_ENV_SANDBOX_BWRAP               ``sandbox.bwrap``: a path, or "0" for none    (PATH)
PYTHON_ENV_SANDBOX_WORKERS             ``sandbox.workers`` (0: twice the cores)      0
PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT       ``sandbox.queue_timeout_s``                   60
PYTHON_ENV_SPLITS                      ``catalog.splits`` (comma-separated)          all
TASKS_DIRS                             ``catalog.task_dirs`` ([NAME=]DIR, ...)       none
PYTHON_ENV_REPO_TASKS_DIR              ``catalog.repo_tasks_dir``                    (package)
API_BASE_URL, MODEL_NAME               ``llm.base_url``, ``llm.model``               see below
HF_TOKEN / API_KEY / OPENAI_API_KEY    ``llm.api_key`` (the first one set)           none
=====================================  ============================================  ==========

``WS_PING_INTERVAL`` is how often the server pings each WebSocket, and how long it waits for the
pong: a client that vanished without closing (a dead host, a frozen process) frees its session
slot within twice this time.

``WS_COMPRESSION=1`` lets clients negotiate permessage-deflate. It is off by default: an
observation is a few kilobytes, and deflating it cost more CPU than the rest of a ``review``
step's server work (BENCHMARKS.md); turn it on for clients on slow links.

``TASKS_DIRS`` lists directories separated by ``os.pathsep`` or commas; each is served as a
split of its own, named after the directory (``NAME=DIR`` names it); docs/task-format.md
describes what a directory holds.

``PYTHON_ENV_REPO_TASKS_DIR`` is the store of repository tasks (``tasks.repo_store``: project
snapshots and one ``<split>.jsonl.gz`` per split), served in the splits of the same name
(``train``, ``test``) next to the single-file tasks; the default is the package's own
``tasks/data/repos``. A directory that holds none serves none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from python_env.errors import ConfigError
from python_env.types import Limits

DEFAULT_LLM_BASE_URL = "https://router.huggingface.co/v1"
DEFAULT_LLM_MODEL = "Qwen/Qwen2.5-72B-Instruct"
BUILTIN_SPLITS = ("curated", "train", "test")
SPLIT_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"  # a split name travels in URLs, JSON and file names
DEFAULT_REPO_TASKS_DIR = Path(__file__).parent / "tasks" / "data" / "repos"


class ExecutorKind(StrEnum):
    """How agent code runs: ``forkserver`` (isolated), or ``subprocess`` (UNISOLATED)."""

    FORKSERVER = "forkserver"
    SUBPROCESS = "subprocess"


class SandboxTier(StrEnum):
    """Isolation tier of the fork server; ``auto`` takes the strongest this host can run."""

    AUTO = "auto"
    BWRAP = "bwrap"
    NATIVE = "native"
    FALLBACK = "fallback"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerSettings(_Section):
    """Where and how widely the HTTP/WebSocket server serves."""

    host: str = Field(default="127.0.0.1", description="Address to listen on (HOST).")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port (PORT).")
    max_concurrent_envs: int = Field(
        default=64, ge=1, description="WebSocket sessions per process (MAX_CONCURRENT_ENVS)."
    )
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes (WORKERS).")
    ws_ping_s: float = Field(
        default=20.0,
        gt=0,
        allow_inf_nan=False,
        description="WebSocket ping interval and pong timeout (WS_PING_INTERVAL).",
    )
    ws_compression: bool = Field(
        default=False, description="Offer permessage-deflate on /ws (WS_COMPRESSION)."
    )


class SandboxSettings(_Section):
    """Which executor runs agent code, with which isolation, and how many at once."""

    executor: ExecutorKind = Field(
        default=ExecutorKind.FORKSERVER, description="PYTHON_ENV_EXECUTOR."
    )
    tier: SandboxTier = Field(default=SandboxTier.AUTO, description="PYTHON_ENV_SANDBOX_TIER.")
    bwrap: str = Field(
        default="",
        description="bubblewrap: a path, '' to look it up on PATH, or '0' to act as if absent "
        "(PYTHON_ENV_SANDBOX_BWRAP).",
    )
    workers: int = Field(
        default=0,
        ge=0,
        description="Warm workers; 0 = twice the cores (PYTHON_ENV_SANDBOX_WORKERS).",
    )
    queue_timeout_s: float = Field(
        default=60.0,
        gt=0,
        allow_inf_nan=False,
        description="How long a queued job waits while no worker can make progress, before "
        "HTTP 503 (PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT).",
    )
    limits: Limits = Field(default_factory=Limits, description="Resource limits of every job.")
    hash_seed: int = Field(
        default=0,
        ge=0,
        le=4294967295,
        description="PYTHONHASHSEED of the workers: fixed, so set and dict orders are the same "
        "on every run (task validation runs a second executor with another seed).",
    )


class TaskDir(_Section):
    """A directory of tasks served as a split of its own; from text, ``DIR`` or ``NAME=DIR``."""

    split: str = Field(
        pattern=f"^{SPLIT_NAME}$",
        description="The split's name: the directory's own name unless given as NAME=DIR.",
    )
    path: Path = Field(description="The directory, absolute: one folder per task, or a dataset.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str | PurePath):
            return value
        name, equals, rest = str(value).partition("=")
        named = bool(equals) and "/" not in name  # "=" may also be part of a directory's name
        path = Path(rest if named else str(value)).expanduser().resolve()
        split = name.strip() if named else path.name
        if not re.fullmatch(SPLIT_NAME, split) or split in BUILTIN_SPLITS:
            raise PydanticCustomError(
                "split_name",
                "{path} cannot be the split '{split}' ({why}): choose a name, NAME={path}",
                {
                    "path": str(path),
                    "split": split,
                    "why": "a built-in split's name"
                    if split in BUILTIN_SPLITS
                    else "a name is letters, digits, '.', '_' and '-'",
                },
            )
        return {"split": split, "path": path}

    def __str__(self) -> str:
        return f"{self.split}={self.path}"


class CatalogSettings(_Section):
    """Which of the built-in task splits the server offers, and which task directories."""

    splits: tuple[str, ...] = Field(
        default=BUILTIN_SPLITS, min_length=1, description="PYTHON_ENV_SPLITS, comma-separated."
    )
    task_dirs: tuple[TaskDir, ...] = Field(
        default=(),
        description="TASKS_DIRS: [NAME=]DIR entries separated by os.pathsep or commas, each "
        "served as the split NAME (default: the directory's name).",
    )
    repo_tasks_dir: Path = Field(
        default=DEFAULT_REPO_TASKS_DIR,
        description="PYTHON_ENV_REPO_TASKS_DIR: the store of repository tasks (snapshots/ and "
        "<split>.jsonl.gz), served in the splits of the same names; default the package's "
        "tasks/data/repos. A directory without tasks serves none.",
    )

    @field_validator("task_dirs")
    @classmethod
    def _distinct(cls, dirs: tuple[TaskDir, ...]) -> tuple[TaskDir, ...]:
        splits = [d.split for d in dirs]
        twice = next((s for s in splits if splits.count(s) > 1), None)
        if twice is not None:
            raise PydanticCustomError(
                "split_twice",
                "two directories would be the split '{split}': name them, NAME=DIR",
                {"split": twice},
            )
        return dirs


class LLMSettings(_Section):
    """The OpenAI-compatible endpoint of the ``llm`` agent."""

    base_url: str = Field(default=DEFAULT_LLM_BASE_URL, description="API_BASE_URL.")
    model: str = Field(default=DEFAULT_LLM_MODEL, description="MODEL_NAME.")
    api_key: SecretStr | None = Field(
        default=None, description="HF_TOKEN, API_KEY or OPENAI_API_KEY (the first one set)."
    )


class Settings(_Section):
    """All of python_env's settings; build one with ``from_env`` and pass its parts down."""

    server: ServerSettings = Field(default_factory=ServerSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the variables of the module's table; a bad value raises ``ConfigError``."""
        env = os.environ if environ is None else environ
        raw: dict[str, dict[str, Any]] = {section: {} for section in cls.model_fields}
        for variable, (section, name) in _VARIABLES.items():
            value = env.get(variable, "").strip()
            if value:
                raw[section][name] = value
        if raw["catalog"].get("splits"):
            raw["catalog"]["splits"] = tuple(
                s.strip() for s in raw["catalog"]["splits"].split(",") if s.strip()
            )
        if raw["catalog"].get("task_dirs"):
            entries = re.split(f"[,{re.escape(os.pathsep)}]", raw["catalog"]["task_dirs"])
            raw["catalog"]["task_dirs"] = tuple(e.strip() for e in entries if e.strip())
        key = next((env[k] for k in ("HF_TOKEN", "API_KEY", "OPENAI_API_KEY") if env.get(k)), "")
        if key:
            raw["llm"]["api_key"] = key
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(_explain(exc)) from None

    def to_env(self) -> dict[str, str]:
        """The variables that make ``from_env`` rebuild these settings (the API key excepted)."""
        out = {}
        for variable, (section, name) in _VARIABLES.items():
            value = getattr(getattr(self, section), name)
            out[variable] = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        return out

    def with_task_dirs(self, dirs: tuple[str, ...]) -> Settings:
        """These settings with more task directories (``[NAME=]DIR``) after ``TASKS_DIRS``'s."""
        catalog = {**dict(self.catalog), "task_dirs": (*self.catalog.task_dirs, *dirs)}
        try:
            return self.model_copy(update={"catalog": CatalogSettings.model_validate(catalog)})
        except ValidationError as exc:
            raise ConfigError(_explain(exc, section="catalog")) from None


def inherited_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus ``extra``: for a child such as an embedded server."""
    return {**os.environ, **extra}


@contextmanager
def exported_environment(extra: Mapping[str, str]) -> Iterator[None]:
    """``extra`` set in this process's environment while the block runs, for the children it
    starts that inherit it (a local Ray instance's processes), then put back as it was."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_VARIABLES = {
    "HOST": ("server", "host"),
    "PORT": ("server", "port"),
    "MAX_CONCURRENT_ENVS": ("server", "max_concurrent_envs"),
    "WORKERS": ("server", "workers"),
    "WS_PING_INTERVAL": ("server", "ws_ping_s"),
    "WS_COMPRESSION": ("server", "ws_compression"),
    "PYTHON_ENV_EXECUTOR": ("sandbox", "executor"),
    "PYTHON_ENV_SANDBOX_TIER": ("sandbox", "tier"),
    "PYTHON_ENV_SANDBOX_BWRAP": ("sandbox", "bwrap"),
    "PYTHON_ENV_SANDBOX_WORKERS": ("sandbox", "workers"),
    "PYTHON_ENV_SANDBOX_QUEUE_TIMEOUT": ("sandbox", "queue_timeout_s"),
    "PYTHON_ENV_SPLITS": ("catalog", "splits"),
    "TASKS_DIRS": ("catalog", "task_dirs"),
    "PYTHON_ENV_REPO_TASKS_DIR": ("catalog", "repo_tasks_dir"),
    "API_BASE_URL": ("llm", "base_url"),
    "MODEL_NAME": ("llm", "model"),
}
_BY_FIELD: dict[tuple[str, ...], str] = {field: variable for variable, field in _VARIABLES.items()}


def _explain(exc: ValidationError, section: str = "") -> str:
    """One line per bad variable, naming it, what it must be and what it was; ``section`` is
    the one ``exc`` comes from when it is not the whole settings'."""
    lines = []
    for error in exc.errors():
        where = ((section,) if section else ()) + tuple(str(p) for p in error["loc"])
        variable = _BY_FIELD.get(where[:2], ".".join(where[:2]))
        got = error["input"]
        shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
        lines.append(f"{variable}: {error['msg']}{shown}")
    return "invalid settings: " + "; ".join(lines)
