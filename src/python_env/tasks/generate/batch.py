"""One sandbox job per source runs the original and every candidate mutant on the same probes.

The job's test module draws probe inputs (from the source's seeded input generator, or its fixed
probe list), keeps those the original handles cleanly, then loads each candidate as a fresh
``solution`` module, once for the visible probes and once for the hidden ones, exactly as the
grader's two suites would, and reports one digest per probe: the hash of the harness-normalised
return value, or the exception's type. Candidates 0 and 1 are both the original (a determinism
check). A candidate that crashes the job is marked and the job resumes after it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

from python_env.sandbox import Executor, Job, Limits, harness
from python_env.types import ExitReason, TestOutcome, TestStatus

LIMIT_S = 0.5  # CPU seconds one call may take before it counts as "slow"
MAX_INPUT_CHARS = 600
MAX_OUTPUT_CHARS = 20_000
BENCH_DRAWS, BENCH_KEEP, MAX_BENCH_INPUT = 24, 3, 3_000  # larger inputs for benchmark()
MAX_PROBE_MS = 40.0  # the original's slowest probe; a slower source is dropped
REPLAY_DRAWS = 3  # inputs drawn twice from the same seed: they must be equal
JOB_LIMITS = Limits(cpu_seconds=30.0, wall_seconds=90.0, memory_mb=768)
_RETRIES = 3

_PRELUDE = """
import ast, copy, hashlib, json, keyword, math, random as _random, re, signal, sys, time, types
from random import Random
from typing import Any

_DATA = json.loads(%(data)r)
_ADDRESS = re.compile(%(address)r)
_MAX_ITEMS = %(max_items)r
_MAX_DEPTH = %(max_depth)r

%(normalise)s

%(sort_key)s

%(canonical)s
"""

_BODY = """
class _Slow(BaseException):
    pass


def _alarm(signum, frame):
    raise _Slow()


try:
    signal.signal(signal.SIGPROF, _alarm)
    _GUARD = True
except (ValueError, OSError, AttributeError):
    _GUARD = False


_LIMIT = [_DATA["limit"]]


def _call(fn, *args, **kwargs):
    if _GUARD:
        signal.setitimer(signal.ITIMER_PROF, _LIMIT[0])
    try:
        return fn(*args, **kwargs)
    finally:
        if _GUARD:
            signal.setitimer(signal.ITIMER_PROF, 0)


_CODE = {}


def _load(index):
    if index not in _CODE:
        _CODE[index] = compile(_DATA["candidates"][index], "solution.py", "exec")
    module = types.ModuleType("solution")
    module.__file__ = "solution.py"
    sys.modules["solution"] = module
    _call(exec, _CODE[index], module.__dict__)
    return module


def _digest(value):
    data = json.dumps(canonical(normalise(value)), sort_keys=True)
    if len(data) > _DATA["max_output"]:
        return "big"
    return hashlib.sha1(data.encode()).hexdigest()[:16]


_NULL = _digest(None)


def _outcome(module, probe):
    args, kwargs = probe
    try:
        fn = getattr(module, _DATA["entry"])
        return _call(lambda: _digest(fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))))
    except _Slow:
        return "slow"
    except (MemoryError, RecursionError) as exc:
        return "~" + type(exc).__name__
    except BaseException as exc:
        return "!" + type(exc).__name__


_PROBES = []
_NVIS = [0]


def _valid(probe):
    if not (isinstance(probe, tuple) and len(probe) == 2):
        return False
    args, kwargs = probe
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        return False
    return all(isinstance(k, str) and k.isidentifier() and not keyword.iskeyword(k) for k in kwargs)


