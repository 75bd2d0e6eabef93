"""Mutants of a project: one injection of the bug or refactor family into one module of its
package.

Sites are sampled per module with a generator seeded by ``(seed, project, module path)``, so a
module yields the same mutants whatever else the project holds; a module's share grows with its
size (``module_cap``). The mutants of all modules are interleaved (the first of each module,
then the second, ...), so a cap on how many are tried spreads over the whole package.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst

from python_env.tasks.generate.build import _names, _sample, source_seed
from python_env.tasks.generate.compose import Candidate, Component, single
from python_env.tasks.generate.injectors import load_all
from python_env.tasks.generate.injectors.base import Scan, Site
from python_env.tasks.repos.suite import Baseline, Layout, definitions, module_of, top_name

MIN_PER_MODULE, MAX_PER_MODULE = 8, 400
LINES_PER_MUTANT = 10  # a module gets one more sampled site per this many non-blank lines
PER_INJECTOR = 16  # sites of one injector in one module, at most
# A kill check runs at most this many tests: a mutant of a big suite stays cheap (a mutant that
# breaks behaviour usually fails many tests). A count, not measured time: the same seed must
# choose the same tests on any machine.
MAX_KILL_TESTS = 300


@dataclass(frozen=True)
class Mutant:
    """One injected bug in one module of a project."""

    project: str  # the project's name
    module: str  # its path in the snapshot
    candidate: Candidate  # the mutated module (``code``), its original (``fix``), the span
    function: str  # the enclosing function's name ("" at module level)
    names: tuple[str, ...]  # names whose mention suggests a test file exercises the code
    key: str  # the site: injector, line, column and injected text

    @property
    def component(self) -> Component:
        """The single injected issue."""
        return self.candidate.components[0]

    @property
    def injector(self) -> str:
        """The injector's name."""
        return self.component.injector


def module_cap(code: str) -> int:
    """How many sites of a module to try: more for a larger module, within bounds."""
    lines = sum(1 for line in code.splitlines() if line.strip())
    return max(MIN_PER_MODULE, min(MAX_PER_MODULE, lines // LINES_PER_MUTANT))


def sample_mutants(
    layout: Layout,
    snapshot: Mapping[str, str],
    project: str,
    seed: int,
    skipped: Counter[str] | None = None,
) -> list[Mutant]:
    """Mutants of every module of the package, interleaved across modules; ``skipped`` counts
    modules that do not parse and sites whose injection is a no-op or does not compile."""
    load_all()
    injectors = _names("bug") + _names("refactor")
    skipped = Counter() if skipped is None else skipped
    per_module: list[list[Mutant]] = []
    for path in layout.modules(snapshot):
        code = snapshot[path]
        try:
            scan = Scan.of(code, "")
        except Exception:  # libcst's parser errors have no common base
            skipped["unparsable_module"] += 1
            continue
        rng = random.Random(source_seed(seed, f"{project}:{path}"))
        mutants: list[Mutant] = []
        seen: set[str] = set()
        for k, site in enumerate(_sample(scan, injectors, rng, PER_INJECTOR, module_cap(code))):
            mutant = _mutant(scan, project, path, site, f"m{k}")
            if mutant is None or mutant.candidate.code in seen:
                skipped["no_op_site"] += 1
                continue
            seen.add(mutant.candidate.code)
            mutants.append(mutant)
        per_module.append(mutants)
    depth = max((len(m) for m in per_module), default=0)
    return [m[d] for d in range(depth) for m in per_module if d < len(m)]


def _mutant(scan: Scan, project: str, path: str, site: Site, tag: str) -> Mutant | None:
    candidate = single(scan, site, tag)
    if candidate is None:
        return None
    func = scan.info(site.target).func
    above = scan.ancestors(func) if func else iter(())
    owner = next((a for a in above if isinstance(a, cst.ClassDef)), None)
    name = func.name.value if func else ""
    names: list[str] = []
    if name and not (name.startswith("__") and name.endswith("__")):
        names.append(name)
    elif owner is not None:
        names.append(owner.name.value)  # a dunder method: tests name its class
    start = site.lines[0]
    key = f"{site.injector}:{start}:{scan.column(site.target)}:{candidate.components[0].new}"
    return Mutant(project, path, candidate, name, tuple(names), key)


def candidate_tests(
    module_path: str,
    names: Sequence[str],
    baseline: Baseline,
    snapshot: Mapping[str, str],
    rng: random.Random,
) -> tuple[list[str], str]:
    """The tests worth running on a change to ``module_path`` in the code that ``names`` name
    (in baseline order) and how their modules were found: the modules that name that code (a
    cheap stand-in for coverage), else those that name its module, else all. Past
    ``MAX_KILL_TESTS``, the tests whose own code (function or class) names it come first, then
    the others, each group shuffled."""
    module = module_path.rsplit("/", 1)[-1].removesuffix(".py")
    if module == "__init__":
        module = module_path.rsplit("/", 2)[-2]
    files, tier = sorted(baseline.by_file), "all"
    for kind, wanted in (("function", names), ("module", (module,))):
        found = [f for f in files if wanted and _naming(wanted).search(snapshot[f])]
        if found:
            files, tier = found, kind
            break
    ids = baseline.ids(files)
    if len(ids) <= MAX_KILL_TESTS:
        return ids, tier
    pattern = _naming(names or (module,))
    direct = [
        i for i in ids if pattern.search(definitions(snapshot[module_of(i)]).get(top_name(i), ""))
    ]
    named = set(direct)
    others = [i for i in ids if i not in named]
    rng.shuffle(direct)
    rng.shuffle(others)
    keep = set([*direct, *others][:MAX_KILL_TESTS])
    return [i for i in ids if i in keep], tier


def _naming(names: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b")
