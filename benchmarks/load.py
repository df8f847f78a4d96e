"""Load benchmark: N concurrent chat sessions against a real `chainlit run app.py`.

Each session is a Socket.IO client speaking the Chainlit 2.12 browser protocol (path
/ws/socket.io, auth {sessionId, clientType, threadId, userEnv, chatProfile}, then
`connection_successful`, then `client_message` events), uploads a document of its own through
Chainlit's HTTP upload route and asks three questions: one about its upload (sent with the file),
one about the shared knowledge, and one about ANOTHER session's upload, which must not be found.
The model is the scripted OpenAI-compatible server, so the app, not the model, is measured.

People pause between messages: each session waits a random think time (uniform, mean
`--think-s`, 3 s by default) before connecting and before each question, so N sessions are N
people chatting at once. `--think-s 0` fires every message at the same instant instead: a burst,
the worst case, where latency is mostly queueing behind the other sessions' work.

Reported per level: p50/p95 message latency (question sent -> answer finished, ms), the app
process's CPU time per message (its overhead, independent of queueing), errors
(failed connects/uploads, error messages, an upload not cited, another session's file seen)
and lost messages (no answer within the timeout). The app's overhead ratio is p95 at N
divided by p95 at the first level, measured in the same run.

    .venv/bin/python benchmarks/load.py                      # N = 1, 5, 20, 50
    .venv/bin/python benchmarks/load.py --levels 1,2 --json  # last line: JSON keyed by N

`--instances K` runs the team server of docs/TEAM-SERVER.md instead: sign-in, chat history in a
throwaway PostgreSQL, K `chainlit run` instances sharing the auth secret, the knowledge folder,
the cache and the chat-files folder, and nginx in front with its sticky cookie; every session
goes through nginx like a browser (a first GET pins it, it signs in, Socket.IO starts with
long-polling then upgrades), and every question answered must also be in the chat history
(else it counts as lost). The same levels run first against ONE instance behind the same
nginx set-up, then against K, in the same run; the last lines compare p95.

    .venv/bin/python benchmarks/load.py --instances 2 --levels 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import psutil

from chat_client import PASSWORD, USER, ChatClient, Reply, cited_text
from team_stack import free_port, missing_servers, running_stack, throwaway_postgres, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
SCRIPTED_SERVER = ROOT / "benchmarks" / "scripted_openai_server.py"
SHARED_QUESTION = "What can ragstage answer questions about?"
JSON_KEYS = ("p50_ms", "p95_ms", "errors", "lost")


def secret_word() -> str:
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=10))


@dataclass
class SessionOutcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lost: int = 0
    instance: str = ""  # which team-server instance served it (behind nginx)


def judge(outcome: SessionOutcome, label: str, reply: Reply) -> bool:
    if not reply.finished:
        outcome.lost += 1
        outcome.errors.append(f"{label}: no answer within the timeout")
        return False
    outcome.latencies_ms.append(reply.latency_ms)
    if reply.is_error:
        outcome.errors.append(f"{label}: error message {reply.texts[-1:]}")
    return True


async def think(think_s: float) -> None:
    if think_s > 0:
        await asyncio.sleep(random.uniform(0, 2 * think_s))


async def run_session(client: ChatClient, own: str, other: str, think_s: float) -> SessionOutcome:
    outcome = SessionOutcome()
    step = "connect"
    try:
        await think(think_s)
        await client.connect()
        step = "upload"
        file_id = await client.upload(f"notes-{own}.md", f"# Notes {own}\n\nThe code word {own} "
                                      f"names the private project of this session.\n")
        await think(think_s)
        step = "questions"
        reply = await client.ask(f"What does the code word {own} name?", [file_id])
        if judge(outcome, "own upload", reply) and own not in await cited_text(client, reply):
            outcome.errors.append("own upload: the answer did not cite the uploaded file")
        await think(think_s)
        judge(outcome, "shared knowledge", await client.ask(SHARED_QUESTION))
        await think(think_s)
        reply = await client.ask(f"What does the code word {other} name?")
        if judge(outcome, "other upload", reply) and other in await cited_text(client, reply):
            outcome.errors.append(f"isolation: saw another session's upload ({other})")
    except Exception as err:  # connect/upload failures are results to report, not crashes
        outcome.errors.append(f"{step}: {type(err).__name__}: {err}")
    finally:
        outcome.instance = client.instance
        await client.close()
    return outcome


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@dataclass(frozen=True)
class Target:
    """Where sessions go and how they behave there."""

    base_url: str
    processes: tuple[psutil.Process, ...]  # the app instances, for their CPU time
    signed_in: bool = False
    via_proxy: bool = False
    database_url: str = ""  # chat history: every question sent must be stored there too

    def client(self, timeout_s: float) -> ChatClient:
        return ChatClient(self.base_url, timeout_s, self.signed_in, self.via_proxy)

    def cpu_s(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes)

    async def stored_questions(self) -> int:
        """Questions in the chat history (0 without one)."""
        if not self.database_url:
            return 0
        import asyncpg

        connection = await asyncpg.connect(self.database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await connection.fetchval("SELECT count(*) FROM steps WHERE type = 'user_message'")
        finally:
            await connection.close()

    async def unsaved_questions(self, before: int, sent: int, wait_s: float = 30.0) -> int:
        """Questions answered but missing from the history (writes may still be queued: wait)."""
        deadline = time.monotonic() + wait_s
        while (stored := await self.stored_questions() - before) < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        return max(sent - stored, 0) if self.database_url else 0


async def run_level(target: Target, sessions: int, previous_secret: str, timeout_s: float,
                    think_s: float) -> tuple[dict, str]:
    secrets = [secret_word() for _ in range(sessions)]
    cpu_before, stored_before = target.cpu_s(), await target.stored_questions()
    others = [previous_secret] + secrets[:-1]  # each asks about a secret uploaded by another session
    outcomes = await asyncio.gather(*(run_session(target.client(timeout_s), s, o, think_s)
                                      for s, o in zip(secrets, others)))
    latencies = [ms for o in outcomes for ms in o.latencies_ms]
    errors = [e for o in outcomes for e in o.errors]
    app_cpu_ms = (target.cpu_s() - cpu_before) * 1000
    unsaved = await target.unsaved_questions(stored_before, len(latencies))
    if unsaved:
        errors.append(f"history: {unsaved} answered question(s) missing from the database")
    per_instance: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.instance:
            per_instance[outcome.instance] = per_instance.get(outcome.instance, 0) + 1
    result = {"app_cpu_ms_per_message": round(app_cpu_ms / max(len(latencies), 1), 1), "sessions": sessions,
              "messages": len(latencies) + sum(o.lost for o in outcomes),
              "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
              "errors": len(errors), "lost": sum(o.lost for o in outcomes) + unsaved, "error_samples": errors[:3],
              "sessions_per_instance": dict(sorted(per_instance.items()))}
    return result, secrets[-1]


async def run_levels(target: Target, levels: list[int], timeout_s: float, think_s: float, warm_sessions: int,
                     label: str = "") -> dict[str, dict]:
    warm, secret = await run_level(target, warm_sessions, secret_word(), timeout_s, 0)  # starts the runtimes
    if warm["errors"]:
        print(f"warm-up problems: {warm['error_samples']}", file=sys.stderr)
    results = {}
    for level in levels:
        results[str(level)], secret = await run_level(target, level, secret, timeout_s, think_s)
        print(label + _row(results[str(level)]), flush=True)
    return results


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_line(log: Path, prefix: str, process: subprocess.Popen, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith(prefix):
                return line
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"{process.args[:3]} did not print {prefix!r}; log: {log.read_text(errors='replace')[-2000:]}")


def app_environment(model_url: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTAGE_")}
    env.update({
        "RAGSTAGE_BACKEND": "remote",
        "RAGSTAGE_SLM_BASE_URL": model_url, "RAGSTAGE_LLM_BASE_URL": model_url,
        "RAGSTAGE_SLM_MODEL": "scripted-slm", "RAGSTAGE_LLM_MODEL": "scripted-llm",
        "RAGSTAGE_START_EMBEDDED_AT_LAUNCH": "false",
        "RAGSTAGE_CACHE_DIR": str(work / "cache"),
        "RAGSTAGE_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "RAGSTAGE_ANSWER_ANYWAY": "false",
        # every simulated session comes from 127.0.0.1: lift the per-client and total answer limits
        "RAGSTAGE_MAX_GENERATIONS_PER_CLIENT": "1000", "RAGSTAGE_MAX_GENERATIONS_TOTAL": "1000",
    })
    return env


@contextmanager
def model_server(work: Path) -> Iterator[str]:
    """The scripted OpenAI-compatible server; yields its base URL."""
    log = work / "model.log"
    with running([sys.executable, str(SCRIPTED_SERVER), "--port", "0", "--model", "scripted-slm",
                  "--model", "scripted-llm", "--tokens", "24"], dict(os.environ), log) as model:
        yield f"http://127.0.0.1:{int(wait_for_line(log, 'LISTENING', model, 20).split()[1])}/v1"


async def benchmark(levels: list[int], timeout_s: float, think_s: float, work: Path) -> dict[str, dict]:
    with model_server(work) as model_url:
        app_port, app_log = free_port(), work / "chainlit.log"
        command = [sys.executable, "-m", "chainlit", "run", str(ROOT / "app.py"), "--headless",
                   "--host", "127.0.0.1", "--port", str(app_port)]
        with running(command, app_environment(model_url, work), app_log) as app:
            base_url = f"http://127.0.0.1:{app_port}"
            wait_for_http(f"{base_url}/health", app, app_log, 120)
            return await run_levels(Target(base_url, (psutil.Process(app.pid),)), levels, timeout_s, think_s, 1)


def team_environment(model_url: str, database_url: str, work: Path) -> dict[str, str]:
    """What every instance of the team server shares (docs/TEAM-SERVER.md, section 5)."""
    import shutil

    from ragstage.accounts import set_user

    users, knowledge = work / "users.txt", work / "shared" / "knowledge"
    if not knowledge.exists():
        shutil.copytree(ROOT / "knowledge", knowledge)
        set_user(users, USER, PASSWORD, rounds=4)
    env = app_environment(model_url, work / "shared")
    env.update({"RAGSTAGE_USERS_FILE": str(users), "RAGSTAGE_DATABASE_URL": database_url,
                "CHAINLIT_AUTH_SECRET": "load-" + "k" * 59, "RAGSTAGE_KNOWLEDGE_DIR": str(knowledge),
                "RAGSTAGE_CHAT_FILES_DIR": str(work / "shared" / "chat-files")})
    return env


async def team_benchmark(instances: int, levels: list[int], timeout_s: float, think_s: float,
                         work: Path) -> dict[str, dict[str, dict]]:
    """The same levels against 1 instance, then `instances`, each behind nginx on one PostgreSQL."""
    results: dict[str, dict[str, dict]] = {}
    with model_server(work) as model_url:
        for count in dict.fromkeys((1, instances)):
            with throwaway_postgres() as database_url:
                env = team_environment(model_url, database_url, work)
                with running_stack(env, count, work / f"stack-{count}") as (apps, nginx):
                    processes = tuple(psutil.Process(a.process.pid) for a in apps)
                    target = Target(nginx.url, processes, signed_in=True, via_proxy=True, database_url=database_url)
                    results[str(count)] = await run_levels(target, levels, timeout_s, think_s, 2 * count,
                                                           label=f"instances={count}  ")
    return results


def _row(result: dict) -> str:
    return (f"N={result['sessions']:>3}  messages={result['messages']:>4}  p50={result['p50_ms']:>8.1f} ms  "
            f"p95={result['p95_ms']:>8.1f} ms  app CPU/message={result['app_cpu_ms_per_message']:>6.1f} ms  "
            f"errors={result['errors']}  lost={result['lost']}"
            + (f"  e.g. {result['error_samples'][0]}" if result["error_samples"] else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,5,20,50", help="comma-separated session counts")
    parser.add_argument("--timeout-s", type=float, default=60.0, help="longest wait for one answer")
    parser.add_argument("--think-s", type=float, default=3.0, help="mean pause before each message (0: burst)")
    parser.add_argument("--instances", type=int, default=0,
                        help="run the team server (nginx, PostgreSQL, sign-in) with this many instances, "
                             "compared with 1 instance in the same run")
    parser.add_argument("--json", action="store_true", help="print a JSON object keyed by N as the last line")
    parser.add_argument("--keep-logs", type=Path, help="with --instances: keep the servers' logs in this folder")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",") if n.strip()]
    if args.instances:
        return team_main(args, levels)
    with tempfile.TemporaryDirectory(prefix="ragstage-load-") as work:
        results = asyncio.run(benchmark(levels, args.timeout_s, args.think_s, Path(work)))
    first = results[str(levels[0])]
    for level in levels[1:]:
        ratio = results[str(level)]["p95_ms"] / first["p95_ms"] if first["p95_ms"] else float("nan")
        print(f"p95 at N={level} is {ratio:.2f}x p95 at N={levels[0]}")
    if args.json:
        print(json.dumps({n: {k: r[k] for k in JSON_KEYS} for n, r in results.items()}))
    return 0 if all(r["errors"] == 0 and r["lost"] == 0 for r in results.values()) else 1


def team_main(args: argparse.Namespace, levels: list[int]) -> int:
    if missing_servers():
        print(f"load.py --instances needs {' and '.join(missing_servers())} (scripts/setup.py --test installs them)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ragstage-team-load-") as temporary:
        work = args.keep_logs or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(team_benchmark(args.instances, levels, args.timeout_s, args.think_s, work))
    one, many = results["1"], results[str(args.instances)]
    for level in levels:
        ratio = many[str(level)]["p95_ms"] / one[str(level)]["p95_ms"] if one[str(level)]["p95_ms"] else float("nan")
        print(f"N={level}: p95 with {args.instances} instances is {ratio:.2f}x p95 with 1 instance "
              f"(sessions per instance: {many[str(level)]['sessions_per_instance']})")
    if args.json:
        print(json.dumps({k: {n: {m: r[m] for m in JSON_KEYS} for n, r in by_level.items()}
                          for k, by_level in results.items()}))
    return 0 if all(r["errors"] == 0 and r["lost"] == 0 for lv in results.values() for r in lv.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
