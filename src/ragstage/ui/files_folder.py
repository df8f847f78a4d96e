"""Give this server process its own folder for Chainlit's session files.

Chainlit keeps uploads and element contents under `<app>/.files/` and deletes that whole
folder when a server stops. Two servers started from one project folder (a demo and a test
run, or the test suite's servers) would delete each other's files mid-answer. A private
temporary folder per process keeps them apart; Chainlit still deletes it at shutdown.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType


def use_private_files_folder(config: ModuleType, server: ModuleType) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ragstage-chainlit-files-"))
    config.FILES_DIRECTORY = folder  # read by chainlit.session at every use
    server.FILES_DIRECTORY = folder  # deleted by chainlit.server at shutdown
    return folder


def ensure_files_folder(config: ModuleType) -> None:
    """Recreate the folder if something removed it, rather than failing every element."""
    Path(config.FILES_DIRECTORY).mkdir(parents=True, exist_ok=True)
