"""What every fake chat-platform API shares: an HTTP server on 127.0.0.1 that logs each call, can fail
on purpose, and lets tests wait until the bot has answered or gone quiet."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from aiohttp import ClientSession, web

DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class Sent(Protocol):
    """Something the bot sent: the chat it went to and what a person would see first."""

    @property
    def chat_id(self) -> Any: ...

    @property
    def shown(self) -> str: ...


SentT = TypeVar("SentT", bound=Sent)


class FakeApiError(Exception):
    """An error answer a fake server sends instead of a result."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after
        self.parameters = parameters or {}


@dataclass(slots=True)
class _PlannedFailure:
    status: int
    description: str
    retry_after: int | None
    times: int


class FakeApiServer(Generic[SentT]):
    """The common part of FakeBotApi and the tests' FakeZaloApi; subclasses add their methods and quirks."""

    def __init__(self, *, token: str, quiet_seconds: float) -> None:
        self.token = token
        self.quiet_seconds = quiet_seconds
        self.sent: list[SentT] = []
        self._sent_by_chat: defaultdict[Any, list[SentT]] = defaultdict(list)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.webhook: dict[str, Any] | None = None
        self.too_many_requests = 0
        self.blocked: set[Any] = set()
        self.delays: dict[str, float] = {}  # seconds each call of a method takes (a slow network)
        self._methods: dict[str, Handler] = {}
        self._failures: defaultdict[str, deque[_PlannedFailure]] = defaultdict(deque)
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._webhook_session: ClientSession | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._add_routes(app)
        # A long poll whose client went away must not take the next update with it.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Wake every long poll, drop undelivered webhook posts and close the server."""
        self._stopping.set()
        async with self._changed:
            self._changed.notify_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    def _add_routes(self, app: web.Application) -> None:
        """Routes beyond /bot<TOKEN>/<method>, e.g. file downloads."""

    # --- levers ----------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 502,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail with this status; plans queue up in order."""
        text = description or DESCRIPTIONS.get(status, "Error")
        self._failures[method].append(_PlannedFailure(status, text, retry_after, times))

    def block(self, chat_id: Any) -> None:
        """The user blocked the bot (or the bot was removed from the group): sends there answer 403."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: Any) -> None:
        self.blocked.discard(chat_id)

    # --- what tests wait for ---------------------------------------------------------------------

    def mark(self) -> int:
        """A position in `sent`, for `wait_for(since=...)`."""
        return len(self.sent)

    def messages_to(self, chat_id: Any) -> list[SentT]:
        """Kept per chat as they are sent: tests with hundreds of people poll this often."""
        return list(self._sent_by_chat.get(chat_id, ()))

    async def wait_for(
        self, count: int, *, chat_id: Any = None, timeout: float = 15.0, since: int = 0
    ) -> list[SentT]:
        """Wait until `count` messages (to `chat_id`, when given) were sent after `since`; returns them."""

        def matching() -> list[SentT]:
            return [m for m in self.sent[since:] if chat_id is None or m.chat_id == chat_id]

        # Each check looks only at what was sent since the last one: every message wakes every
        # waiter, and with hundreds of people waiting at once rescanning would be quadratic.
        found: list[SentT] = []
        scanned = since

        def enough() -> bool:
            nonlocal scanned
            new = self.sent[scanned:]
            scanned += len(new)
            found.extend(m for m in new if chat_id is None or m.chat_id == chat_id)
            return len(found) >= count

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(enough)
        except TimeoutError:
            seen = "; ".join(f"{m.chat_id}: {m.shown[:80]!r}" for m in self.sent[since:])
            raise TimeoutError(
                f"waited {timeout}s for {count} message(s) to {chat_id}; got {len(matching())}. Sent: {seen}"
            ) from None
        return matching()

    async def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until every update was handed over and the bot has made no call for a short quiet spell."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            quiet = time.monotonic() - self._last_activity >= self.quiet_seconds
            if self._all_handed_over() and quiet and self._in_flight == 0:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError(f"the bot did not go idle within {timeout}s")

    @property
    def busy(self) -> bool:
        """A call of the bot's (other than a long poll) is being answered right now."""
        return self._in_flight > 0

    def _all_handed_over(self) -> bool:
        """No update is still waiting for the bot to fetch it."""
        return True

    # --- the HTTP side ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._parameters(request)
        self.calls.append((method, params))
        handler = self._methods.get(method)
        if handler is None:
            return error_response(404, "Not Found: method not found")
        counted = method != "getUpdates"  # a long poll waiting is not the bot being busy
        if counted:
            self._in_flight += 1
            self._touch()
        try:
            if self.delays.get(method):
                await asyncio.sleep(self.delays[method])
            self._check_planned_failure(method)
            result = await handler(params)
        except FakeApiError as error:
            return error_response(error.status, error.description, error.retry_after, error.parameters)
        finally:
            if counted:
                self._in_flight -= 1
                self._touch()
        return web.json_response({"ok": True, "result": result})

    async def _parameters(self, request: web.Request) -> dict[str, Any]:
        raise NotImplementedError

    def _check_planned_failure(self, method: str) -> None:
        planned = self._failures.get(method)
        if not planned:
            return
        failure = planned[0]
        failure.times -= 1
        if failure.times <= 0:
            planned.popleft()
        if failure.status == 429:
            self.too_many_requests += 1
        raise FakeApiError(failure.status, failure.description, failure.retry_after)

    # --- bookkeeping -----------------------------------------------------------------------------

    def _add_sent(self, sent: SentT) -> None:
        """Log a message the bot sent (in `sent` and by chat)."""
        self.sent.append(sent)
        self._sent_by_chat[sent.chat_id].append(sent)

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        self._spawn(notify())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def error_response(
    status: int, description: str, retry_after: int | None = None, parameters: dict[str, Any] | None = None
) -> web.Response:
    """An API error answer, with retry_after for a 429 (and other parameters, as Telegram gives them)."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    extra = dict(parameters or {})
    if retry_after is not None:
        extra["retry_after"] = retry_after
    if extra:
        body["parameters"] = extra
    return web.json_response(body, status=status)
