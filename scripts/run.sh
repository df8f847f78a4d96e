#!/usr/bin/env bash
# Set everything up (idempotent) and start the chat app on http://localhost:8000
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
exec .venv/bin/chainlit run app.py --host "${RAGSTAGE_HOST:-127.0.0.1}" --port "${RAGSTAGE_PORT:-8000}" "$@"
