#!/usr/bin/env bash
# `make test-other-python`: the unit tests and lessons 00-02 (both languages) on a second Python,
# when this machine has one (3.13 or 3.12 besides the 3.11 of .venv: Debian 13's apt python3.13,
# or one that pyenv installed). Those need no torch, tensorflow, xgboost or Spark, which are left
# out of that environment (a torch for another Python would be a multi-GB CUDA download here);
# the unit tests that need them skip there. Where no other Python exists, it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
main_minor=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

candidates=(python3.13 python3.12)
if command -v pyenv >/dev/null 2>&1; then
  for v in 3.13 3.12; do
    for p in "$(pyenv root)"/versions/"$v"*/bin/python"$v"; do [ -x "$p" ] && candidates+=("$p"); done
  done
fi
other=""
for p in "${candidates[@]}"; do
  minor=$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  [ "$minor" != "$main_minor" ] && "$p" tools/check_python.py >/dev/null 2>&1 && { other=$p; break; }
done
if [ -z "$other" ]; then
  echo "test-other-python: no Python 3.12 or 3.13 besides .venv's $main_minor on this machine;" \
       "the unit tests and lessons ran on $main_minor only (skipped, not failed)."
  exit 0
fi

version=$("$other" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
venv=".venv-py${version%.*}"
echo "test-other-python: Python $version ($other) in $venv"
light=$(mktemp)
# Everything pinned except the deep-learning, XGBoost and Spark stacks (lessons 00-02 need none).
grep -v -E '^(torch|tensorflow|tensorflow-cpu|keras|xgboost|xgboost-cpu|pyspark)==' requirements.txt > "$light"
stamp="$venv/.course-installed"
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ] \
   || [ pyproject.toml -nt "$stamp" ]; then
  "$other" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade "pip>=24"
  "$venv/bin/python" -m pip install --quiet -r "$light" -c constraints.txt
  "$venv/bin/python" -m pip install --quiet --no-deps -e .
  touch "$stamp"
fi
rm -f "$light"
# The Makefile runs this under $(TEST_ENV): small data, a local cluster, default warnings.
# The platform, Binder and external-cluster checks don't depend on the interpreter: run once, in .venv.
"$venv/bin/python" -m pytest tests -q -p no:cacheprovider -rs --ignore=tests/browser \
  --ignore=tests/external_cluster --ignore=tests/test_platforms.py --ignore=tests/test_binder.py
"$venv/bin/python" -m pytest -q $NBVAL_ARGS notebooks/es/0[0-2]_*.ipynb notebooks/en/0[0-2]_*.ipynb
