"""Wiring: the running bot — its channels, the dispatcher, the outbox worker, the scheduler, the web server.

Channels sit at the edge; everything between them and the database is platform-neutral and exists
once, whichever channels a deployment runs (Telegram, Zalo, both).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import sys
from types import TracebackType
from typing import Self

from sqlalchemy.exc import OperationalError

import conversations  # noqa: F401  (registers the multi-step flows)
import handlers  # noqa: F401  (registers the single-step commands)
from bot.channels.telegram import TelegramChannel
from bot.channels.web import WebPages
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.dispatcher import Channel, Dispatcher
from bot.http import HttpServer
from bot.membership import GroupRow, apply_ward_groups
from bot.outbox import OutboxWorker, Sender
from bot.run_lock import keep_run_lock
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.staff import announce_setup_links
from bot.ward_config import WardFile, default_ward_file, load_wards
from bot.wards import sync_wards
from bot.web_signin import web_base_url
from bot.wiring import Wiring
from bot.workers import Presence
from storage.engine import DatabaseUnavailable, create_engine, create_session_factory
from storage.migrate import upgrade
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.0005  # seconds a thread waits for the interpreter before asking for it

STOP_GRACE = 5.0


def load_ward(settings: Settings) -> WardFile:
    """The (first) ward file named by WARD_CONFIG, or the built-in defaults when unset."""
    return load_ward_files(settings)[0]


def load_ward_files(settings: Settings) -> tuple[WardFile, ...]:
    """Every ward of the deployment: WARD_CONFIG names one file, or a folder of them (one per ward)."""
    if settings.ward_config is not None:
        return load_wards(settings.ward_config)
    return (default_ward_file(),)


async def migrate(settings: Settings) -> None:
    """Apply pending migrations with a short-lived engine; a database that cannot be opened or written
    raises `DatabaseUnavailable` (one line naming DATABASE_URL)."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    except (OperationalError, OSError) as error:
        where = engine.url.render_as_string(hide_password=True)
        cause = getattr(error, "orig", None) or error
        reason = " ".join(str(cause).split())[:200] or type(cause).__name__
        raise DatabaseUnavailable(
            f"DATABASE_URL: cannot open the database {where} ({reason}); check that its folder exists "
            "and that this user may write there"
        ) from None
    finally:
        await engine.dispose()


def make_wiring(settings: Settings, ward: WardFile, ward_files: tuple[WardFile, ...] = ()) -> Wiring:
    """The engine and session factory (no connection is opened until first use)."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    return Wiring(
        settings=settings,
        ward=ward,
        engine=engine,
        factory=create_session_factory(engine),
        ward_files=ward_files or (ward,),
    )


async def prepare(wiring: Wiring, *, groups: bool = True) -> None:
    """The deployment's wards in the database (`wiring.wards` filled), with their ward files' groups
    (see `apply_ward_groups`: edits made in chat or by CSV stay), one log line per group changed."""
    async with unit_of_work(wiring.factory) as uow:
        wiring.wards = await sync_wards(uow, wiring.all_ward_files)
        changes = []
        for ward_id, ward in wiring.wards.items():
            if groups and ward.groups:
                rows = [
                    GroupRow(g.code, g.name, g.households, g.block, has_block=g.block is not None)
                    for g in ward.groups
                ]
                changes += await apply_ward_groups(uow, ward_id, rows, now=wiring.clock())
    for change in changes:
        if change.created:
            log.info("ward file: added group %s (new in the ward file)", change.code)
        if change.applied:
            said = ", ".join(f"{field} {before!r} → {after!r}" for field, before, after in change.applied)
            log.info(
                "ward file: group %s: %s (changed in the ward file since the last start)", change.code, said
            )
        if change.kept:
            said = ", ".join(f"{field} {now!r} (the file says {file!r})" for field, now, file in change.kept)
            log.warning(
                "ward file: group %s keeps %s, set in chat or by CSV; "
                "edit its entry in the ward file to apply the file's value",
                change.code,
                said,
            )


class WardBot:
    """One running bot: start it, let it work, stop it (or use it as an async context manager)."""

    def __init__(
        self,
        wiring: Wiring,
        *,
        telegram: TelegramChannel | None = None,
        zalo: ZaloChannel | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self.wiring = wiring
        self.telegram, self.zalo = telegram, zalo
        self.webhook_secret = webhook_secret
        self.http = HttpServer(wiring.settings.webhook_listen)
        senders: dict[str, Sender] = {}
        channels: list[Channel] = []
        if telegram is not None:
            senders[telegram.platform] = telegram.sender
            channels.append(telegram)
        if zalo is not None:
            senders[zalo.platform] = zalo.sender
            channels.append(zalo)
        several = wiring.engine.dialect.name == "postgresql"  # workers may share the database
        self.outbox = OutboxWorker(wiring, senders, recover=not several)
        self.dispatcher = Dispatcher(wiring, self.outbox)
        for one in channels:
            self.dispatcher.add_channel(one)
        self.scheduler = Scheduler(wiring, self.outbox.wake)
        self.presence = Presence(wiring, on_leader=self._lead, on_share=self._share)
        self.web = WebPages(wiring, self.outbox.wake)
        self.web.mount(self.http, wiring.settings.web_port)
        self._started = False

    async def start(self) -> None:
        """Connect, handle what the last run left, then receive, send and follow the schedules."""
        wiring = self.wiring
        await prepare(wiring)
        if self.telegram is not None:
            await self.telegram.connect()
        await self.outbox.recover_now()
        await self.dispatcher.recover()
        if self.telegram is not None:
            await self.telegram.start(self.dispatcher.receive, self.http, webhook_secret=self.webhook_secret)
        if self.zalo is not None:
            await self.zalo.start(self.dispatcher.receive, self.http)
        await self.http.start()
        wiring.web_port = self.http.ports[wiring.settings.web_port]
        self.outbox.start()
        await self.presence.start()
        self._started = True

    async def _lead(self) -> None:
        """This worker leads: it prints setup links for wards without staff, sets the webhooks and runs the
        schedules (once among the workers)."""
        settings = self.wiring.settings
        username = self.telegram.username if self.telegram is not None else ""
        await announce_setup_links(self.wiring, username, zalo=self.zalo is not None)
        if self.telegram is not None and settings.webhook_url is not None:
            await self.telegram.set_webhook()
        if self.zalo is not None and settings.zalo_webhook_url is not None:
            await self.zalo.set_webhook()
        self.scheduler.start()

    def _share(self, fraction: float) -> None:
        """Each live worker paces at its share of the platforms' flood limits."""
        for sender in self.outbox.senders.values():
            sender.limiter.set_share(fraction)

    async def stop(self, *, grace: float = STOP_GRACE) -> None:
        """Stop receiving, let updates and sends in flight finish for `grace` seconds, close everything."""
        for channel in (self.telegram, self.zalo):
            if channel is not None:
                await channel.stop()
        await self.dispatcher.stop(grace=grace)
        await self.presence.stop()
        self.scheduler.stop()
        await self.outbox.stop(grace=grace)
        await self.http.stop()
        for channel in (self.telegram, self.zalo):
            if channel is not None:
                await channel.close()
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()


