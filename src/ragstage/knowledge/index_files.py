"""The on-disk form of a ChunkIndex: `index.json` plus one .npy file per array, no pickle.

Loading never trusts the files: format version, analyzer version, array shapes and cross
references are checked, and anything off raises IndexFormatError so the caller rebuilds instead
of serving a broken index (terms from another analyzer would silently stop matching queries).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ragstage.knowledge.analyzer import analyzer_version
from ragstage.knowledge.records import Chunk
from ragstage.knowledge.segments import Segment

FORMAT = "ragstage-chunk-index"
VERSION = 1
_ARRAYS = ("indptr", "postings_doc", "postings_tf", "doc_len")


class IndexFormatError(ValueError):
    """A saved index that is missing, truncated, from another version, or inconsistent."""


def _save_segment(seg: Segment, folder: Path, name: str) -> dict[str, Any]:
    for array in _ARRAYS:
        values = getattr(seg, array)
        np.save(folder / f"{name}.{array}.npy", values.astype(np.int32) if array == "postings_tf" else values,
                allow_pickle=False)
    return {"terms": list(seg.terms), "size": seg.size, "postings": int(len(seg.postings_doc))}


def save_state(state: Any, folder: Path, size_tokens: int, overlap_tokens: int) -> None:
    """Write every array first and index.json last: a crash mid-save leaves no valid index.json."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.json").unlink(missing_ok=True)
    alive = state.base_alive if state.base_alive is not None else np.ones(state.base.size, bool)
    np.save(folder / "base.alive.npy", alive, allow_pickle=False)
    manifest = {
        "format": FORMAT, "version": VERSION, "analyzer": analyzer_version(),
        "size_tokens": size_tokens, "overlap_tokens": overlap_tokens,
        "base": _save_segment(state.base, folder, "base") | {"ids": list(state.base_ids)},
        "delta": _save_segment(state.delta, folder, "delta") | {"ids": list(state.delta_ids)},
        "chunks": [asdict(chunk) for chunk in state.chunks.values()],
    }
    tmp = folder / "index.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    tmp.replace(folder / "index.json")


def _load_array(path: Path, dtype: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise IndexFormatError(f"{path.name}: {err}") from None
    if array.ndim != 1 or array.dtype.kind != dtype:
        raise IndexFormatError(f"{path.name}: unexpected array {array.dtype}{array.shape}")
    return array


def _load_segment(folder: Path, name: str, meta: dict[str, Any]) -> Segment:
    arrays = {a: _load_array(folder / f"{name}.{a}.npy", "i") for a in _ARRAYS}
    terms = tuple(meta["terms"])
    indptr = arrays["indptr"]
    consistent = (
        len(indptr) == len(terms) + 1 and len(arrays["doc_len"]) == meta["size"] == len(meta["ids"])
        and len(arrays["postings_doc"]) == len(arrays["postings_tf"]) == meta["postings"] == int(indptr[-1])
        and (meta["size"] == 0 or (arrays["postings_doc"].max(initial=0) < meta["size"]
                                   and arrays["postings_doc"].min(initial=0) >= 0))
        and bool(np.all(np.diff(indptr) >= 0))
    )
    if not consistent:
        raise IndexFormatError(f"{name} segment arrays do not match index.json")
    return Segment(terms, indptr.astype(np.int64), arrays["postings_doc"].astype(np.int32),
                   arrays["postings_tf"].astype(np.float64), arrays["doc_len"].astype(np.int64))


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IndexFormatError(f"index.json unreadable: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexFormatError("not a ragstage chunk index")
    if manifest.get("version") != VERSION:
        raise IndexFormatError(f"index version {manifest.get('version')} (this ragstage reads {VERSION})")
    if manifest.get("analyzer") != analyzer_version():
        raise IndexFormatError(f"index analysed by {manifest.get('analyzer') or 'an older analyzer'}, "
                               f"this ragstage analyses with {analyzer_version()}")
    return manifest


def load_state(folder: Path) -> tuple[dict[str, Any], int, int]:
    """Keyword arguments for `_State.create`, plus the chunking parameters the index was built with."""
    manifest = _read_manifest(folder)
    try:
        base = _load_segment(folder, "base", manifest["base"])
        delta = _load_segment(folder, "delta", manifest["delta"])
        chunks = {c["chunk_id"]: Chunk(**c) for c in manifest["chunks"]}
        base_ids, delta_ids = tuple(manifest["base"]["ids"]), tuple(manifest["delta"]["ids"])
        size_tokens, overlap_tokens = int(manifest["size_tokens"]), int(manifest["overlap_tokens"])
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, IndexFormatError):
            raise
        raise IndexFormatError(f"index.json malformed: {err!r}") from None
    alive = _load_array(folder / "base.alive.npy", "b")
    if len(alive) != base.size:
        raise IndexFormatError("base.alive.npy does not match the base segment")
    live_ids = [c for c, keep in zip(base_ids, alive.tolist()) if keep] + list(delta_ids)
    if set(live_ids) != set(chunks) or len(live_ids) != len(chunks):
        raise IndexFormatError("chunk list does not match the segments")
    grouped: dict[str, list[Chunk]] = {}
    for chunk in chunks.values():
        grouped.setdefault(chunk.source, []).append(chunk)
    by_source = {s: tuple(c.chunk_id for c in sorted(group, key=lambda c: (c.start_char, c.chunk_id)))
                 for s, group in grouped.items()}
    parts = {"base": base, "base_alive": alive, "base_ids": base_ids, "base_pos": None, "delta": delta,
             "delta_ids": delta_ids, "chunks": chunks, "by_source": by_source}
    return parts, size_tokens, overlap_tokens
