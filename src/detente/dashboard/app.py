"""The dashboard over HTTP: a FastAPI router (the service mounts it) and a standalone app.

Read-only and public: it serves the views of `views.Dashboard` and the static page. The page is
self-contained (no network: no CDN, no tile server, no fonts from elsewhere), and it checks every
proof it shows itself, with the browser's WebCrypto (SHA-256 for the Merkle path, Ed25519 for the
checkpoint's signature), so a reader does not have to trust this server for what the log holds.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from detente.dashboard.views import Dashboard, borders

STATIC = ("app.js", "style.css")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: The page runs only its own script: no inline code, nothing from elsewhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _static(name: str) -> bytes:
    return (resources.files("detente.dashboard") / "static" / name).read_bytes()


def router(board: Dashboard, prefix: str = "/dashboard") -> APIRouter:
    r = APIRouter(prefix=prefix, tags=["dashboard"])
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer"}

    @r.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> Response:
        return HTMLResponse(_static("index.html"), headers=headers)

    @r.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, "no such file")
        return Response(_static(name), media_type=_TYPES[Path(name).suffix], headers=headers)

    @r.get("/api/overview")
    def overview() -> dict[str, Any]:
        """Log origin, the operator's and witnesses' note keys, the latest checkpoint, agreements."""
        return board.overview()

    @r.get("/api/timeline")
    def timeline(limit: int = Query(5000, ge=1, le=100_000)) -> list[dict[str, Any]]:
        """Record metadata in log order: index, kind, author, seq, signed_at (never the body)."""
        return board.timeline(limit)

    @r.get("/api/findings")
    def findings(at: dt.date | None = None) -> dict[str, Any]:
        """Findings at a date (default: the date of the latest record), with inclusion proofs."""
        return board.findings(at or board.default_at())

    @r.get("/api/negotiation")
    def negotiation(at: dt.date | None = None) -> dict[str, Any]:
        """The workspace's proposals compared, and each text's impact at a date."""
        return board.negotiation(at or board.default_at())

    @r.get("/api/map")
    def map_() -> JSONResponse:
        """Sites and simplified border shapes (shipped Natural Earth data)."""
        return JSONResponse(board.map(), headers={"Cache-Control": "max-age=3600"})

    @r.get("/analysis/{name}", include_in_schema=False)
    def plot(name: str) -> Response:
        path = board.plot_path(name)
        if path is None:
            raise HTTPException(404, "no such plot")
        return FileResponse(path, headers=headers)

    borders()  # load the shapes once, before the first page asks
    return r


def create_app(board: Dashboard) -> FastAPI:
    """The dashboard alone (`detente dashboard`); the service includes `router` instead."""
    app = FastAPI(title="Détente dashboard", docs_url=None, redoc_url=None)
    app.include_router(router(board))

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return Response(status_code=307, headers={"Location": "/dashboard/"})

    return app
