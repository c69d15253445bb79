#!/usr/bin/env bash
# A Python venv with the packages pinned in a requirements file, kept between runs and
# reinstalled when that file changes. Prints the venv's Python. Usage:
#   bash scripts/python-venv.sh VENV_DIR REQUIREMENTS_FILE     (paths from the repository root)
# Installs Debian's python3-venv when Python or its venv module is missing (needs root).
# Everything but that path goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1
requirements=$2

if [ ! -x "$venv/bin/pip" ]; then
  # Debian's python3 lacks ensurepip until python3-venv is installed.
  if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
  fi
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
fi
installed="$venv/requirements.installed"
if ! cmp -s "$requirements" "$installed"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$installed"
fi
echo "$PWD/$venv/bin/python"
