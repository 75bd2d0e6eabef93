"""The open-source projects that repository tasks are built from, pinned by version and sdist hash.

Pure data: importing this module does no I/O. Each project qualifies by the rules below (checked
by ``scripts/survey_repos.py``, which fetches every sdist and runs its tests):

* a permissive licence (MIT, BSD, Apache-2.0, ISC, PSF; never GPL, LGPL or MPL);
* pure Python, importable with the standard library alone on Python 3.11 (optional accelerators
  such as C extensions or third-party backends are absent and the pure code is what runs);
* the sdist ships the test suite, and plain ``pytest`` runs it (no plugins, no network) in well
  under 20 s on two cores; test files needing anything else are listed in ``excluded_tests``;
* a real package: several modules, at least 500 lines, several dozen tests.

The split is per project: a ``test`` project is never seen in training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from python_env.tasks.repo_task import ProjectRef

Split = Literal["train", "test"]
PERMISSIVE = frozenset(
    {"MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "PSF-2.0", "0BSD", "Unlicense"}
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ExcludedTest:
    """A test file, directory or node id left out of a project's run, and why.

    A path (no ``::``) is passed to pytest as ``--ignore``, a node id as ``--deselect``; pytest
    deselects every test whose node id starts with it (``f::test_a`` also drops ``f::test_ab``).
    """

    target: str
    reason: str

    @property
    def is_node_id(self) -> bool:
        """Whether ``target`` names tests inside a file (``path::name``) rather than a path."""
        return "::" in self.target


@dataclass(frozen=True)
class Project:
    """One pinned open-source project: where its sdist is, what to read from it, its licence.

    Paths are POSIX paths relative to the sdist's top directory (``name-version/``).
    ``package_dir`` is the importable package (a directory, or one ``.py`` module); its parent
    directory goes on ``PYTHONPATH`` when the tests run. ``attribution`` is the copyright line as
    the project's LICENSE states it.
    """

    name: str  # the PyPI name
    version: str
    licence: str  # SPDX identifier (the option used, for a dual-licensed project)
    sdist_url: str
    sha256: str
    package_dir: str
    test_paths: tuple[str, ...]
    excluded_tests: tuple[ExcludedTest, ...]
    split: Split
    attribution: str
    homepage: str

    def __post_init__(self) -> None:
        if self.licence not in PERMISSIVE:
            raise ValueError(f"{self.name}: licence {self.licence!r} is not a permissive one")
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"{self.name}: sha256 must be 64 lowercase hex digits")
        if self.split not in ("train", "test"):
            raise ValueError(f"{self.name}: split must be 'train' or 'test', not {self.split!r}")
        if not self.sdist_url.endswith(".tar.gz"):
            raise ValueError(f"{self.name}: the sdist must be a .tar.gz")
        for path in (self.package_dir, *self.test_paths):
            if not path or path.startswith("/") or ".." in path.split("/") or "\\" in path:
                raise ValueError(f"{self.name}: {path!r} is not a relative POSIX path")
        if not self.test_paths:
            raise ValueError(f"{self.name}: no test paths")

    @property
    def ref(self) -> ProjectRef:
        """A task's reference to this release: name, version, licence, attribution, where from."""
        return ProjectRef(
            name=self.name,
            version=self.version,
            licence=self.licence,
            attribution=self.attribution,
            url=self.sdist_url,
        )

    @property
    def sdist_filename(self) -> str:
        """The file name of the sdist (the last part of its URL)."""
        return self.sdist_url.rsplit("/", 1)[-1]

    @property
    def import_root(self) -> str:
        """The directory (relative to the sdist's top) that goes on ``PYTHONPATH``; ``""`` for the
        top itself."""
        return self.package_dir.rstrip("/").rpartition("/")[0]


def _files(path: str) -> str:
    return f"https://files.pythonhosted.org/packages/{path}"


def _needs(module: str) -> str:
    return f"imports {module}, which is not part of the standard library or pytest"


_NOT_UTF8 = "reads a test data file that is not UTF-8, which the text snapshot leaves out"


