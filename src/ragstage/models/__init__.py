"""Models: a catalog of roles (`slm`, `llm`), discovery of an OpenAI-compatible endpoint with
the embedded llama.cpp default as fallback, and a streaming client with timings and typed errors.

Names are imported on first use so that `python -m ragstage.models.weights` (run by the setup
script) does not load this package's submodules, and the openai client, before it runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ModelCatalog": "catalog",
    "Completion": "client",
    "GenerationParams": "client",
    "complete_chat": "client",
    "stream_chat": "client",
    "ROLES": "roles",
    "ROLE_TABLE": "roles",
    "RoleConfig": "roles",
    "role_config": "roles",
    "role_configs": "roles",
    "Backend": "endpoint",
    "EndpointStatus": "endpoint",
    "ModelEndpoint": "endpoint",
    "ProbeResult": "endpoint",
    "Role": "roles",
    "ContextOverflow": "errors",
    "FirstTokenTimeout": "errors",
    "MalformedStream": "errors",
    "ModelError": "errors",
    "ModelMismatch": "errors",
    "ModelUnreachable": "errors",
    "ServerError": "errors",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from ragstage.models.catalog import ModelCatalog
    from ragstage.models.client import Completion, GenerationParams, complete_chat, stream_chat
    from ragstage.models.endpoint import Backend, EndpointStatus, ModelEndpoint, ProbeResult
    from ragstage.models.roles import ROLE_TABLE, ROLES, Role, RoleConfig, role_config, role_configs
    from ragstage.models.errors import (
        ContextOverflow,
        FirstTokenTimeout,
        MalformedStream,
        ModelError,
        ModelMismatch,
        ModelUnreachable,
        ServerError,
    )


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ragstage.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ragstage.models.{_EXPORTS[name]}"), name)
