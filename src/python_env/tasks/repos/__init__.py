"""Repository tasks: bugs injected into real open-source Python projects (SWE-smith style).

At build time (never while serving) a pinned project's sdist is fetched from PyPI and verified
(``fetch``), its package and test suite read as text (``extract_snapshot``), bugs are injected into
its modules, and a mutant is kept only when the project's own tests kill it. ``projects`` lists
the pinned projects with their licences and the train/test split.
"""
