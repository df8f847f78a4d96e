"""ragstage chat app: `chainlit run app.py`. Thin glue; everything else lives in ragstage.ui."""

from __future__ import annotations

from typing import Any

import chainlit as cl
import chainlit.config
import chainlit.server

from ragstage.ui import chat, sign_in
from ragstage.ui.files_folder import use_private_files_folder
from ragstage.ui.locale import install_chainlit_translations
from ragstage.ui.offline import install_offline_template
from ragstage.ui.security import install_security
from ragstage.ui.services import services
from ragstage.ui.welcome import STARTER_ACTION
from ragstage.web import install_routes

install_offline_template(chainlit.server)
use_private_files_folder(chainlit.config, chainlit.server)
install_chainlit_translations(chainlit.config)  # Chainlit's own strings in uk; RAGSTAGE_UI_LANGUAGE for all
sign_in.install_sign_in()  # off unless RAGSTAGE_USERS_FILE is set; then chats persist and resume


async def get_runtime():
    return await services().runtime()


install_routes(chainlit.server.app, get_runtime)  # the browser page (public/webgpu_demo.html)
install_security(chainlit.server)  # hosts, origins, sign-in, limits, headers: every route (ui/security.py)


@cl.on_chat_start
async def on_chat_start() -> None:
    await chat.start_chat()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    await chat.handle_message(message)


@cl.on_settings_update
async def on_settings_update(values: dict[str, Any]) -> None:
    await chat.update_settings(values)


@cl.action_callback(STARTER_ACTION)
async def on_starter(action: cl.Action) -> None:
    await chat.ask_starter(action)


@cl.on_app_startup
async def on_app_startup() -> None:
    await sign_in.prepare_tables()  # no-op unless sign-in (and so history) is on
    await chat.warm_up()


@cl.on_app_shutdown
async def on_app_shutdown() -> None:
    await chat.shutdown()
