"""What a role resolved to, and how it was found: plain values shared by the catalog, the
client, the CLI and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ragstage.models.roles import ROLES, Role

Backend = Literal["remote", "embedded"]
__all__ = ["ROLES", "Backend", "EndpointStatus", "ModelEndpoint", "ProbeResult", "Role"]


@dataclass(frozen=True)
class ModelEndpoint:
    role: Role
    model_id: str  # the id sent in requests: the served id, never an alias the server may ignore
    base_url: str  # ends with /v1
    backend: Backend
    display_name: str  # what people see; an embedded model never borrows the replaced model's name
    note: str  # how it was chosen, e.g. "embedded; Foundry Local not reachable at ..."
    api_key: str = field(default="not-needed", repr=False, compare=False)  # sent to remote servers
    engine: str = ""  # embedded: "llama.cpp" | "onnxruntime"; remote: "" (the server's own)

    def label(self) -> str:
        name = f"{self.display_name} · {self.engine}" if self.engine else self.display_name
        return f"{name} ({self.note})" if self.note else name


@dataclass(frozen=True)
class ProbeResult:
    """One `/v1/models` probe made during discovery."""

    url: str
    reachable: bool
    served_ids: tuple[str, ...]
    matched_id: str | None
    reason: str  # "serves phi-4-mini-instruct-generic-cpu:1", "not reachable (connection refused)" ...


@dataclass(frozen=True)
class EndpointStatus:
    """A role as `ragstage models` reports it: what was tried and what it resolved to."""

    role: Role
    wanted_model: str  # the configured name (alias) of the role
    backend_setting: str  # "auto" | "remote" | "embedded"
    probes: tuple[ProbeResult, ...]
    endpoint: ModelEndpoint | None
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        endpoint = self.endpoint
        return {
            "role": self.role,
            "wanted_model": self.wanted_model,
            "backend_setting": self.backend_setting,
            "tried": [
                {
                    "url": p.url,
                    "reachable": p.reachable,
                    "served_ids": list(p.served_ids),
                    "matched_id": p.matched_id,
                    "reason": p.reason,
                }
                for p in self.probes
            ],
            "backend": endpoint.backend if endpoint else None,
            "served_id": endpoint.model_id if endpoint else None,
            "base_url": endpoint.base_url if endpoint else None,
            "label": endpoint.label() if endpoint else None,
            "engine": endpoint.engine if endpoint else None,
            "error": self.error,
        }
