"""Write the nginx site for several ragstage instances (docs/TEAM-SERVER.md, section 5).

    python3 scripts/team_nginx.py --listen 80 10.0.0.11:8000 10.0.0.12:8000 > /etc/nginx/conf.d/ragstage.conf

Each browser is pinned to one instance by a cookie (`ragstage_instance`), because a Chainlit chat
lives in one process: its Socket.IO connection (long-polling first, then a WebSocket), its
uploads and its element files must all reach that process. The cookie names the instance that
actually answered, so when an instance stops, nginx sends its browsers to the next one (its
backup) and the cookie follows them there: they stay put when the first instance comes back.
A browser without the cookie goes to any instance (round robin).

The tests start nginx with exactly this text (tests/integration/robustness/test_team_server.py,
tests/e2e/test_team_failover.py), and a unit test checks that the documentation shows it.
"""

from __future__ import annotations

import argparse
import re
import sys

_ADDRESS = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")
FAIL_TIMEOUT_S = 10


def nginx_site(instances: list[str], listen: str = "80", max_body_mb: int = 20) -> str:
    """The nginx `http`-level configuration (upstreams, maps, one server) for `instances`."""
    if not instances or not all(_ADDRESS.match(address) for address in instances):
        raise ValueError(f"instances must be host:port addresses, got {instances!r}")
    server = f"max_fails=1 fail_timeout={FAIL_TIMEOUT_S}s"
    lines = ["# ragstage: one nginx in front of several `chainlit run` instances (scripts/team_nginx.py)",
             "upstream ragstage_any {"]
    lines += [f"    server {address} {server};" for address in instances]
    lines += ["}"]
    for number, address in enumerate(instances, start=1):  # pinned: this instance, the others as backups
        lines += [f"upstream ragstage_{number} {{", f"    server {address} {server};"]
        lines += [f"    server {other} backup;" for other in instances if other != address]
        lines += ["}"]
    lines += ["", "# Where a browser goes: the instance its cookie names, else any.",
              "map $cookie_ragstage_instance $ragstage_upstream {", "    default ragstage_any;"]
    lines += [f"    {number} ragstage_{number};" for number in range(1, len(instances) + 1)]
    lines += ["}", "# The instance that answered (the last address tried), remembered in the cookie.",
              "map $upstream_addr $ragstage_cookie {", '    default "";']
    lines += [f'    "~(^|[ ,]){re.escape(address)}$" "ragstage_instance={number}; Path=/; HttpOnly; SameSite=Lax";'
              for number, address in enumerate(instances, start=1)]
    lines += ["}", "map $http_upgrade $connection_upgrade {", "    default upgrade;", "    '' close;", "}", "",
              "server {", f"    listen {listen};", f"    client_max_body_size {max_body_mb}m;", "",
              "    location / {",
              "        proxy_pass http://$ragstage_upstream;",
              "        proxy_http_version 1.1;",
              "        proxy_set_header Host $http_host;  # the public name AND port: the app's Host and same-origin checks need both",
              "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
              "        proxy_set_header X-Forwarded-Proto $scheme;",
              "        proxy_set_header Upgrade $http_upgrade;  # Socket.IO's WebSocket",
              "        proxy_set_header Connection $connection_upgrade;",
              "        proxy_read_timeout 600s;  # idle WebSockets and long answers",
              "        proxy_buffering off;  # streamed answers (SSE) pass at once",
              "        add_header Set-Cookie $ragstage_cookie always;",
              "    }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("instances", nargs="+", help="host:port of each `chainlit run` instance")
    parser.add_argument("--listen", default="80", help="nginx `listen` value (port or address:port)")
    parser.add_argument("--max-body-mb", type=int, default=20, help="largest request body (uploads)")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(nginx_site(args.instances, args.listen, args.max_body_mb))
    except ValueError as err:
        print(f"team_nginx: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
