"""A chat session the way Chainlit 2.12's page holds one, for the load benchmark and the team
tests: optional sign-in, a first request through nginx (which pins the browser to an instance),
Socket.IO (long-polling then WebSocket behind a proxy, like the page; WebSocket only direct),
uploads over HTTP, and the events of each answer collected until its task ends.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import socketio

USER, PASSWORD = "loadtester", "load test password"
BROWSER_TRANSPORTS = ["polling", "websocket"]  # what Chainlit's page uses (polling first)


@dataclass
class Reply:
    finished: bool
    latency_ms: float
    texts: list[str]
    element_names: list[str]
    element_keys: list[str]
    is_error: bool


class ChatClient:
    """One browser-like chat session. `signed_in`: sign in first (team server); `via_proxy`: act
    like a browser behind nginx (one cookie jar for every request, long-polling first)."""

    def __init__(self, base_url: str, timeout_s: float, signed_in: bool = False, via_proxy: bool = False):
        self.base_url, self.timeout_s = base_url, timeout_s
        self.signed_in, self.via_proxy = signed_in, via_proxy
        self.session_id = str(uuid.uuid4())
        self.http = httpx.AsyncClient(timeout=timeout_s)
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any, float]] = asyncio.Queue()
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        await self.events.put((event, data, time.perf_counter()))

    async def connect(self) -> None:
        if self.via_proxy:
            (await self.http.get(f"{self.base_url}/auth/config")).raise_for_status()  # pins an instance
        if self.signed_in:
            reply = await self.http.post(f"{self.base_url}/login", data={"username": USER, "password": PASSWORD})
            reply.raise_for_status()
        auth = {"clientType": "webapp", "sessionId": self.session_id, "threadId": "",
                "userEnv": "{}", "chatProfile": ""}
        cookies = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        await self.sio.connect(self.base_url, socketio_path="/ws/socket.io", auth=auth,
                               headers={"Cookie": cookies} if cookies else {},
                               transports=BROWSER_TRANSPORTS if self.via_proxy else ["websocket"],
                               wait_timeout=self.timeout_s)
        await self.sio.emit("connection_successful")
        await self._wait_for("task_start")  # on_chat_start runs as a task, like a message
        await self._wait_for("task_end")

    @property
    def instance(self) -> str:
        """The team-server instance nginx pinned this session to ("" without nginx)."""
        return self.http.cookies.get("ragstage_instance", "")

    async def _wait_for(self, name: str) -> tuple[str, Any, float]:
        deadline = time.perf_counter() + self.timeout_s
        while True:
            event = await asyncio.wait_for(self.events.get(), max(deadline - time.perf_counter(), 0.01))
            if event[0] == name:
                return event

    async def upload(self, name: str, text: str) -> str:
        reply = await self.http.post(f"{self.base_url}/project/file", params={"session_id": self.session_id},
                                files={"file": (name, text.encode(), "text/markdown")})
        reply.raise_for_status()
        return reply.json()["id"]

    async def ask(self, question: str, file_ids: list[str] = ()) -> Reply:
        message = {"id": str(uuid.uuid4()), "name": "User", "type": "user_message", "output": question,
                   "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "threadId": ""}
        sent = time.perf_counter()
        await self.sio.emit("client_message", {"message": message,
                                               "fileReferences": [{"id": i} for i in file_ids]})
        return await self._collect(sent)

    async def _collect(self, sent: float) -> Reply:
        texts, names, keys, started, is_error = [], [], [], False, False
        deadline = sent + self.timeout_s
        while True:
            try:
                event, data, at = await asyncio.wait_for(self.events.get(), max(deadline - time.perf_counter(), 0.01))
            except asyncio.TimeoutError:
                return Reply(False, (time.perf_counter() - sent) * 1000, texts, names, keys, is_error)
            if event == "task_start":
                started = True
            elif event in ("new_message", "update_message") and isinstance(data, dict):
                if data.get("type") == "assistant_message":
                    texts.append(str(data.get("output") or ""))
                    is_error = is_error or bool(data.get("isError"))
            elif event == "element" and isinstance(data, dict) and data.get("display") == "side":
                names.append(str(data.get("name", "")))
                keys.append(str(data.get("chainlitKey") or ""))
            elif event == "task_end" and started:
                return Reply(True, (at - sent) * 1000, texts, names, keys, is_error)

    async def element_text(self, key: str) -> str:
        reply = await self.http.get(f"{self.base_url}/project/file/{key}", params={"session_id": self.session_id})
        return reply.text if reply.status_code == 200 else ""

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        await self.http.aclose()


async def cited_text(client: ChatClient, reply: Reply) -> str:
    await asyncio.sleep(0.05)  # elements are sent just before the task ends; let stragglers land
    while not client.events.empty():
        event, data, _ = client.events.get_nowait()
        if event == "element" and isinstance(data, dict) and data.get("display") == "side":
            reply.element_names.append(str(data.get("name", "")))
            reply.element_keys.append(str(data.get("chainlitKey") or ""))
    parts = [await client.element_text(k) for k in reply.element_keys if k]
    return "\n".join(reply.element_names + parts)
