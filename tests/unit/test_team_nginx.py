"""scripts/team_nginx.py: the nginx site of the team-server recipe, and the docs showing exactly it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from team_nginx import main, nginx_site  # noqa: E402

DOC = ROOT / "docs" / "TEAM-SERVER.md"


def test_the_documented_site_is_what_the_script_writes():
    documented = re.search(r"```nginx\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    assert documented == nginx_site(["10.0.0.11:8000", "10.0.0.12:8000"], listen="80")
    assert "scripts/team_nginx.py --listen 80 10.0.0.11:8000 10.0.0.12:8000" in DOC.read_text(encoding="utf-8")


def test_each_instance_is_pinned_with_the_others_as_backups_and_named_in_the_cookie():
    site = nginx_site(["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"], listen="127.0.0.1:9000")
    pinned = re.search(r"upstream ragstage_2 \{(.*?)\}", site, re.S).group(1)
    assert "server 127.0.0.1:8002 max_fails=1" in pinned
    assert "server 127.0.0.1:8001 backup;" in pinned and "server 127.0.0.1:8003 backup;" in pinned
    assert "    3 ragstage_3;" in site
    assert '"~(^|[ ,])127\\.0\\.0\\.1:8003$" "ragstage_instance=3; Path=/; HttpOnly; SameSite=Lax";' in site
    assert "listen 127.0.0.1:9000;" in site
    assert "proxy_set_header Host $http_host;" in site and "proxy_set_header Upgrade $http_upgrade;" in site


@pytest.mark.parametrize("bad", [[], ["nohost"], ["10.0.0.1:80; evil"], ["10.0.0.1:80\n}"]])
def test_anything_but_host_port_addresses_is_refused(bad, capsys):
    with pytest.raises(ValueError):
        nginx_site(bad)
    if bad:
        assert main(bad) == 2 and "host:port" in capsys.readouterr().err