def build_bot(settings: Settings, wiring: Wiring) -> WardBot:
    """The channels the settings ask for: Telegram when its token is set, Zalo when its token is."""
    telegram = None
    if settings.telegram_bot_token:
        telegram = TelegramChannel(
            wiring, token=settings.telegram_bot_token, base_url=settings.telegram_api_base_url
        )
    zalo = None
    if settings.zalo_bot_token:
        zalo = ZaloChannel(wiring, ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url))
    secret = settings.webhook_secret
    if settings.webhook_url is not None and secret is None:
        log.info("WEBHOOK_SECRET not set: using a random secret for this run")
        secret = secrets.token_urlsafe(32)
    return WardBot(wiring, telegram=telegram, zalo=zalo, webhook_secret=secret)


async def serve(settings: Settings) -> None:
    """Migrate, then serve until SIGINT or SIGTERM."""
    settings.require_token()
    wards = load_ward_files(settings)
    await migrate(settings)
    wiring = make_wiring(settings, wards[0], wards)
    bot = build_bot(settings, wiring)
    stop = _stop_on_signal()
    try:
        await bot.start()
        modes = []
        if bot.telegram is not None:
            modes.append("Telegram " + ("webhook" if settings.webhook_url else "long polling"))
        if bot.zalo is not None:
            modes.append("Zalo " + ("webhook" if settings.zalo_webhook_url else "long polling"))
        log.info("serving %s; the web page at %s", ", ".join(modes), web_base_url(wiring))
        await stop.wait()
    finally:
        await bot.stop()
        await wiring.engine.dispose()


def _stop_on_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (where the platform lets a process listen for them)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
    return stop


async def serve_web(settings: Settings) -> None:
    """`wardbot web`: only the ward's web page, until SIGINT or SIGTERM. What its forms send (reminders,
    reopening notices) waits in the outbox for a running `wardbot run`."""
    wards = load_ward_files(settings)
    await migrate(settings)
    wiring = make_wiring(settings, wards[0], wards)
    http = HttpServer(settings.webhook_listen)
    WebPages(wiring).mount(http, settings.web_port)
    stop = _stop_on_signal()
    try:
        await prepare(wiring)
        await http.start()
        wiring.web_port = http.ports[settings.web_port]
        log.info("serving the web page at %s", web_base_url(wiring))
        await stop.wait()
    finally:
        await http.stop()
        await wiring.engine.dispose()


def run(settings: Settings) -> None:
    """`wardbot run`: Telegram and/or Zalo, whichever tokens are set; one bot per database file.

    The run lock is held until the process ends, so `wardbot restore` refuses meanwhile (and a second
    `wardbot run` on the same SQLite file stops with one line); PostgreSQL workers share it.
    """
    settings.require_token()
    keep_run_lock(settings.database_url, shared=settings.database_url.startswith("postgresql"))
    # Every SQL statement is handed to a driver thread (aiosqlite's, or asyncpg's I/O) and back. With
    # the default switch interval of 5 ms, a woken thread may wait that long for the interpreter while
    # the event loop is busy with other chats: on SQLite, whose one writer holds the write lock across
    # a turn's ten statements, that wait was most of a turn on a loaded machine. 0.5 ms hands over sooner.
    sys.setswitchinterval(SWITCH_INTERVAL)
    asyncio.run(serve(settings))
