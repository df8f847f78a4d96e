"""The catalog of roles: which endpoint answers for `slm` and `llm`, found once and kept healthy.

Resolution is cached because discovery costs a network round trip per endpoint, but a cached
answer is not trusted blindly: an embedded server is checked to be alive on every `resolve`
(and restarted if it died), and after a reported failure a remote role is discovered again on
its next call, so a Foundry Local that went away gives way to the embedded default (in `auto`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping
from dataclasses import replace

import httpx

from ragstage.models.discovery import candidate_urls, discover, fallback_note, unreachable_message
from ragstage.models.embedded import EmbeddedServer
from ragstage.models.endpoint import EndpointStatus, ModelEndpoint, ProbeResult
from ragstage.models.errors import ModelError, ModelUnreachable
from ragstage.models.roles import ROLES, Role, role_config
from ragstage.models.engines import served_spec
from ragstage.models.onnx_models import OnnxModelMissing
from ragstage.models.weights import EmbeddedModelSpec, WeightsError
from ragstage.settings import Settings

ServerFactory = Callable[[EmbeddedModelSpec, Settings], EmbeddedServer]


class _LoopLocks:
    """One asyncio.Lock per (event loop, key): the catalog may outlive the loop that made it
    (a test session, a CLI that calls asyncio.run twice)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]]
        self._locks = weakref.WeakKeyDictionary()

    def get(self, key: str) -> asyncio.Lock:
        per_loop = self._locks.setdefault(asyncio.get_running_loop(), {})
        return per_loop.setdefault(key, asyncio.Lock())


class ModelCatalog:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        discovery_transport: httpx.AsyncBaseTransport | None = None,
        server_factory: ServerFactory = EmbeddedServer,
    ) -> None:
        self.settings = settings or Settings()
        self._environ = environ
        self._transport = discovery_transport
        self._server_factory = server_factory
        self._resolved: dict[Role, ModelEndpoint] = {}
        self._statuses: dict[Role, EndpointStatus] = {}
        self._servers: dict[Role, EmbeddedServer] = {}
        self._suspect: set[Role] = set()
        self._locks = _LoopLocks()

    async def resolve(self, role: Role) -> ModelEndpoint:
        """The endpoint for `role`: cached, revalidated, or found afresh (raises ModelError)."""
        async with self._locks.get(role):
            cached = self._resolved.get(role)
            if cached is not None:
                kept = await self._revalidate(role, cached)
                if kept is not None:
                    return kept
            return await self._resolve_fresh(role)

    def report_failure(self, role: Role, error: ModelError | None = None) -> None:
        """A call to `role` failed: check (embedded) or re-discover (remote) on the next resolve."""
        self._suspect.add(role)

    async def restart(self, role: Role) -> ModelEndpoint:
        """Restart the role's embedded server, or discover a remote role again."""
        async with self._locks.get(role):
            server = self._servers.get(role)
            cached = self._resolved.get(role)
            if server is None or cached is None or cached.backend != "embedded":
                self._resolved.pop(role, None)
                return await self._resolve_fresh(role)
            await server.restart()
            return self._remember(role, replace(cached, base_url=server.base_url))

    async def status(self) -> list[EndpointStatus]:
        """Every role, resolved now if needed (starts embedded servers), for `ragstage models`."""
        await asyncio.gather(*(self.resolve(role) for role in ROLES), return_exceptions=True)
        return [self._statuses[role] for role in ROLES]

    def describe(self) -> dict[Role, ModelEndpoint | None]:
        return {role: self._resolved.get(role) for role in ROLES}

    def embedded_server(self, role: Role) -> EmbeddedServer | None:
        return self._servers.get(role)

    def close(self) -> None:
        """Stop the embedded servers (synchronous, for atexit-like paths and fixtures)."""
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        self._resolved.clear()

    async def aclose(self) -> None:
        """Stop the embedded servers off the event loop (a stop may wait seconds for a process)."""
        servers = list(self._servers.values())
        self._servers.clear()
        self._resolved.clear()
        await asyncio.gather(*(server.astop() for server in servers))

    # --- resolution ------------------------------------------------------------------------

    async def _revalidate(self, role: Role, cached: ModelEndpoint) -> ModelEndpoint | None:
        suspect = role in self._suspect
        self._suspect.discard(role)
        if cached.backend == "remote":
            return None if suspect else cached
        server = self._servers[role]
        await server.ensure_running(check_health=suspect)
        if server.base_url == cached.base_url:
            return cached
        return self._remember(role, replace(cached, base_url=server.base_url))

    async def _resolve_fresh(self, role: Role) -> ModelEndpoint:
        settings = self.settings
        wanted = self._wanted(role)
        probes: tuple[ProbeResult, ...] = ()
        if settings.backend == "embedded":
            note = "embedded; RAGSTAGE_BACKEND=embedded"
        else:
            urls = candidate_urls(self._configured_url(role), self._environ)
            found, probes = await discover(wanted, urls, settings.discovery_timeout_s, self._transport)
            if found is not None:
                return self._remember(role, self._remote_endpoint(role, found), probes)
            if settings.backend == "remote":
                error = ModelUnreachable(unreachable_message(role, wanted, probes), url=urls[0])
                self._record_failure(role, probes, error)
                raise error
            note = fallback_note(wanted, probes)
        try:
            endpoint = await self._embedded_endpoint(role, note)
        except ModelError as error:
            self._record_failure(role, probes, error)
            raise
        return self._remember(role, endpoint, probes)

    def _remote_endpoint(self, role: Role, found: ProbeResult) -> ModelEndpoint:
        served = found.matched_id or self._wanted(role)
        return ModelEndpoint(
            role=role,
            model_id=served,
            base_url=found.url,
            backend="remote",
            display_name=self._wanted(role),
            note=f"remote: {served} at {found.url}",
            api_key=self.settings.api_key,
        )

    async def _embedded_endpoint(self, role: Role, note: str) -> ModelEndpoint:
        server = self._servers.get(role)
        if server is None:
            try:
                spec = served_spec(role, self.settings)
            except (WeightsError, OnnxModelMissing) as err:
                raise ModelUnreachable(f"The embedded {role} model cannot start: {err}") from err
            server = self._servers[role] = self._server_factory(spec, self.settings)
        await server.start()
        spec = server.spec
        return ModelEndpoint(role, spec.alias, server.base_url, "embedded", spec.display_name, note, engine=spec.engine)

    def _remember(
        self, role: Role, endpoint: ModelEndpoint, probes: tuple[ProbeResult, ...] | None = None
    ) -> ModelEndpoint:
        self._resolved[role] = endpoint
        previous = self._statuses.get(role)
        kept = probes if probes is not None else (previous.probes if previous else ())
        self._statuses[role] = EndpointStatus(role, self._wanted(role), self.settings.backend, kept, endpoint)
        return endpoint

    def _record_failure(self, role: Role, probes: tuple[ProbeResult, ...], error: ModelError) -> None:
        self._resolved.pop(role, None)
        self._statuses[role] = EndpointStatus(
            role, self._wanted(role), self.settings.backend, probes, None, str(error)
        )

    def _wanted(self, role: Role) -> str:
        return role_config(self.settings, role).model

    def _configured_url(self, role: Role) -> str:
        return role_config(self.settings, role).base_url
