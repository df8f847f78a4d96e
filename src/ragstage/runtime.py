"""One object that wires settings, the knowledge base, the model catalog and the answer
pipeline, so the Chainlit app, the CLI, the web page and the benchmarks start and stop the
same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from ragstage.answer import MODE_ROLES, AnswerEvent, AnswerOptions, AnswerResult, answer, answer_stream, ground
from ragstage.knowledge import ChunkIndex, KnowledgeBase
from ragstage.knowledge.watcher import FolderWatcher
from ragstage.models import ROLES, GenerationParams, ModelCatalog, ModelError, stream_chat
from ragstage.settings import Settings
from ragstage.tokens import encoding

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    knowledge: KnowledgeBase
    catalog: ModelCatalog
    launch_errors: dict[str, str] = field(default_factory=dict)  # role -> why it could not start
    watcher: FolderWatcher | None = None  # applies knowledge-folder changes while the app runs

    @classmethod
    async def start(
        cls,
        settings: Settings | None = None,
        *,
        warm_roles: Iterable[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        watch_knowledge: bool = False,
    ) -> Runtime:
        """Open the knowledge base and the catalog; resolve `warm_roles` now (default: both
        roles when `start_embedded_at_launch`), so the first question does not wait for a server.

        A role that cannot start is recorded in `launch_errors`, not raised: the app still
        comes up, and the failure is reported where that role is used. `watch_knowledge` (the
        app; not one-shot CLI commands) keeps the index in step with the folder, unless
        `settings.knowledge_watch` is off.
        """
        settings = settings or Settings()
        knowledge, _ = await asyncio.gather(
            asyncio.to_thread(KnowledgeBase.open, settings.knowledge_dir, settings, progress),
            asyncio.to_thread(encoding),  # loaded now, so the first prompt's prep time is honest
        )
        runtime = cls(settings, knowledge, ModelCatalog(settings))
        if watch_knowledge and settings.knowledge_watch:
            runtime.watcher = FolderWatcher(knowledge, settings.knowledge_watch_quiet_ms).start()
        roles = tuple(ROLES if settings.start_embedded_at_launch else ()) if warm_roles is None else tuple(warm_roles)
        try:
            await runtime.warm_up(roles)
        except BaseException:
            await runtime.aclose()
            raise
        return runtime

    async def warm_up(self, roles: Sequence[str]) -> None:
        # One role at a time: two model servers loading at once fight over 2 cores.
        for role in roles:
            try:
                await self.catalog.resolve(role)
            except ModelError as err:
                self.launch_errors[role] = str(err)
                log.warning("%s model not available at launch: %s", role, err)

    async def warm_questions(self, questions: Sequence[str]) -> int:
        """Send each question's answer prompt (as a new chat would build it) to the default mode's
        first model for one token, so that the embedded server's prompt cache holds it: asked
        again, the answer starts without prefill. Only embedded servers (a remote one may bill
        for it); a failure stops the warming quietly. Returns how many prompts were warmed."""
        options = self.options()
        role = MODE_ROLES[options.mode][0]
        warmed = 0
        try:
            endpoint = await self.catalog.resolve(role)
            if endpoint.backend != "embedded" or self.settings.embedded_prompt_cache_mb <= 0:
                return 0
            for question in questions:
                grounding = ground(question, self.knowledge.index, options)
                if grounding.prompt is None:
                    continue
                params = GenerationParams(max_tokens=1, temperature=options.temperature,
                                          first_token_timeout_s=options.first_token_timeout_s, retries=0)
                async for _ in stream_chat(endpoint, grounding.prompt.as_list(), params):
                    pass
                warmed += 1
        except ModelError as err:
            log.warning("warming the starter prompts stopped after %d: %s", warmed, err)
        return warmed

    async def aclose(self) -> None:
        """Stops the folder watcher and the embedded servers this runtime started."""
        if self.watcher is not None:
            await asyncio.to_thread(self.watcher.stop)
        await self.catalog.aclose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def options(self, **overrides: object) -> AnswerOptions:
        return AnswerOptions.from_settings(self.settings, **overrides)

    def answer_stream(
        self,
        question: str,
        options: AnswerOptions | None = None,
        history: Sequence[tuple[str, str]] = (),
        index: ChunkIndex | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        """Answer from `index` (default: the knowledge base's; the UI passes a session fork
        that holds its uploads)."""
        return answer_stream(
            question,
            index=index if index is not None else self.knowledge.index,
            catalog=self.catalog,
            options=options or self.options(),
            history=history,
        )

    async def answer(
        self,
        question: str,
        options: AnswerOptions | None = None,
        history: Sequence[tuple[str, str]] = (),
        index: ChunkIndex | None = None,
    ) -> AnswerResult:
        return await answer(
            question,
            index=index if index is not None else self.knowledge.index,
            catalog=self.catalog,
            options=options or self.options(),
            history=history,
        )
