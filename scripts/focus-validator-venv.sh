#!/usr/bin/env bash
# Create (once) a virtual environment holding the FinOps Foundation FOCUS validator, and run it.
#
#   scripts/focus-validator-venv.sh setup            create the venv if needed; print its bin dir
#   scripts/focus-validator-venv.sh run DATA OUT [CRITERIA]
#                                                    validate DATA (Parquet or CSV) against FOCUS
#                                                    1.2 offline, writing JUnit XML to OUT
#
# focus-validator needs Python >= 3.12 while Fintropy runs on 3.11, so the validator lives in its
# own venv under the cache dir (FINTROPY_CACHE_DIR, else $XDG_CACHE_HOME/fintropy, else
# ~/.cache/fintropy). The interpreter is the first of: $FOCUS_VALIDATOR_PYTHON, then for 3.12
# and then 3.13: pythonX.Y on PATH, a pyenv-installed X.Y, uv's installed X.Y (never a
# download), /usr/bin/pythonX.Y.
# Only PyPI is used for packages. Exit code 3 means no Python >= 3.12 could be found.
#
# Installation notes (focus-validator 2.2.1):
# - pyarrow is pinned below 18: newer wheels need NumPy 2 while the validator pins NumPy 1.x,
#   and `import pyarrow` then fails.
# - the validator opens focus_validator/rules/currency_codes.csv by a relative path, so `run`
#   changes into site-packages first.
set -euo pipefail

VALIDATOR_VERSION="2.2.1"
CACHE_ROOT="${FINTROPY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fintropy}"
VENV="$CACHE_ROOT/focus-validator-$VALIDATOR_VERSION"
READY="$VENV/.ready"

is_py312() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  # 3.12 first: the validator's NumPy 1.x pin has wheels for 3.12 but must compile on 3.13.
  local candidates=()
  [[ -n "${FOCUS_VALIDATOR_PYTHON:-}" ]] && candidates+=("$FOCUS_VALIDATOR_PYTHON")
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  for minor in 3.12 3.13; do
    command -v "python$minor" >/dev/null 2>&1 && candidates+=("$(command -v "python$minor")")
    if [[ -d "$pyenv_root/versions" ]]; then
      for dir in $(ls -1 "$pyenv_root/versions" | grep "^$minor" | sort -rV); do
        candidates+=("$pyenv_root/versions/$dir/bin/python$minor")
      done
    fi
    if command -v uv >/dev/null 2>&1; then
      local found
      found="$(uv python find --no-python-downloads "==$minor.*" 2>/dev/null || true)"
      [[ -n "$found" ]] && candidates+=("$found")
    fi
    candidates+=("/usr/bin/python$minor")
  done
  for candidate in "${candidates[@]}"; do
    if [[ -x "$candidate" ]] && is_py312 "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

setup() {
  if [[ -f "$READY" && -x "$VENV/bin/focus-validator" ]]; then
    echo "$VENV/bin"
    return 0
  fi
  local python
  if ! python="$(find_python)"; then
    echo "focus-validator needs Python >= 3.12 and none was found (tried \$FOCUS_VALIDATOR_PYTHON," \
      "python3.13/python3.12 on PATH, pyenv versions, uv python find, /usr/bin/python3.12)." \
      "Install one (for example 'pyenv install 3.12' or Debian's python3.12 where available)" \
      "or set FOCUS_VALIDATOR_PYTHON." >&2
    exit 3
  fi
  rm -rf "$VENV"
  mkdir -p "$CACHE_ROOT"
  "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "focus-validator==$VALIDATOR_VERSION" "pyarrow<18" >&2
  "$VENV/bin/python" -c 'import pyarrow, focus_validator' >&2
  touch "$READY"
  echo "$VENV/bin"
}

run() {
  local data="$1" out="$2" criteria="${3:-}"
  local bin site
  bin="$(setup)"
  site="$("$bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  data="$(realpath "$data")"
  out="$(realpath -m "$out")"
  local args=(--data-file "$data" --validate-version 1.2 --block-download
    --output-type unittest --output-destination "$out")
  [[ -n "$criteria" ]] && args+=(--applicability-criteria "$criteria")
  (cd "$site" && "$bin/focus-validator" "${args[@]}")
}

case "${1:-setup}" in
  setup) setup ;;
  run)
    [[ $# -ge 3 ]] || { echo "usage: $0 run DATA OUT [CRITERIA]" >&2; exit 2; }
    run "$2" "$3" "${4:-}"
    ;;
  *) echo "usage: $0 setup | run DATA OUT [CRITERIA]" >&2; exit 2 ;;
esac
