#!/usr/bin/env bash
# The Python venv for the SDK tests (server/tests/sdk/): the official openai and anthropic
# packages pinned in requirements.txt, in .venv-sdk/ (see scripts/python-venv.sh). Prints the
# venv's Python, the value for LLM_PROXY_SDK_PYTHON:
#   export LLM_PROXY_SDK_PYTHON=$(bash scripts/sdk-venv.sh)
set -euo pipefail
exec bash "$(dirname "$0")/python-venv.sh" .venv-sdk server/tests/sdk/requirements.txt
