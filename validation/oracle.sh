#!/bin/sh
# The oracle OpenEnv's semantic.oracle_max asks for: the answer-key agent (python_env.agents.oracle)
# on every curated task, graded by a python_env server; its mean score is 1.0, the top of the
# score range. Usage: validation/oracle.sh [URL]   (default: start a server on 127.0.0.1)
set -eu
out=${TMPDIR:-/tmp}/python-env-oracle.json
python-env eval --agent oracle --split curated ${1:+--url "$1"} --no-plot --quiet --force --out "$out"
