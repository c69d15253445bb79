#!/usr/bin/env bash
# The Python venv for the API contract test (server/tests/e2e/schemathesis.rs): schemathesis,
# pinned in server/tests/schemathesis/requirements.txt, in .venv-schemathesis/ (see
# scripts/python-venv.sh). Prints the venv's Python, the value for LLM_PROXY_SCHEMATHESIS_PYTHON:
#   export LLM_PROXY_SCHEMATHESIS_PYTHON=$(bash scripts/schemathesis-venv.sh)
set -euo pipefail
exec bash "$(dirname "$0")/python-venv.sh" .venv-schemathesis server/tests/schemathesis/requirements.txt
