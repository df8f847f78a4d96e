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

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex
    from ragstage.runtime import Runtime

GetRuntime = Callable[[], Awaitable["Runtime"]]
log = logging.getLogger(__name__)

PAGE_FILES: dict[str, str] = {
    "webgpu_demo_chart.js": "text/javascript; charset=utf-8",
    "webgpu_demo_engine.js": "text/javascript; charset=utf-8",
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


def build_router(get_runtime: GetRuntime) -> APIRouter:
    router = APIRouter()
    engine = locate_in_tab_engine()
    for name in PAGE_FILES:  # exact paths: every other /public/ file stays Chainlit's
        router.add_api_route(f"/public/{name}", _page_route(name), methods=["GET", "HEAD"], include_in_schema=False)
    _add_api_routes(router, get_runtime, engine)
    _add_engine_routes(router, engine)
    return router


def _add_api_routes(router: APIRouter, get_runtime: GetRuntime, engine: InTabEngine) -> None:
    @router.get(f"{API_PREFIX}/config")
    async def config() -> Response:
        try:
            runtime = await _runtime(get_runtime)
        except RequestRejected as err:
            return _rejected(err)
        return JSONResponse(await page_config(runtime, engine))

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
        return JSONResponse(await asyncio.to_thread(page_prompt, body, index, options))


def _add_engine_routes(router: APIRouter, engine: InTabEngine) -> None:
    @router.api_route(f"{ENGINE_PREFIX}/{{name}}", methods=["GET", "HEAD"], include_in_schema=False)
    async def engine_file(name: str) -> Response:
        if name not in ENGINE_FILES or engine.wllama_dir is None:
            raise HTTPException(status_code=404, detail="no such engine file")
        inside, media_type = ENGINE_FILES[name]
        headers = {**ISOLATION_HEADERS, "Cache-Control": "no-cache"}
        if name.endswith(".wasm"):
            headers |= UNCOMPRESSED
        return FileResponse(engine.wllama_dir / inside, media_type=media_type, headers=headers)

    @router.api_route(f"{MODEL_PREFIX}/{{version}}/{{name}}", methods=["GET", "HEAD"], include_in_schema=False)
    async def model_file(version: str, name: str) -> Response:
        if engine.model_path is None or (version, name) != (engine.model_version, engine.model_file_name):
            raise HTTPException(status_code=404, detail="no such model file")
        # The URL changes with the file, so the browser may keep it for good.
        headers = {**ISOLATION_HEADERS, **UNCOMPRESSED, "Cache-Control": "public, max-age=31536000, immutable"}
        return FileResponse(engine.model_path, media_type="application/octet-stream", headers=headers)


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
