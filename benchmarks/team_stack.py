"""A whole team server on one machine, for tests and the load benchmark: a throwaway PostgreSQL
cluster, several `chainlit run app.py` instances and an nginx in front of them (the site from
scripts/team_nginx.py), each on a free 127.0.0.1 port, all stopped at the end.

PostgreSQL and nginx come from Debian (`scripts/setup.py --test` installs them as root);
`missing_servers()` says what is absent so callers can skip with a reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from team_nginx import nginx_site  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing_servers() -> list[str]:
    missing = [] if Path(NGINX).exists() else ["nginx"]
    if PG_BIN is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        missing.append("postgresql")
    return missing


def _as_postgres_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A fresh cluster with a `ragstage` database; yields its `postgresql+asyncpg` URL."""
    assert PG_BIN is not None, "no PostgreSQL server binaries"
    # not under pytest's tmp dirs: those are private to root, and PostgreSQL refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="ragstage-pg-"))
    folder.chmod(0o777)
    data, port = folder / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run(_as_postgres_user([str(PG_BIN / args[0]), *args[1:]]), check=True, capture_output=True,
                       timeout=120)

    run("initdb", "-D", str(data), "-U", "ragstage", "--auth=trust", "-E", "UTF8")
    run("pg_ctl", "-D", str(data), "-w", "-l", str(data / "server.log"), "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start")
    try:
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "ragstage", "ragstage")
        yield f"postgresql+asyncpg://ragstage@127.0.0.1:{port}/ragstage"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited early; log: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not up after {timeout_s}s; log: {log.read_text(errors='replace')[-3000:]}")


def stop_process_group(process: subprocess.Popen, first: int = signal.SIGINT, grace_s: float = 30) -> None:
    """`first` lets the process shut down cleanly (Chainlit runs its shutdown hook on SIGINT,
    nginx finishes on SIGQUIT); anything left in its process group is then killed."""
    if process.poll() is None:
        os.killpg(process.pid, first)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class AppInstance:
    """One `chainlit run app.py` on a free port, with its own log."""

    def __init__(self, name: str, env: dict[str, str], work: Path) -> None:
        self.name, self.env, self.port = name, env, free_port()
        self.log = work / f"chainlit-{name}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> AppInstance:
        command = [sys.executable, "-m", "chainlit", "run", "app.py", "--headless", "--host", "127.0.0.1",
                   "--port", str(self.port)]
        with open(self.log, "ab") as sink:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=sink, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        try:
            wait_for_http(f"{self.url}/health", self.process, self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class Nginx:
    """nginx in the foreground with the team site for `instances`; `url` is where browsers go."""

    def __init__(self, instances: list[str], work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prefix = work / "nginx"
        self.site = nginx_site(instances, listen=f"127.0.0.1:{self.port}")
        self.process: subprocess.Popen | None = None

    def start(self) -> Nginx:
        for folder in ("logs", "temp"):
            (self.prefix / folder).mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(standalone_config(self.site, self.prefix))
        log = self.prefix / "logs" / "error.log"
        self.process = subprocess.Popen([NGINX, "-p", str(self.prefix), "-c", str(conf), "-e", str(log)],
                                        stdout=subprocess.DEVNULL, stderr=open(log, "ab"), start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not listen in 20 s")

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process, signal.SIGQUIT, grace_s=10)


def standalone_config(site: str, prefix: Path) -> str:
    """A complete nginx.conf around `site` that runs unprivileged in the foreground."""
    temp = prefix / "temp"
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'logs/error.log'};\n"
            "events { worker_connections 4096; }\n"
            f"http {{\n    access_log {prefix / 'logs/access.log'};\n"
            f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
            f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n    scgi_temp_path {temp}/scgi;\n"
            + "".join(f"    {line}\n" if line else "\n" for line in site.splitlines()) + "}\n")


@contextmanager
def running_stack(instance_env: dict[str, str], count: int, work: Path) -> Iterator[tuple[list[AppInstance], Nginx]]:
    """`count` app instances with `instance_env`, started one after another, and nginx in front."""
    instances: list[AppInstance] = []
    nginx: Nginx | None = None
    work.mkdir(parents=True, exist_ok=True)
    try:
        for number in range(1, count + 1):
            instances.append(AppInstance(str(number), instance_env, work).start())
        nginx = Nginx([i.address for i in instances], work).start()
        yield instances, nginx
    finally:
        if nginx is not None:
            nginx.stop()
        for instance in instances:
            instance.stop()