PROJECTS: tuple[Project, ...] = (
    Project(
        name="boltons",
        version="26.2.0",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "71/56/14c4a4931910a81ddeccfbe227925ea738e3c445d3e2af960f0bcbba1616/boltons-26.2.0.tar.gz"
        ),
        sha256="d39cfd15c1a1c3bd4d705c82252fa9edb8e4f5e8cc039f8e39afac7b1b47e92c",
        package_dir="boltons",
        test_paths=("tests",),
        excluded_tests=(),
        split="train",
        attribution="Copyright (c) 2013, Mahmoud Hashemi",
        homepage="https://github.com/mahmoud/boltons",
    ),
    Project(
        name="cachetools",
        version="8.0.2",
        licence="MIT",
        sdist_url=_files(
            "75/28/eb1ac766e4c0c439506a654186de8e2cfcd99035218a9393986103a0fdf0/cachetools-8.0.2.tar.gz"
        ),
        sha256="30ac523adfc118b51d2b2e7bad8a0ddb31370dfe2700c7f10ca224f36ccf81e0",
        package_dir="src/cachetools",
        test_paths=("tests",),
        excluded_tests=(),
        split="test",
        attribution="Copyright (c) 2014-2026 Thomas Kemmer",
        homepage="https://github.com/tkem/cachetools",
    ),
    Project(
        name="isodate",
        version="0.7.2",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "54/4d/e940025e2ce31a8ce1202635910747e5a87cc3a6a6bb2d00973375014749/isodate-0.7.2.tar.gz"
        ),
        sha256="4cd1aa0f43ca76f4a6c6c0292a85f40b35ec2e43e315b59f06e6d32171a953e6",
        package_dir="src/isodate",
        test_paths=("tests",),
        excluded_tests=(),
        split="test",
        attribution=(
            "Copyright (c) 2021, Hugo van Kemenade and contributors; "
            "Copyright (c) 2009-2018, Gerhard Weis and contributors; "
            "Copyright (c) 2009, Gerhard Weis"
        ),
        homepage="https://github.com/gweis/isodate",
    ),
    Project(
        name="mistune",
        version="3.4.0",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "96/eb/749a4e69bf7396e751ae37444abe997eff2254e695a8095b84d1c89c1181/mistune-3.4.0.tar.gz"
        ),
        sha256="2eaf7952af928ca8d33b779762effc1da517b62c6ad85ec8ca957e3b07b9782a",
        package_dir="src/mistune",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest(
                "tests/test_misc.py::TestMiscCases::test_project_script_entrypoint",
                "reads pyproject.toml, which is not part of the snapshot",
            ),
        ),
        split="train",
        attribution="Copyright (c) 2014, Hsiaoming Yang",
        homepage="https://github.com/lepture/mistune",
    ),
    Project(
        name="sqlparse",
        version="0.6.1",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "7e/e0/361c764ea58cc1a75f7b4b424a74b08449db8bfa5e9199c7275999fdd1b9/sqlparse-0.6.1.tar.gz"
        ),
        sha256="ca722573f848ff2d30e40ea30f53a104b7dea7635ea9285891263eb2c58fb6e7",
        package_dir="sqlparse",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest(
                "tests/test_cli.py::test_encoding",
                _NOT_UTF8 + " (test_encoding and the gbk cases of test_encoding_stdout, "
                "_output_file and _stdin); pytest deselects by node-id prefix, so their 3 UTF-8 "
                "cases go too",
            ),
            ExcludedTest("tests/test_regressions.py::test_format_accepts_encoding", _NOT_UTF8),
        ),
        split="test",
        attribution="Copyright (c) 2016, Andi Albrecht <albrecht.andi@gmail.com>",
        homepage="https://github.com/andialbrecht/sqlparse",
    ),
    Project(
        name="toolz",
        version="1.2.0",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "31/6f/ae20c212a07aa2d156c787383d8088a5e045ee39628661edb190c97e1659/toolz-1.2.0.tar.gz"
        ),
        sha256="9667a038e9d6ecba37995e26cb2f59ec6420b6ad8dd9677de59db9b956b08490",
        package_dir="toolz",
        test_paths=("toolz/tests", "toolz/sandbox/tests"),
        excluded_tests=(
            ExcludedTest(
                "toolz/tests/test_tlz.py",
                "tests tlz, a sibling package in the sdist outside the package directory",
            ),
            ExcludedTest(
                "toolz/tests/test_package.py::test_has_version",
                "reads the installed distribution's metadata; the snapshot is not installed",
            ),
        ),
        split="train",
        attribution="Copyright (c) 2013 Matthew Rocklin",
        homepage="https://github.com/pytoolz/toolz",
    ),
    Project(
        name="semver",
        version="3.1.2",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "ec/a0/3d3f51a1304c0e8c93e06a23308f566f2d52d62f92dac903b85ef79dea6f/semver-3.1.2.tar.gz"
        ),
        sha256="bea193552413194252d33ff26ce0962b76669bd1c6fb17e8e203ac37f072feaf",
        package_dir="src/semver",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest(
                "tests/test_optional_native_backend.py::"
                "test_optional_backend_is_available_without_changing_public_objects",
                _needs("fast_semver_rs_backend (the optional native backend)"),
            ),
        ),
        split="train",
        attribution="Copyright (c) 2013, Konstantine Rybnikov",
        homepage="https://github.com/python-semver/python-semver",
    ),
    Project(
        name="simplejson",
        version="4.3.0",
        licence="MIT",  # dual-licensed MIT OR AFL-2.1; used under MIT
        sdist_url=_files(
            "8c/c1/33e537d655a55e983c247cd794378d8206228621f1420f889f4643315adc/simplejson-4.3.0.tar.gz"
        ),
        sha256="ffe34ab51a0d37e6d1c661a5672df00d2d5e18804e38eac07abffb83fa5ec3d7",
        package_dir="simplejson",
        test_paths=("simplejson/tests",),
        excluded_tests=(),
        split="train",
        attribution="Copyright (c) 2006 Bob Ippolito",
        homepage="https://github.com/simplejson/simplejson",
    ),
    Project(
        name="webcolors",
        version="25.10.0",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "1d/7a/eb316761ec35664ea5174709a68bbd3389de60d4a1ebab8808bfc264ed67/webcolors-25.10.0.tar.gz"
        ),
        sha256="62abae86504f66d0f6364c2a8520de4a0c47b80c03fc3a5f1815fedbef7c19bf",
        package_dir="src/webcolors",
        test_paths=("tests",),
        excluded_tests=(),
        split="train",
        attribution="Copyright (c) James Bennett, and contributors.",
        homepage="https://github.com/ubernostrum/webcolors",
    ),
    Project(
        name="more-itertools",
        version="11.2.1",
        licence="MIT",
        sdist_url=_files(
            "52/b8/c63995bebbb9ac9c059350e0fb8c82c2420c85aeca7d34e40aecf3df9281/"
            "more_itertools-11.2.1.tar.gz"
        ),
        sha256="cbf08fd0af284dc69718b9b76a8e6203df624d70209ea511e4219d350c856f63",
        package_dir="more_itertools",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest("tests/test_recipes.py::PrimeFunctionTests", "slow (over 30 s)"),
            ExcludedTest("tests/test_more.py::DiscreteFourierTransformTests", "slow (4 s)"),
            ExcludedTest("tests/test_more.py::TestConcurrentTee", "slow (3 s), threads"),
            ExcludedTest("tests/test_more.py::TestSerialize", "slow (2 s), threads"),
            ExcludedTest("tests/test_recipes.py::PolynomialFromRootsTests::test_large", "slow"),
            ExcludedTest("tests/test_more.py::ExtractTests::test_all_orderings", "slow"),
        ),
        split="train",
        attribution="Copyright (c) 2012 Erik Rose",
        homepage="https://github.com/more-itertools/more-itertools",
    ),
    Project(
        name="asteval",
        version="1.0.10",
        licence="MIT",
        sdist_url=_files(
            "65/9a/e10e062c83de2219c5f9ef9d684dac39323c052de140e257afd0f60f8ca7/asteval-1.0.10.tar.gz"
        ),
        sha256="46a4ed13cc2e4a29a21418f89dedd57db70d98eb96db0fb4c441d4edb2f5afed",
        package_dir="asteval",
        test_paths=("tests",),
        excluded_tests=(),
        split="train",
        attribution="Copyright (c) 2026 Matthew Newville, The University of Chicago",
        homepage="https://github.com/lmfit/asteval",
    ),
    Project(
        name="itsdangerous",
        version="2.2.0",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "9c/cb/8ac0172223afbccb63986cc25049b154ecfb5e85932587206f42317be31d/"
            "itsdangerous-2.2.0.tar.gz"
        ),
        sha256="e0050c0b7da1eea53ffaf149c0cfbb5c6e2e2b69c4bef22c81fa6eb73e5f6173",
        package_dir="src/itsdangerous",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest("tests/test_itsdangerous/test_timed.py", _needs("freezegun")),
            ExcludedTest(
                "tests/test_itsdangerous/test_url_safe.py",
                "imports test_timed.py (which needs freezegun)",
            ),
        ),
        split="train",
        attribution="Copyright 2011 Pallets",
        homepage="https://github.com/pallets/itsdangerous",
    ),
    Project(
        name="tabulate",
        version="0.10.0",
        licence="MIT",
        sdist_url=_files(
            "46/58/8c37dea7bbf769b20d58e7ace7e5edfe65b849442b00ffcdd56be88697c6/tabulate-0.10.0.tar.gz"
        ),
        sha256="e2cfde8f79420f6deeffdeda9aaec3b6bc5abce947655d17ac662b126e48a60d",
        package_dir="tabulate",
        test_paths=("test",),
        excluded_tests=(
            ExcludedTest(
                "test/test_cli.py",
                "runs the tabulate command line in a subprocess; none of its tests passes in "
                "the sandbox",
            ),
        ),
        split="train",
        attribution="Copyright (c) 2011-2020 Sergey Astanin and contributors",
        homepage="https://github.com/astanin/python-tabulate",
    ),
    Project(
        name="parse",
        version="1.22.4",
        licence="MIT",
        sdist_url=_files(
            "9e/0f/4bada23d2848aaa61f3577181dbd83895fa49fb9beb406835ed7eaca1b96/parse-1.22.4.tar.gz"
        ),
        sha256="706d458feed5a81b02768d3156e8070baf6cee7d150a3a3c0cd43101a875c3b5",
        package_dir="parse",
        test_paths=("tests",),
        excluded_tests=(),
        split="train",
        attribution="Copyright (c) 2012-2019 Richard Jones <richard@python.org>",
        homepage="https://github.com/r1chardj0n3s/parse",
    ),
    Project(
        name="schema",
        version="0.7.8",
        licence="MIT",
        sdist_url=_files(
            "fb/2e/8da627b65577a8f130fe9dfa88ce94fcb24b1f8b59e0fc763ee61abef8b8/schema-0.7.8.tar.gz"
        ),
        sha256="e86cc08edd6fe6e2522648f4e47e3a31920a76e82cce8937535422e310862ab5",
        package_dir="schema",
        test_paths=("test_schema.py",),
        excluded_tests=(),
        split="test",
        attribution="Copyright (c) 2012 Vladimir Keleshev, <vladimir@keleshev.com>",
        homepage="https://github.com/keleshev/schema",
    ),
    Project(
        name="six",
        version="1.17.0",
        licence="MIT",
        sdist_url=_files(
            "94/e7/b2c673351809dca68a0e064b6af791aa332cf192da575fd474ed7d6f16a2/six-1.17.0.tar.gz"
        ),
        sha256="ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81",
        package_dir="six.py",
        test_paths=("test_six.py",),
        excluded_tests=(),
        split="train",
        attribution="Copyright (c) 2010-2024 Benjamin Peterson",
        homepage="https://github.com/benjaminp/six",
    ),
    Project(
        name="jsonpickle",
        version="4.1.4",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "c2/37/95fb728a57b0b17864041daea006bbedd9765e8030755e4ca84ba20ae137/"
            "jsonpickle-4.1.4.tar.gz"
        ),
        sha256="8adf24cca611809b55ff5ed2ace850e1a3e4370dad5d363df71569b8f46c9645",
        package_dir="jsonpickle",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest("tests/jsonpickle_test.py::test_load_backend", _needs("simplejson")),
            ExcludedTest(
                "tests/jsonpickle_test.py::test_warnings",
                "expects exactly one warning but also records jsonpickle's FutureWarning about "
                "the keys default (two warnings in the survey)",
            ),
        ),
        split="train",
        attribution=(
            "Copyright (C) 2008 John Paulett (john -at- paulett.org); "
            "Copyright (C) 2009-2021 David Aguilar (davvid -at- gmail.com)"
        ),
        homepage="https://github.com/jsonpickle/jsonpickle",
    ),
    Project(
        name="pycparser",
        version="3.12",
        licence="BSD-3-Clause",
        sdist_url=_files(
            "cb/27/eeb9f307bf07060f3d9f9aa0fb8c15b01bdfded0a941e4b2719c7f94cacd/"
            "pycparser-3.12.tar.gz"
        ),
        sha256="f03387877eab82ce01bbdfd0ba7252ee55a90b1c708d5129e2ce915475cf1db6",
        package_dir="pycparser",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest(
                "tests/test_examples.py",
                "runs the scripts in examples/, which is not part of the snapshot",
            ),
            ExcludedTest(
                "tests/test_general.py::TestParsing::test_with_cpp",
                "runs the C preprocessor (cpp) with utils/fake_libc_include, which is not part "
                "of the snapshot",
            ),
            ExcludedTest(
                "tests/test_general.py::TestParsing::test_c11_with_cpp",
                "runs the C preprocessor (cpp) with utils/fake_libc_include, which is not part "
                "of the snapshot",
            ),
            ExcludedTest(
                "tests/test_general.py::TestParsing::test_va_arg_preserves_type",
                "runs the C preprocessor (cpp) with utils/fake_libc_include, which is not part "
                "of the snapshot",
            ),
        ),
        split="train",
        attribution="Copyright (c) 2008-2027, Eli Bendersky",
        homepage="https://github.com/eliben/pycparser",
    ),
    Project(
        name="validators",
        version="0.36.0",
        licence="MIT",
        sdist_url=_files(
            "7b/3f/4fe7905f73ba0e768baa102a09ba9458f2f0bb4a676102e1fd7a3cb55c2b/"
            "validators-0.36.0.tar.gz"
        ),
        sha256="92ad9ed00bbed320b784cec0ea90b213cf08904cf605b3d0852cfa4108e32a2c",
        package_dir="src/validators",
        test_paths=("tests",),
        excluded_tests=(
            ExcludedTest(
                "tests/crypto_addresses/test_eth_address.py",
                _needs("eth_hash (the crypto-eth-addresses extra)"),
            ),
        ),
        split="train",
        attribution="Copyright (c) 2013 - 2026 Konsta Vesterinen",
        homepage="https://github.com/python-validators/validators",
    ),
    Project(
        name="pyjwt",
        version="2.15.1",
        licence="MIT",
        sdist_url=_files(
            "43/ea/5194e52748b0da83d71e082d75496eaec6e58f419f5e184786ded517e6a9/pyjwt-2.15.1.tar.gz"
        ),
        sha256="4f259e80cdfb6b3fc18a7de51fd1ef9ec79652f25019bae68975ca2468a34df8",
        package_dir="jwt",
        test_paths=("tests",),
        excluded_tests=(),
        split="test",
        attribution="Copyright (c) 2015-2022 José Padilla",
        homepage="https://github.com/jpadilla/pyjwt",
    ),
)
