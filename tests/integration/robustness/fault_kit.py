"""What the fault and fuzzing tests share: the scripted model server, a small knowledge folder
and settings that point a runtime at them. (Not named conftest: test modules import from it.)"""

from __future__ import annotations

import sys
from pathlib import Path

from ragstage.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scripted_openai_server import ScriptedServerProcess  # noqa: E402,F401

BM25_NOTE = (
    "# BM25 notes\n\n## Defaults\n\nBM25Okapi ranks passages by term frequency and inverse document "
    "frequency. Its default k1 is 1.5 and its default b is 0.75.\n"
)
SERVING_NOTE = (
    "# Serving notes\n\nThe embedded default runs small bundled models on a local llama.cpp server "
    "that the app starts and stops itself.\n"
)
QUESTION = "What are the default k1 and b of BM25Okapi?"
# BM25 gives a term found in half the documents no weight: a few unrelated notes keep the
# folder realistic enough for relevance scores to mean something.
FILLER_TOPICS = ("gardening tomatoes in spring", "tuning a bicycle gear", "baking sourdough bread",
                 "painting a fence", "repairing a leaking tap", "planning a hiking trip")


def write_knowledge(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bm25.md").write_text(BM25_NOTE, encoding="utf-8")
    (folder / "serving.md").write_text(SERVING_NOTE, encoding="utf-8")
    for n, topic in enumerate(FILLER_TOPICS):
        (folder / f"filler-{n}.md").write_text(f"# Notes on {topic}\n\nA short note about {topic}.\n")
    return folder


def remote_settings(tmp_path: Path, knowledge: Path, base_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        knowledge_dir=knowledge, cache_dir=tmp_path / "cache", backend="remote",
        slm_base_url=base_url, llm_base_url=base_url, slm_model="scripted-slm", llm_model="scripted-llm",
        first_token_timeout_s=1.0, request_retries=0, discovery_timeout_s=1.0,
        start_embedded_at_launch=False, max_answer_tokens=64,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)
