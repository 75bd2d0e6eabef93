"""Task generator: known issues injected into correct code from offline corpora.

Modules: ``corpora`` (sources from installed packages), ``injectors`` (one module per family,
registered by name), ``compose`` (candidates and answer-key spans), ``batch`` and ``validate``
(the sandbox and analyzer oracles), ``build``/``select``/``texts`` (per-source pipeline and task
records), ``dataset`` (files, manifest, lazy loading) and ``runner`` (parallel, reproducible
generation). Importing this package is cheap: heavy modules load only when used.
"""
