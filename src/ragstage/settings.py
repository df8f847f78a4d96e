"""All configuration in one place: `RAGSTAGE_*` environment variables and `.env`.

The README's settings table is generated from this class (`ragstage settings --markdown`)
and a unit test fails when the two drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

FOUNDRY_DEFAULT_URL = "http://localhost:5273/v1"
# The models whose weights ship in registry packages (ragstage.models.weights.BUNDLED_MODELS).
BundledModelName = Literal["qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "smollm2-135m-instruct"]
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
    top_k: int = Field(3, ge=1, le=20, description="Passages retrieved per question (3 measured best for the bundled models, docs/ANSWER-QUALITY.md).")
    score_floor: float = Field(1.0, ge=0.0, description="BM25 score below which a passage does not count as relevant.")
    knowledge_watch: bool = Field(True, description="Apply files added, changed, renamed or deleted in the knowledge folder while the app runs.")
    knowledge_watch_quiet_ms: int = Field(300, ge=10, le=10_000, description="A folder change is applied once the folder has been quiet this long (editors save in several steps).")

    # --- answering -------------------------------------------------------------------
    context_budget_tokens: int = Field(700, ge=128, description="Token budget for system prompt, sources and history sent to the model.")
    max_answer_tokens: int = Field(256, ge=16, description="Upper bound on tokens generated per answer.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0 = deterministic).")
    answer_anyway: bool = Field(False, description="Call the model even when retrieval finds nothing relevant.")
    history_turns: int = Field(2, ge=0, description="Previous question/answer pairs kept in the prompt.")
    default_mode: Literal["slm", "llm", "hybrid", "compare"] = Field("slm", description="Mode a new chat starts in.")
    escalation_policy: Literal["auto", "always", "never"] = Field("auto", description="When hybrid mode sends the SLM draft to the LLM.")
    escalation_min_draft_words: int = Field(12, ge=0, description="`auto` escalates drafts shorter than this many words.")
    escalation_min_support: float = Field(0.75, ge=0.0, le=1.0, description="`auto` escalates drafts whose share of sentences supported by the sources is below this.")
    escalation_strong_score: float = Field(10.0, ge=0.0, description="`auto` escalates a draft that declines when a passage in its prompt scored at least this (BM25): the answer was likely there (the top passage of 96% of the answerable questions of the shipped suite scores above it, of most unanswerable ones below).")
    compare_concurrently: bool = Field(False, description="Compare mode runs both models at the same time (faster, but they share the cores, so its speed ratio is not fair).")

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
    slm_gguf: Path | None = Field(None, description="GGUF file for the embedded SLM (default: the bundled model named by `RAGSTAGE_SLM_BUNDLED_MODEL`).")
    llm_gguf: Path | None = Field(None, description="GGUF file for the embedded LLM (default: the bundled model named by `RAGSTAGE_LLM_BUNDLED_MODEL`).")
    slm_bundled_model: BundledModelName = Field("qwen2.5-coder-0.5b-instruct", description="Bundled model the embedded SLM runs: `qwen2.5-coder-0.5b-instruct`, `qwen2.5-coder-1.5b-instruct` or `smollm2-135m-instruct`.")
    llm_bundled_model: BundledModelName = Field("qwen2.5-coder-1.5b-instruct", description="Bundled model the embedded LLM runs (same choices).")
    models_dir: Path = Field(Path(".ragstage/models"), description="Where assembled embedded model files are kept.")
    embedded_threads: int = Field(0, ge=0, description="CPU threads per embedded server for prompt processing and generation; 0 = the CPUs this process may use that other work does not keep busy.")
    embedded_ctx_tokens: int = Field(4096, ge=512, description="Context window of each embedded server.")
    embedded_start_timeout_s: float = Field(120.0, gt=0, description="Longest wait for an embedded server to become healthy.")
    start_embedded_at_launch: bool = Field(True, description="Start the embedded servers when the app starts rather than on first use.")
    embedded_prompt_cache_mb: int = Field(512, ge=0, description="RAM each embedded server may use to keep processed prompts (llama.cpp prompt cache): a prompt seen before, or sharing its start with one, skips that prefill; 0 turns it off.")
    warm_starters: bool = Field(True, description="After launch, the chat processes the starter questions' prompts on the default mode's first model (in the background), so a clicked starter answers without waiting for prefill.")

    # --- embedded engine per role (llama.cpp or ONNX Runtime) ----------------------------
    slm_engine: EngineSetting = Field("auto", description="Engine of the embedded SLM: `llama.cpp`, `onnxruntime` (needs `ragstage models build-onnx --role slm`), or `auto` (the faster one measured for its model, where converted; see docs/engines.md).")
    llm_engine: EngineSetting = Field("auto", description="Engine of the embedded LLM (same choices; `ragstage models build-onnx --role llm`).")
    onnx_dir: Path = Field(Path("~/.cache/ragstage/onnx"), description="Where ONNX Runtime conversions of the GGUF models are kept (one per source file, shared by checkouts).")

    # --- emulated cost (hypothetical cloud prices, USD per 1M tokens) --------------------
    slm_input_usd_per_mtok: float = Field(0.10, ge=0, description="Hypothetical cloud price of SLM input tokens.")
    slm_output_usd_per_mtok: float = Field(0.40, ge=0, description="Hypothetical cloud price of SLM output tokens.")
    llm_input_usd_per_mtok: float = Field(1.25, ge=0, description="Hypothetical cloud price of LLM input tokens.")
    llm_output_usd_per_mtok: float = Field(5.00, ge=0, description="Hypothetical cloud price of LLM output tokens.")

    # --- interface -----------------------------------------------------------------------
    ui_language: str = Field("", pattern=r"^([A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*)?$", description="Language of the chat's own text and of Chainlit's interface for every reader (`en`, `uk`, `zh-CN`: a file in `ragstage/ui/locales/`); empty: each reader's browser language.")

    # --- uploads -----------------------------------------------------------------------
    upload_max_mb: float = Field(10.0, gt=0, description="Largest accepted upload.")
    upload_max_files: int = Field(5, ge=1, description="Most files accepted in one message.")
    uploads_persist: bool = Field(False, description="Save uploads into the knowledge folder (shared by all sessions) instead of the session only.")

    # --- sign-in and history -----------------------------------------------------------
    users_file: Path | None = Field(None, description="File of `user:bcrypt-hash` lines; set it to turn on sign-in and chat history.")
    database_url: str = Field("sqlite+aiosqlite:///.ragstage/chats.db", description="SQLAlchemy URL for chat history (used only with sign-in).")
    chat_files_dir: Path | None = Field(None, description="Where stored chat files (citations, uploads) live; default: next to a SQLite database, else `.ragstage/chat-files`. Share it between app instances.")

    # --- who may call this server (see README, "Security model") --------------------------
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field((), description="Host names served besides `localhost`, `127.0.0.1`, `[::1]` and the bound host (comma-separated; `*.example.org` covers subdomains, `*` turns the check off).")
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field((), description="Other web origins (`https://host[:port]`, comma-separated) whose pages may call this app with the user's cookies; empty: same-origin only.")
    max_generations_per_client: int = Field(2, ge=1, description="Answers one client (signed-in user, else address) may have in progress at once, chat and browser page together; past it the page gets 429, the chat a message.")
    max_generations_total: int = Field(4, ge=1, description="Answers generated at once in all, chat and browser page together.")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for host in hosts:
            if "*" in host[1:] or (host.startswith("*") and host != "*" and not host.startswith("*.")):
                raise ValueError(f"{host!r}: a wildcard is only `*` or a leading `*.` (`*.example.org`)")
        return hosts

    @field_validator("allowed_origins")
    @classmethod
    def _explicit_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        """A wildcard with cookies would let every web page read the user's documents."""
        for origin in origins:
            parts = urlsplit(origin)
            if origin == "*" or parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
                raise ValueError(f"{origin!r} is not an origin like https://host[:port] (`*` is never allowed)")
        return origins


def settings_table_markdown() -> str:
    """The README table, generated so that documentation cannot drift from code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(none)" if default in (None, ()) else str(default)
        rows.append(f"| `RAGSTAGE_{name.upper()}` | `{shown}` | {field.description} |")
    return "\n".join(rows)
