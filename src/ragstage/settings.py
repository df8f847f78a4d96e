"""All configuration in one place: `RAGSTAGE_*` environment variables and `.env`.

The README's settings table is generated from this class (`ragstage settings --markdown`)
and a unit test fails when the two drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

FOUNDRY_DEFAULT_URL = "http://localhost:5273/v1"
EngineSetting = Literal["auto", "llama.cpp", "onnxruntime"]  # models/engines.py


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAGSTAGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- knowledge -------------------------------------------------------------------
    knowledge_dir: Path = Field(Path("knowledge"), description="Folder of documents the assistant answers from.")
    cache_dir: Path = Field(Path(".ragstage/cache"), description="Where the index cache lives (one subfolder per knowledge folder).")
    chunk_size_tokens: int = Field(256, ge=16, description="Chunk size in o200k_base tokens.")
    chunk_overlap_tokens: int = Field(32, ge=0, description="Tokens shared by consecutive chunks.")
    top_k: int = Field(4, ge=1, le=20, description="Passages retrieved per question.")
    score_floor: float = Field(1.0, ge=0.0, description="BM25 score below which a passage does not count as relevant.")

    # --- answering -------------------------------------------------------------------
    context_budget_tokens: int = Field(900, ge=128, description="Token budget for system prompt, sources and history sent to the model.")
    max_answer_tokens: int = Field(256, ge=16, description="Upper bound on tokens generated per answer.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0 = deterministic).")
    answer_anyway: bool = Field(False, description="Call the model even when retrieval finds nothing relevant.")
    history_turns: int = Field(2, ge=0, description="Previous question/answer pairs kept in the prompt.")
    default_mode: Literal["slm", "llm", "hybrid", "compare"] = Field("slm", description="Mode a new chat starts in.")
    escalation_policy: Literal["auto", "always", "never"] = Field("auto", description="When hybrid mode sends the SLM draft to the LLM.")
    escalation_min_draft_words: int = Field(12, ge=0, description="`auto` escalates drafts shorter than this many words.")

    # --- models ----------------------------------------------------------------------
    backend: Literal["auto", "remote", "embedded"] = Field("auto", description="`auto`: remote endpoint if reachable, else embedded; `remote`/`embedded` force one.")
    slm_model: str = Field("phi-4-mini", description="Model name (alias) for the small-model role.")
    llm_model: str = Field("gpt-oss-20b", description="Model name (alias) for the large-model role.")
    slm_base_url: str = Field(FOUNDRY_DEFAULT_URL, description="OpenAI-compatible base URL for the SLM role.")
    llm_base_url: str = Field(FOUNDRY_DEFAULT_URL, description="OpenAI-compatible base URL for the LLM role.")
    api_key: str = Field("not-needed", description="API key sent to remote endpoints (local servers ignore it).")
    discovery_timeout_s: float = Field(1.5, gt=0, description="How long `/v1/models` may take before an endpoint counts as unreachable.")
    first_token_timeout_s: float = Field(90.0, gt=0, description="Longest wait for the first token before the call fails.")
    request_retries: int = Field(1, ge=0, le=5, description="Retries before the first token (never after).")

    # --- embedded llama.cpp default ----------------------------------------------------
    slm_gguf: Path | None = Field(None, description="GGUF file for the embedded SLM (default: bundled SmolLM2-135M-Instruct).")
    llm_gguf: Path | None = Field(None, description="GGUF file for the embedded LLM (default: bundled Qwen2.5-Coder-0.5B-Instruct).")
    models_dir: Path = Field(Path(".ragstage/models"), description="Where assembled embedded model files are kept.")
    embedded_threads: int = Field(1, ge=1, description="CPU threads per embedded server process.")
    embedded_ctx_tokens: int = Field(4096, ge=512, description="Context window of each embedded server.")
    embedded_start_timeout_s: float = Field(120.0, gt=0, description="Longest wait for an embedded server to become healthy.")
    start_embedded_at_launch: bool = Field(True, description="Start the embedded servers when the app starts rather than on first use.")

    # --- embedded engine per role (llama.cpp or ONNX Runtime) ----------------------------
    slm_engine: EngineSetting = Field("auto", description="Engine of the embedded SLM: `llama.cpp`, `onnxruntime` (needs `ragstage models build-onnx --role slm`), or `auto` (the faster one measured for its model, where converted; see docs/engines.md).")
    llm_engine: EngineSetting = Field("auto", description="Engine of the embedded LLM (same choices; `ragstage models build-onnx --role llm`).")
    onnx_dir: Path = Field(Path("~/.cache/ragstage/onnx"), description="Where ONNX Runtime conversions of the GGUF models are kept (one per source file, shared by checkouts).")

    # --- emulated cost (hypothetical cloud prices, USD per 1M tokens) --------------------
    slm_input_usd_per_mtok: float = Field(0.10, ge=0, description="Hypothetical cloud price of SLM input tokens.")
    slm_output_usd_per_mtok: float = Field(0.40, ge=0, description="Hypothetical cloud price of SLM output tokens.")
    llm_input_usd_per_mtok: float = Field(1.25, ge=0, description="Hypothetical cloud price of LLM input tokens.")
    llm_output_usd_per_mtok: float = Field(5.00, ge=0, description="Hypothetical cloud price of LLM output tokens.")

    # --- uploads -----------------------------------------------------------------------
    upload_max_mb: float = Field(10.0, gt=0, description="Largest accepted upload.")
    upload_max_files: int = Field(5, ge=1, description="Most files accepted in one message.")
    uploads_persist: bool = Field(False, description="Save uploads into the knowledge folder (shared by all sessions) instead of the session only.")

    # --- sign-in and history -----------------------------------------------------------
    users_file: Path | None = Field(None, description="File of `user:bcrypt-hash` lines; set it to turn on sign-in and chat history.")
    database_url: str = Field("sqlite+aiosqlite:///.ragstage/chats.db", description="SQLAlchemy URL for chat history (used only with sign-in).")


def settings_table_markdown() -> str:
    """The README table, generated so that documentation cannot drift from code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(none)" if default is None else str(default)
        rows.append(f"| `RAGSTAGE_{name.upper()}` | `{shown}` | {field.description} |")
    return "\n".join(rows)
