"""Finding a remote OpenAI-compatible endpoint (Foundry Local first) that serves a role's model.

An endpoint counts only when `/v1/models` answers quickly AND lists an id equal to the wanted
name or starting with it: Foundry Local serves device-specific variant ids for an alias
(`phi-4-mini` -> `phi-4-mini-instruct-generic-cpu:1`), and llama.cpp silently answers an unknown
model name with whatever it has loaded, so a server's willingness to answer proves nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence

import httpx
from pydantic import BaseModel, ValidationError

from ragstage.models.endpoint import ProbeResult
from ragstage.models.failures import describe_connect_failure
from ragstage.settings import FOUNDRY_DEFAULT_URL

FOUNDRY_ENV = "FOUNDRY_LOCAL_ENDPOINT"


class _ServedModel(BaseModel):
    id: str


class _ModelList(BaseModel):
    data: list[_ServedModel]


def normalize_base_url(url: str) -> str:
    """`http://host:5273`, `http://host:5273/` and `http://host:5273/v1/` -> `http://host:5273/v1`."""
    url = url.strip().rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def candidate_urls(configured_url: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Discovery order: FOUNDRY_LOCAL_ENDPOINT, the configured URL, Foundry Local's default."""
    environ = os.environ if environ is None else environ
    found = [environ.get(FOUNDRY_ENV, ""), configured_url, FOUNDRY_DEFAULT_URL]
    return list(dict.fromkeys(normalize_base_url(url) for url in found if url.strip()))


def match_model_id(wanted: str, served_ids: Sequence[str]) -> str | None:
    """The served id for `wanted`: an exact match first, else the first id that starts with it
    (case-insensitive, as Foundry Local's ids vary in case across versions)."""
    lowered = wanted.lower()
    for served in served_ids:
        if served.lower() == lowered:
            return served
    for served in served_ids:
        if served.lower().startswith(lowered):
            return served
    return None


async def probe(http: httpx.AsyncClient, base_url: str, wanted: str, timeout_s: float) -> ProbeResult:
    """Ask one endpoint for its model list; never raises."""
    try:
        async with asyncio.timeout(timeout_s):  # whole exchange, whatever the transport
            reply = await http.get(f"{base_url}/models", timeout=timeout_s)
    except (httpx.TimeoutException, TimeoutError):
        return ProbeResult(base_url, False, (), None, f"did not answer within {timeout_s:g} s")
    except httpx.HTTPError as err:
        return ProbeResult(base_url, False, (), None, f"not reachable ({describe_connect_failure(err)})")
    if reply.status_code != 200:
        return ProbeResult(base_url, False, (), None, f"answered HTTP {reply.status_code} to /models")
    try:
        served = tuple(model.id for model in _ModelList.model_validate_json(reply.content).data)
    except ValidationError:
        return ProbeResult(base_url, False, (), None, "answered /models with something that is not a model list")
    matched = match_model_id(wanted, served)
    if matched is None:
        listed = ", ".join(served) or "nothing"
        return ProbeResult(base_url, True, served, None, f"does not serve {wanted} (lists {listed})")
    return ProbeResult(base_url, True, served, matched, f"serves {matched}")


async def discover(
    wanted: str,
    urls: Sequence[str],
    timeout_s: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[ProbeResult | None, tuple[ProbeResult, ...]]:
    """Probe `urls` in order; return the first that serves `wanted`, plus every probe made."""
    probes: list[ProbeResult] = []
    async with httpx.AsyncClient(transport=transport, timeout=timeout_s) as http:
        for url in urls:
            result = await probe(http, url, wanted, timeout_s)
            probes.append(result)
            if result.matched_id is not None:
                return result, tuple(probes)
    return None, tuple(probes)


def fallback_note(wanted: str, probes: Sequence[ProbeResult]) -> str:
    """Why the embedded model stands in, e.g. 'embedded; Foundry Local not reachable at ...'."""
    unreachable = [p.url for p in probes if not p.reachable]
    without_model = [p for p in probes if p.reachable]
    reasons = []
    if unreachable:
        reasons.append(f"Foundry Local not reachable at {', '.join(unreachable)}")
    reasons.extend(f"{p.url} {p.reason}" for p in without_model)
    return "embedded; " + "; ".join(reasons) if reasons else "embedded"


def unreachable_message(role: str, wanted: str, probes: Sequence[ProbeResult]) -> str:
    tried = "; ".join(f"{p.url} {p.reason}" for p in probes)
    return (
        f"No endpoint serves {wanted} for the {role} role (tried: {tried}). Start Foundry Local "
        f"(`foundry model run {wanted}`), point RAGSTAGE_{role.upper()}_BASE_URL or {FOUNDRY_ENV} at a "
        f"server that lists it, or set RAGSTAGE_BACKEND=auto to fall back to the embedded model."
    )
