"""One demo workspace for the dashboard tests (the demo takes a few seconds), and a real HTTP
server on a free loopback port for the browser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from detente.dashboard.app import create_app
from detente.dashboard.views import Dashboard
from detente.workspace import Workspace


@pytest.fixture(scope="session")
def board(demo_ws: Path) -> Dashboard:
    return Dashboard.open(Workspace.open(demo_ws))


@pytest.fixture(scope="session")
def server(board: Dashboard) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(board), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not t.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)
