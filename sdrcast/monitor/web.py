"""The station's web page (Starlette, served by uvicorn in a thread): ``/`` the live view,
``/api/state`` its data as JSON, ``/api/stream`` the same pushed every second (server-sent
events), ``/metrics`` for Prometheus, ``/recordings/…`` the alarm recordings. The page is one
file with its script inline and draws on canvases: it needs nothing from the internet."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from sdrcast.errors import DeviceError

PAGE = Path(__file__).with_name("page.html")


def app_for(station):
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    def _json(obj) -> str:
        from sdrcast.flowgraphs.common import to_json

        return to_json(obj, indent=None)

    async def page(request):
        return HTMLResponse(PAGE.read_text())

    async def state(request):
        return Response(_json(station.state()), media_type="application/json")

    async def stream(request):
        async def events():
            while not await request.is_disconnected():
                yield f"data: {_json(station.state())}\n\n"
                await asyncio.sleep(1.0)
        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def metrics(request):
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(station.prom.text(), media_type=CONTENT_TYPE_LATEST)

    async def health(request):
        return JSONResponse({"ok": True, "time": time.time()})

    return Starlette(routes=[
        Route("/", page), Route("/api/state", state), Route("/api/stream", stream),
        Route("/metrics", metrics), Route("/health", health),
        Mount("/recordings", StaticFiles(directory=station.cfg.recordings, check_dir=False)),
    ])


class WebServer:
    """uvicorn serving ``app_for(station)`` on HOST:PORT from a thread (port 0: any free one;
    ``address`` says which)."""

    def __init__(self, station, http: str):
        import uvicorn

        host, _, port = http.rpartition(":")
        self.server = uvicorn.Server(uvicorn.Config(app_for(station), host=host, port=int(port),
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, name="monitor-web", daemon=True)
        self.address = http

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise DeviceError(f"station.http {self.address}: the web server did not start "
                                  "(address in use?)")
            time.sleep(0.02)
        sock = self.server.servers[0].sockets[0].getsockname()
        self.address = f"{sock[0]}:{sock[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)

