"""The role table: each role's configuration comes from its own settings, and every per-role
decision (prices, endpoints, embedded threads) reads it from there."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ragstage.answer import AnswerOptions
from ragstage.metrics import Price
from ragstage.models import ROLES
from ragstage.models.embedded import EmbeddedServer
from ragstage.models.roles import ROLE_TABLE, role_config, role_configs
from ragstage.models.weights import EmbeddedModelSpec
from ragstage.settings import Settings


def test_every_role_in_the_table_is_configured_from_its_own_settings(tmp_path: Path):
    settings = Settings(
        _env_file=None, slm_model="small-one", llm_base_url="http://10.0.0.2:8000/v1", llm_gguf=tmp_path / "x.gguf",
        slm_input_usd_per_mtok=0.5, llm_output_usd_per_mtok=7.0, embedded_threads=2,
    )
    configs = role_configs(settings)
    assert tuple(configs) == ROLES == tuple(ROLE_TABLE)
    assert configs["slm"].model == "small-one" and configs["llm"].model == "gpt-oss-20b"
    assert configs["llm"].base_url == "http://10.0.0.2:8000/v1" and configs["llm"].gguf == tmp_path / "x.gguf"
    assert configs["slm"].gguf is None
    assert configs["slm"].price == Price(0.5, 0.40) and configs["llm"].price == Price(1.25, 7.0)
    assert {config.threads for config in configs.values()} == {2}


def test_an_unknown_role_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="slm, llm"):
        role_config(Settings(_env_file=None), "mlm")


def test_answer_prices_come_from_the_role_table():
    options = AnswerOptions.from_settings(Settings(_env_file=None, llm_input_usd_per_mtok=3.0))
    assert options.price("llm") == Price(3.0, 5.0) and options.price("slm") == Price(0.10, 0.40)
    hand_made = AnswerOptions("slm", 4, 900, 64, 0.0, False, "auto", 5, 1.0)  # defaults mirror Settings
    assert hand_made.price("slm") == Price(0.10, 0.40) and hand_made.price("llm") == Price(1.25, 5.0)


async def test_stopping_an_embedded_server_waits_off_the_event_loop():
    server = EmbeddedServer(EmbeddedModelSpec("slm", Path("/m.gguf"), "m", "M"), Settings(_env_file=None))
    threads: list[int] = []
    server.stop = lambda: threads.append(threading.get_ident())  # type: ignore[method-assign]
    await server.astop()
    assert threads and threads[0] != threading.get_ident()
