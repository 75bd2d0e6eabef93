"""The one exception tree of python_env.

Agent mistakes inside an episode (code that fails, wrong findings) are data in the observation.
These exceptions are for misuse of the API and for infrastructure faults::

    PythonEnvError
    ├── ConfigError            bad settings or environment variables
    ├── TaskError
    │   ├── TaskNotFound       unknown task id, split, index or filter (an IndexError too)
    │   └── InvalidTask        a task's files break the task format
    ├── SandboxError           the sandbox itself failed (not the candidate code)
    │   └── ExecutorOverloaded no worker could take the job in time: retry, never score
    ├── EpisodeError           a call that the episode's state does not allow
    │   ├── ResetNeeded        step() before reset()
    │   └── EpisodeFinished    step() after done
    └── AgentUnavailable       an agent cannot act at all (e.g. its LLM endpoint is unreachable)
"""

from __future__ import annotations


class PythonEnvError(Exception):
    """Base of every error raised by python_env."""


class ConfigError(PythonEnvError):
    """A setting or environment variable has an invalid value."""


class TaskError(PythonEnvError):
    """A task could not be found or loaded."""


class TaskNotFound(TaskError, IndexError):
    """No task matches the id, split, index or filters given."""


class InvalidTask(TaskError):
    """A task's files do not follow docs/task-format.md."""


class SandboxError(PythonEnvError):
    """The sandbox failed for reasons unrelated to the candidate code."""


class ExecutorOverloaded(SandboxError):
    """No sandbox worker took the job within the queue timeout; the job must be retried."""


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


class AgentUnavailable(PythonEnvError):
    """The agent cannot act at all (e.g. its LLM endpoint is unreachable): stop the whole run."""
