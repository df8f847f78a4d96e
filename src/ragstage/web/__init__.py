"""The browser page's server side: a same-origin SSE answer stream and the in-tab engine's files.

Never imports Chainlit: `install_routes` takes any FastAPI app (Chainlit's `chainlit.server.app`
in production, a bare FastAPI app in tests).
"""

from ragstage.web.request import MAX_CONTEXT_CHARS, MAX_QUESTION_CHARS, StreamRequest
from ragstage.web.routes import install_routes

__all__ = ["MAX_CONTEXT_CHARS", "MAX_QUESTION_CHARS", "StreamRequest", "install_routes"]