def test_0_probes():
    base = _load(0)
    if _DATA["fixed"] is not None:
        pool = iter([ast.literal_eval(p) for p in _DATA["fixed"]])
        draw = lambda: next(pool)
        attempts = len(_DATA["fixed"])
    else:
        _random.seed(_DATA["seed"])
        namespace = dict(vars(base))
        namespace["Random"] = Random
        exec(compile(_DATA["generator"], "generator.py", "exec"), namespace)
        rng = Random(_DATA["seed"])
        draw = lambda: ((), namespace["generate_inputs"](rng))
        attempts = _DATA["need"] * 4
    # Inputs drawn from secrets, os.urandom or the clock would change the tasks from one
    # generation to the next: draw the first few twice from the same seed and compare.
    replay = []
    if _DATA["fixed"] is None:
        for _ in range(_DATA["replay"]):
            try:
                replay.append(repr(_call(draw)))
            except BaseException as exc:
                replay.append(type(exc).__name__)
        _random.seed(_DATA["seed"])
        rng.seed(_DATA["seed"])
    seen, millis, rejected = set(), [], {}
    for attempt in range(attempts):
        try:
            probe = _call(draw)
        except StopIteration:
            break
        except _Slow:
            rejected["slow_generator"] = rejected.get("slow_generator", 0) + 1
            break
        except BaseException as exc:
            probe = exc
            if attempt >= len(replay):
                rejected["generator_error"] = rejected.get("generator_error", 0) + 1
                continue
        if attempt < len(replay) and replay[attempt] != (
            type(probe).__name__ if isinstance(probe, BaseException) else repr(probe)
        ):
            rejected["nondeterministic_inputs"] = 1
            _PROBES.clear()
            break
        if isinstance(probe, BaseException):
            rejected["generator_error"] = rejected.get("generator_error", 0) + 1
            continue
        text = repr(probe)
        if len(text) > _DATA["max_input"] or text in seen or not _valid(probe):
            rejected["input"] = rejected.get("input", 0) + 1
            continue
        try:
            if ast.literal_eval(text) != probe:
                raise ValueError
        except Exception:
            rejected["literal"] = rejected.get("literal", 0) + 1
            continue
        start = time.process_time()
        result = _outcome(base, probe)
        elapsed = (time.process_time() - start) * 1000
        if result[0] in "!~" or result in ("slow", "big", _NULL):
            rejected[result[:12]] = rejected.get(result[:12], 0) + 1
            continue
        seen.add(text)
        _PROBES.append(probe)
        millis.append(round(elapsed, 1))
        if len(_PROBES) >= _DATA["need"]:
            break
    bench = []
    if _DATA["fixed"] is None and _PROBES:
        for _ in range(_DATA["bench_draws"]):
            try:
                probe = _call(draw)
                text = repr(probe)
                if not _valid(probe) or len(text) > _DATA["max_bench_input"] or text in seen:
                    continue
                if ast.literal_eval(text) != probe:
                    continue
            except BaseException:
                continue
            result = _outcome(base, probe)
            if result[0] not in "!~" and result not in ("slow", "big", _NULL):
                seen.add(text)
                bench.append(text)
        bench = sorted(bench, key=lambda t: (-len(t), t))[: _DATA["bench_keep"]]
    if len(_PROBES) >= _DATA["nvis"] + _DATA["min_hidden"]:
        _NVIS[0] = _DATA["nvis"]
    if millis and (max(millis) > _DATA["max_ms"] or sum(millis) > 3 * _DATA["max_ms"]):
        _NVIS[0] = 0
        rejected["slow_source"] = 1
    # candidates may take 10x the original's slowest probe (at least 50 ms) before "slow"
    _LIMIT[0] = min(_DATA["limit"], max(0.05, max(millis, default=0) / 100))
    return json.dumps({"probes": [repr(p) for p in _PROBES], "ms": millis, "nvis": _NVIS[0],
                       "rejected": rejected, "bench": bench})


def _run(index):
    if not _NVIS[0]:
        return "{}"
    result = {}
    for suite, probes in (("v", _PROBES[: _NVIS[0]]), ("h", _PROBES[_NVIS[0] :])):
        if any(d == "slow" for digests in result.values() for d in digests):
            result[suite] = ["skip"] * len(probes)
            continue
        try:
            module = _load(index)
        except _Slow:
            result[suite] = ["slow"] * len(probes)
            continue
        except BaseException as exc:
            result[suite] = ["!import:" + type(exc).__name__] * len(probes)
            continue
        digests = []
        for probe in probes:
            digests.append(_outcome(module, probe))
            if digests[-1] == "slow":
                digests += ["skip"] * (len(probes) - len(digests))
                break
        result[suite] = digests
    return json.dumps(result)
