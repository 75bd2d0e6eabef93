"""The one exception tree of python_env.

Agent mistakes inside an episode (code that fails, wrong findings) are data in the observation.
These exceptions are for misuse of the API and for infrastructure faults; each carries its
structured fields in ``details`` (the server sends them along with the message)::

    PythonEnvError                        HTTP
    ├── ConfigError            bad settings or environment variables                 500
    ├── InvalidRequest         a malformed request (field)                           400
    │   └── InvalidAction      a frame or action the protocol rejects (bad JSON,     422
    │                          unknown type, schema, too large, binary)
    ├── TaskError
    │   ├── TaskNotFound       unknown task id, split, index or filter (an IndexError)  404
    │   └── InvalidTask        a task's files break the task format (task_id)        500
    ├── SandboxError           the sandbox itself failed (not the candidate code)    500
    │   └── ExecutorOverloaded no worker could take the job in time: retry           503
    ├── AnalysisError          ruff or bandit could not run (tool)                   500
    ├── EpisodeError           a call that the episode's state does not allow        409
    │   ├── ResetNeeded        step() before reset()
    │   └── EpisodeFinished    step() after done
    ├── ServerAtCapacity       every session slot of the server is taken: retry      503
    ├── ServerError            the server failed in a way it has no class for        500
    ├── ServerUnreachable      no python_env server answers at a URL (url)
    ├── SessionLost            the connection closed under an episode (server died)
    └── AgentUnavailable       an agent cannot act at all (its LLM endpoint is unreachable)

Over the WebSocket an error frame names its class in ``kind`` and carries ``details``;
``error_from_wire`` turns it back into the same exception on the client.
"""

from __future__ import annotations

from typing import Any


class PythonEnvError(Exception):
    """Base of every error raised by python_env; ``details`` holds its structured fields."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = {name: value for name, value in details.items() if value is not None}


class ConfigError(PythonEnvError):
    """A setting or environment variable has an invalid value."""


class InvalidRequest(PythonEnvError):
    """A request is malformed: an unknown reset option, a filter value that does not exist."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class InvalidAction(InvalidRequest):
    """The server rejected a frame or an action before the episode saw it (its ``errors`` say
    where); the session goes on."""


class TaskError(PythonEnvError):
    """A task could not be found or loaded."""


class TaskNotFound(TaskError, IndexError):
    """No task matches the id, split, index or filters given."""

    def __init__(
        self,
        message: str,
        task_id: str | None = None,
        split: str | None = None,
        index: int | None = None,
    ) -> None:
        super().__init__(message, task_id=task_id, split=split, index=index)


class InvalidTask(TaskError):
    """A task's files do not follow docs/task-format.md (a fault of the data, not the caller)."""

    def __init__(self, message: str, task_id: str | None = None) -> None:
        super().__init__(message, task_id=task_id)


class SandboxError(PythonEnvError):
    """The sandbox failed for reasons unrelated to the candidate code."""


class ExecutorOverloaded(SandboxError):
    """No sandbox worker took the job within the queue timeout; the job must be retried."""


class AnalysisError(PythonEnvError):
    """A static analyzer (ruff, bandit) could not run or gave unreadable output."""

    def __init__(self, message: str, tool: str | None = None) -> None:
        super().__init__(message, tool=tool)


class EpisodeError(PythonEnvError):
    """The call is not allowed in the episode's current state."""


class ResetNeeded(EpisodeError):
    """step() was called before reset()."""

    def __init__(self) -> None:
        super().__init__("call reset() before step()")


class EpisodeFinished(EpisodeError):
    """step() was called after the episode ended."""

    def __init__(self) -> None:
        super().__init__("the episode is over (done=True); call reset() to start a new one")


class ServerAtCapacity(PythonEnvError):
    """The server holds as many sessions as it may; retry later or on another replica."""


class ServerError(PythonEnvError):
    """The server failed with an error outside this tree (a bug): the message is all there is."""


class ServerUnreachable(PythonEnvError):
    """No python_env server answers at the URL given."""

    def __init__(self, message: str, url: str | None = None) -> None:
        super().__init__(message, url=url)


class SessionLost(PythonEnvError):
    """The connection closed while a session was open (the server or its worker died, or
    restarted): the episode is gone; the next call opens a new session."""


class AgentUnavailable(PythonEnvError):
    """The agent cannot act at all (e.g. its LLM endpoint is unreachable): stop the whole run."""


def _classes(root: type[PythonEnvError] = PythonEnvError) -> dict[str, type[PythonEnvError]]:
    found = {root.__name__: root}
    for sub in root.__subclasses__():
        found.update(_classes(sub))
    return found


def error_from_wire(data: dict[str, Any]) -> PythonEnvError:
    """The exception an error frame's ``data`` names (``kind``), with its message and details;
    ``ServerError`` for a kind this version does not know."""
    cls = _classes().get(str(data.get("kind", "")), ServerError)
    error = cls.__new__(cls)  # constructors differ; the fields come from the wire
    sent = data.get("details")
    details: dict[str, Any] = sent if isinstance(sent, dict) else {}
    extra = {k: data[k] for k in ("code", "active_sessions", "max_sessions", "errors") if k in data}
    PythonEnvError.__init__(error, str(data.get("message", "")), **details, **extra)
    return error
