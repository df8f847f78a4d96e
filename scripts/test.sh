#!/usr/bin/env bash
# Set everything up (idempotent, browser included) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py --test
exec .venv/bin/python -m pytest "$@"
