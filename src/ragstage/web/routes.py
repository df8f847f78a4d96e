"""The browser page's routes, installed into any FastAPI app (Chainlit's in production).

`install_routes(app, get_runtime)` serves the page itself (with the cross-origin isolation
headers that let the in-tab engine use threads), its JSON config, the SSE answer stream, the
prompt for the in-tab engine, and the in-tab engine's files. The routes go to the front of the
app's route list so that Chainlit's `/public/...` route and catch-all page route never shadow them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from ragstage.web.assets import (
    ENGINE_FILES,
    ENGINE_PREFIX,
    MODEL_PREFIX,
    InTabEngine,
    locate_in_tab_engine,
    project_roots,
)
from ragstage.web.config import page_config, page_prompt
from ragstage.web.request import RequestRejected, StreamRequest, parse_stream_request
from ragstage.web.stream import page_options, reference_index, sse_stream
from ragstage.web.webgpu_assets import ORT_FILES, in_tab_prompt_ids

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex
    from ragstage.runtime import Runtime

GetRuntime = Callable[[], Awaitable["Runtime"]]
log = logging.getLogger(__name__)

PAGE_FILES: dict[str, str] = {
    "webgpu_demo_chart.js": "text/javascript; charset=utf-8",
    "webgpu_demo_engine.js": "text/javascript; charset=utf-8",
    "webgpu_demo_backend.js": "text/javascript; charset=utf-8",
    "webgpu_demo_ort.js": "text/javascript; charset=utf-8",
    "webgpu_demo.html": "text/html; charset=utf-8",
    "webgpu_demo.js": "text/javascript; charset=utf-8",
    "webgpu_demo.css": "text/css; charset=utf-8",
}
API_PREFIX = "/api/webgpu-demo"

# Same-origin only: `connect-src 'self'` is what makes "nothing leaves this machine" true.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "connect-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'self'"
)
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
# The GGUF and the wasm are already dense: compressing them (Chainlit adds a gzip middleware)
# costs seconds and hides Content-Length from the engine's progress bar.
UNCOMPRESSED = {"Content-Encoding": "identity"}


def _public_file(name: str) -> Path:
    for root in project_roots():
        path = root / "public" / name
        if path.is_file():
            return path
    raise HTTPException(status_code=404, detail=f"{name} not found in public/")


def _page_file(name: str) -> FileResponse:
    headers = {**ISOLATION_HEADERS, "Cache-Control": "no-cache"}
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = PAGE_CSP
    return FileResponse(_public_file(name), media_type=PAGE_FILES[name], headers=headers)


def _page_route(name: str) -> Callable[[], Awaitable[FileResponse]]:
    async def serve_page_file() -> FileResponse:
        return _page_file(name)

    return serve_page_file


def _rejected(err: RequestRejected) -> JSONResponse:
    return JSONResponse({"error": str(err)}, status_code=err.status)


class InTabFiles:
    """The in-tab engines' files as last located: again on every config request (each page
    load), so a model converted while the app runs is offered without a restart."""

    def __init__(self) -> None:
        self.engine = locate_in_tab_engine()

    async def relocate(self) -> InTabEngine:
        self.engine = await asyncio.to_thread(locate_in_tab_engine)
        return self.engine


def build_router(get_runtime: GetRuntime) -> APIRouter:
    router = APIRouter()
    files = InTabFiles()
    for name in PAGE_FILES:  # exact paths: every other /public/ file stays Chainlit's
        router.add_api_route(f"/public/{name}", _page_route(name), methods=["GET", "HEAD"], include_in_schema=False)
    _add_api_routes(router, get_runtime, files)
    _add_engine_routes(router, files)
    return router


def _add_api_routes(router: APIRouter, get_runtime: GetRuntime, files: InTabFiles) -> None:
    @router.get(f"{API_PREFIX}/config")
    async def config() -> Response:
        try:
            runtime = await _runtime(get_runtime)
        except RequestRejected as err:
            return _rejected(err)
        return JSONResponse(await page_config(runtime, await files.relocate()))

    @router.post(f"{API_PREFIX}/stream")
    async def stream(request: Request) -> Response:
        try:
            body, runtime, index = await _question_context(request, get_runtime)
        except RequestRejected as err:
            return _rejected(err)
        events = runtime.answer_stream(body.question, page_options(body, runtime.settings), index=index)
        frames = sse_stream(events, request.is_disconnected)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(frames, media_type="text/event-stream", headers=headers)

    @router.post(f"{API_PREFIX}/prompt")
    async def prompt(request: Request) -> Response:
        try:
            body, runtime, index = await _question_context(request, get_runtime)
        except RequestRejected as err:
            return _rejected(err)
        options = page_options(body, runtime.settings)
        prompt = await asyncio.to_thread(page_prompt, body, index, options)
        if request.query_params.get("tokens") == "webgpu":  # the WebGPU engine runs token ids
            prompt = await _with_prompt_ids(prompt, files.engine)
        return JSONResponse(prompt)


async def _with_prompt_ids(prompt: dict[str, Any], engine: InTabEngine) -> dict[str, Any] | Response:
    model = engine.webgpu.model if engine.webgpu else None
    if model is None:
        return _rejected(RequestRejected(409, "this app has no WebGPU model: run `ragstage models build-onnx --browser`"))
    ids = await asyncio.to_thread(in_tab_prompt_ids, model, prompt["messages"]) if prompt["messages"] else []
    return prompt | {"input_ids": ids}


def _engine_file(engine: InTabEngine, name: str) -> tuple[Path, str] | None:
    """An allow-listed engine file: wllama's, or ONNX Runtime Web's."""
    if name in ENGINE_FILES and engine.wllama_dir is not None:
        inside, media_type = ENGINE_FILES[name]
        return engine.wllama_dir / inside, media_type
    ort_dir = engine.webgpu.ort_dir if engine.webgpu else None
    return (ort_dir / name, ORT_FILES[name]) if name in ORT_FILES and ort_dir is not None else None


def _model_file(engine: InTabEngine, version: str, name: str) -> Path | None:
    """The GGUF of the WebAssembly engine, or a file of the WebGPU conversion."""
    if engine.model_path is not None and (version, name) == (engine.model_version, engine.model_file_name):
        return engine.model_path
    return engine.webgpu.model_file(version, name) if engine.webgpu else None


def _add_engine_routes(router: APIRouter, files: InTabFiles) -> None:
    @router.api_route(f"{ENGINE_PREFIX}/{{name}}", methods=["GET", "HEAD"], include_in_schema=False)
    async def engine_file(name: str) -> Response:
        found = _engine_file(files.engine, name)
        if found is None:
            raise HTTPException(status_code=404, detail="no such engine file")
        headers = {**ISOLATION_HEADERS, "Cache-Control": "no-cache"}
        if name.endswith(".wasm"):
            headers |= UNCOMPRESSED
        return FileResponse(found[0], media_type=found[1], headers=headers)

    @router.api_route(f"{MODEL_PREFIX}/{{version}}/{{name}}", methods=["GET", "HEAD"], include_in_schema=False)
    async def model_file(version: str, name: str) -> Response:
        path = _model_file(files.engine, version, name)
        if path is None:
            raise HTTPException(status_code=404, detail="no such model file")
        # The URL changes with the file, so the browser may keep it for good.
        headers = {**ISOLATION_HEADERS, **UNCOMPRESSED, "Cache-Control": "public, max-age=31536000, immutable"}
        return FileResponse(path, media_type="application/octet-stream", headers=headers)


async def _runtime(get_runtime: GetRuntime) -> Runtime:
    """The app's runtime; if it could not start, the page gets the reason instead of a 500."""
    try:
        return await get_runtime()
    except Exception as err:
        log.exception("the browser page could not get the app's runtime")
        raise RequestRejected(503, f"the app is not ready: {err}") from None


async def _question_context(request: Request, get_runtime: GetRuntime) -> tuple[StreamRequest, Runtime, ChunkIndex]:
    """What both question endpoints need; raises RequestRejected with the reason for the page."""
    body = parse_stream_request(await request.body())
    runtime = await _runtime(get_runtime)
    return body, runtime, await _index_for(body, runtime)


async def _index_for(body: StreamRequest, runtime: Runtime) -> ChunkIndex:
    """The app's knowledge base, or a throw-away index of the text the page sent."""
    if body.use_knowledge_base:
        return runtime.knowledge.index
    return await asyncio.to_thread(reference_index, body.context, runtime.settings)


def install_routes(app: FastAPI, get_runtime: GetRuntime) -> None:
    """Add the page's routes ahead of every route the app already has.

    Answers go through `Runtime.answer_stream`, so the page uses the app's configured
    endpoints, API key and model seam, and nothing else.
    """
    router = build_router(get_runtime)
    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
