"""One small web server for everything the bot serves: webhooks, pictures for Zalo, the ward's page.

Routes are grouped by port, so the Telegram webhook, the Zalo webhook and the web page can listen
where the settings say, each behind the same reverse proxy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 2 * 1024 * 1024


class HttpServer:
    """aiohttp applications on the ports routes were added for; started once, stopped at shutdown."""

    def __init__(self, listen: str) -> None:
        self.listen = listen
        self._apps: dict[int, web.Application] = {}
        self._runners: list[web.AppRunner] = []
        self.ports: dict[int, int] = {}  # asked port → bound port (0 asks for a free one, in tests)

    def app(self, port: int) -> web.Application:
        """The application serving `port`, to add routes or sub-applications to."""
        if port not in self._apps:
            self._apps[port] = web.Application(client_max_size=MAX_BODY)
        return self._apps[port]

    def route(self, port: int, method: str, path: str, handler: Handler) -> None:
        self.app(port).router.add_route(method, path, handler)

    async def start(self) -> None:
        for port, app in self._apps.items():
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, self.listen, port)
            await site.start()
            sockets = getattr(site._server, "sockets", None) or []
            self.ports[port] = int(sockets[0].getsockname()[1]) if sockets else port
            self._runners.append(runner)

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
