"""The seam between the chat UI and the core: one `Runtime` per process.

The runtime (knowledge base, model catalog, embedded servers) is expensive and shared by all
sessions, so it starts once, lazily, on the first chat, and closes when the app shuts down.
The UI only calls `runtime.answer_stream(...)`, `runtime.settings`, `runtime.knowledge` and
`runtime.catalog`; tests hand in their own runtime here instead of patching internals.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Awaitable, Callable

if TYPE_CHECKING:
    from ragstage.runtime import Runtime
    from ragstage.settings import Settings


_background: set[asyncio.Task] = set()  # tasks kept referenced until they end


async def _start_real_runtime() -> Runtime:
    from ragstage.runtime import Runtime
    from ragstage.ui.locale import choose_locale
    from ragstage.ui.welcome import starters

    runtime = await Runtime.start(watch_knowledge=True)
    if runtime.settings.warm_starters:  # a presenter's first click should not wait for prefill
        locale = choose_locale(None, runtime.settings.ui_language)  # the forced language, else English
        task = asyncio.create_task(runtime.warm_questions([starter.message for starter in starters(locale)]))
        _background.add(task)
        task.add_done_callback(_background.discard)
    return runtime


class ChatServices:
    def __init__(self, start_runtime: Callable[[], Awaitable[Runtime]] = _start_real_runtime) -> None:
        self._start_runtime = start_runtime
        self._runtime: Runtime | None = None
        self._lock = asyncio.Lock()

    async def runtime(self) -> Runtime:
        """The process-wide runtime, started by whichever session asks first."""
        if self._runtime is None:
            async with self._lock:
                if self._runtime is None:
                    self._runtime = await self._start_runtime()
        return self._runtime

    def settings(self) -> Settings | None:
        """The runtime's settings once it started; before, read now (None when they are invalid:
        starting the runtime reports why)."""
        if self._runtime is not None:
            return self._runtime.settings
        from ragstage.settings import Settings

        try:
            return Settings()
        except ValueError:
            return None

    async def aclose(self) -> None:
        for task in list(_background):
            task.cancel()
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            await runtime.aclose()


_services = ChatServices()


def services() -> ChatServices:
    return _services


def install_services(new: ChatServices) -> ChatServices:
    """Swap the process-wide services (tests); returns the previous ones."""
    global _services
    previous, _services = _services, new
    return previous