"""


def _prelude(data: dict[str, object]) -> str:
    return _PRELUDE % {
        "data": json.dumps(data, sort_keys=True),
        "address": harness._ADDRESS.pattern,
        "max_items": harness._MAX_ITEMS,
        "max_depth": harness._MAX_DEPTH,
        "normalise": inspect.getsource(harness.normalise),
        "sort_key": inspect.getsource(harness._sort_key),
        "canonical": inspect.getsource(canonical),
    }


@dataclass
class BatchResult:
    """What the batch job(s) of one source found."""

    probes: list[str] = field(default_factory=list)  # repr((args, kwargs)) per probe
    nvis: int = 0  # the first ``nvis`` probes are visible, the rest hidden
    millis: list[float] = field(default_factory=list)  # original's CPU time per probe
    bench: list[str] = field(default_factory=list)  # extra, larger inputs for the benchmark
    rejected: dict[str, int] = field(default_factory=dict)
    runs: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # candidate -> suite
    crashed: set[int] = field(default_factory=set)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.nvis > 0 and 0 in self.runs and 1 in self.runs


def batch_module(
    candidates: list[str], indices: list[int], entry: str, seed: int, generator: str,
    fixed: list[str] | None, need: int, nvis: int, min_hidden: int,
) -> str:  # fmt: skip
    """The test module for one batch job over ``candidates[i] for i in indices``."""
    data = {
        "candidates": candidates, "entry": entry, "seed": seed, "generator": generator,
        "fixed": fixed, "need": need, "nvis": nvis, "min_hidden": min_hidden, "limit": LIMIT_S,
        "max_input": MAX_INPUT_CHARS, "max_output": MAX_OUTPUT_CHARS, "max_ms": MAX_PROBE_MS,
        "bench_draws": BENCH_DRAWS, "bench_keep": BENCH_KEEP, "max_bench_input": MAX_BENCH_INPUT,
        "replay": REPLAY_DRAWS,
    }  # fmt: skip
    tests = "".join(f"\n\ndef test_1_c{i:04d}():\n    return _run({i})\n" for i in indices)
    return _prelude(data) + _BODY + tests


def run_batch(
    executor: Executor, candidates: list[str], entry: str, seed: int, generator: str,
    fixed: list[str] | None, need: int, nvis: int, min_hidden: int,
) -> BatchResult:  # fmt: skip
    """Run every candidate (index 0 and 1 must be the original); resume after crashes."""
    result = BatchResult()
    pending = list(range(len(candidates)))
    probes = fixed
    for _ in range(_RETRIES + 1):
        module = batch_module(
            candidates, pending, entry, seed, generator, probes, need, nvis, min_hidden
        )
        report = executor.run(Job(solution="", tests=module, limits=JOB_LIMITS))
        first = report.outcome("test_0_probes")
        if first is None or first.status is not TestStatus.RETURNED:
            result.error = report.error or f"probe selection failed ({report.exit_reason.value})"
            return result
        if probes is None or probes is fixed:
            info = json.loads(first.value)
            result.probes = list(info["probes"])
            result.nvis = int(info["nvis"])
            result.millis = [float(m) for m in info["ms"]]
            result.bench = [str(b) for b in info.get("bench", [])]
            result.rejected = {str(k): int(v) for k, v in info["rejected"].items()}
        for index in pending:
            got = report.outcome(f"test_1_c{index:04d}")
            if got is not None and got.status is TestStatus.RETURNED:
                runs = json.loads(got.value)
                if runs:
                    result.runs[index] = {str(k): [str(d) for d in v] for k, v in runs.items()}
        missing = [i for i in pending if i not in result.runs]
        if report.exit_reason is ExitReason.OK or not missing or not result.nvis:
            return result
        result.crashed.add(missing[0])
        pending = missing[1:]
        probes = result.probes  # the resumed job re-checks exactly these probes
        if not pending:
            return result
    return result


def canonical(value: Any) -> Any:
    """Normalised data with the grader's notion of equality: outcomes are compared with ``==``,
    so ``True == 1`` and ``2.0 == 2``; the digest must not tell them apart either."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    return value


def digest(outcome: TestOutcome) -> str:
    """The batch module's digest of a harness outcome (for cross-checking real test files)."""
    if outcome.status is TestStatus.RAISED:
        return "!" + str(outcome.value)
    data = json.dumps(canonical(outcome.value), sort_keys=True)
    return hashlib.sha1(data.encode()).hexdigest()[:16]
