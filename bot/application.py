"""Wiring: build the python-telegram-bot application from settings, the ward file and the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlparse

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.access import Caller, ChatKind, Role, allowed_commands
from bot.channels.telegram import (
    BotData,
    PerChatUpdateProcessor,
    WardApplication,
    WardContext,
    on_error,
    publish_menu,
)
from bot.channels.telegram_delivery import start_outbox, stop_outbox
from bot.channels.telegram_schedules import schedule_all
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.i18n import LANGUAGES, use_language
from bot.membership import GroupRow, upsert_groups
from bot.run_lock import keep_run_lock
from bot.settings import Settings
from bot.ward_config import WardFile, default_ward_file, load_ward_config
from bot.wiring import Wiring
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

UPDATE_MEMORY = timedelta(days=2)


def load_ward(settings: Settings) -> WardFile:
    """The ward file named by WARD_CONFIG, or the built-in defaults (TIMEZONE applies) when unset."""
    if settings.ward_config is not None:
        return load_ward_config(settings.ward_config)
    return default_ward_file()


async def migrate(settings: Settings) -> None:
    """Apply pending migrations with a short-lived engine."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def make_wiring(settings: Settings, ward: WardFile) -> Wiring:
    """The engine and session factory (no connection is opened until first use)."""
    engine = create_engine(settings.database_url)
    return Wiring(settings=settings, ward=ward, engine=engine, factory=create_session_factory(engine))


def _anonymous(language: str, chat: ChatKind) -> Caller:
    return Caller(
        person_id=0,
        name="",
        language=language,
        roles=frozenset({Role.ANYONE}),
        chat_group_id=0 if chat is ChatKind.GROUP else None,
    )


async def publish_commands(application: WardApplication) -> None:
    """setMyCommands for private and group chats, in every language (Vietnamese by default)."""
    bot = application.bot
    default = application.bot_data.wiring.settings.default_language
    for chat, scope in (
        (ChatKind.PRIVATE, BotCommandScopeAllPrivateChats()),
        (ChatKind.GROUP, BotCommandScopeAllGroupChats()),
    ):
        for language in (None, *LANGUAGES):
            with use_language(language or default):
                commands = [
                    BotCommand(name, description)
                    for name, description in allowed_commands(_anonymous(language or default, chat), chat)
                ]
            await bot.set_my_commands(commands, scope=scope, language_code=language)


async def forget_old_updates(context: WardContext) -> None:
    """Drop remembered update ids older than any redelivery."""
    wiring = context.wiring
    async with unit_of_work(wiring.factory) as uow:
        await uow.updates.forget_before(wiring.clock() - UPDATE_MEMORY)


async def sync_ward_groups(factory: async_sessionmaker[AsyncSession], ward: WardFile) -> None:
    """Create or update the ward file's [[groups]] (groups added in chat or by CSV are kept)."""
    if not ward.groups:
        return
    rows = [GroupRow(g.code, g.name, g.households, g.block) for g in ward.groups]
    async with unit_of_work(factory) as uow:
        await upsert_groups(uow, rows, actor_label="ward file")


async def on_startup(application: WardApplication) -> None:
    """After initialize: take in the ward file's groups, publish commands, schedule jobs, start the outbox."""
    wiring = application.bot_data.wiring
    await sync_ward_groups(wiring.factory, wiring.ward)
    await publish_commands(application)
    async with unit_of_work(wiring.factory) as uow:
        staff = [person.id for person in await uow.people.staff()]
    for person_id in staff:
        await publish_menu(application.bot, wiring, person_id)
    if application.job_queue is not None:
        from conversations.timeouts import IDLE_CHECK, end_idle_conversations

        application.job_queue.run_repeating(
            end_idle_conversations, interval=IDLE_CHECK, first=timedelta(seconds=5), name="idle-conversations"
        )
        application.job_queue.run_repeating(
            forget_old_updates,
            interval=timedelta(hours=6),
            first=timedelta(minutes=1),
            name="forget-old-updates",
        )
        schedule_all(application.job_queue)
    start_outbox(application)
    application.bot_data.zalo = await start_zalo(wiring, runs_schedules=False)


async def start_zalo(wiring: Wiring, *, runs_schedules: bool) -> ZaloChannel | None:
    """The Zalo channel, when ZALO_BOT_TOKEN is set (the same database, handlers and outbox)."""
    settings = wiring.settings
    if not settings.zalo_bot_token:
        return None
    channel = ZaloChannel(
        wiring, ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url), runs_schedules=runs_schedules
    )
    await channel.start()
    log.info("Zalo channel started (%s)", "webhook" if settings.zalo_webhook_url else "long polling")
    return channel


async def on_stop(application: WardApplication) -> None:
    """After stop, while the HTTP client is still open: let the outboxes finish what they are sending."""
    await stop_outbox(application)
    zalo, application.bot_data.zalo = application.bot_data.zalo, None
    if zalo is not None:
        await zalo.stop()


async def on_shutdown(application: WardApplication) -> None:
    """After shutdown: stop the outboxes if still running, then close the database connections."""
    await on_stop(application)
    await application.bot_data.wiring.engine.dispose()


def build_application(
    wiring: Wiring, *, token: str, base_url: str | None = None, base_file_url: str | None = None
) -> WardApplication:
    """The real application: every handler, our update processor, typed context, start-up hooks."""
    from handlers import register

    builder: Any = (
        ApplicationBuilder()
        .token(token)
        .context_types(ContextTypes(context=WardContext, bot_data=BotData))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
    )
    if base_url:
        builder = builder.base_url(base_url)
        builder = builder.base_file_url(base_file_url or base_url.replace("/bot", "/file/bot", 1))
    application = cast(WardApplication, builder.build())
    application.bot_data.wiring = wiring
    register(application)
    application.add_error_handler(on_error)
    return application


@asynccontextmanager
async def polling(application: WardApplication, *, timeout: int = 1) -> AsyncIterator[WardApplication]:
    """Long-poll inside the current event loop, as `run_polling` does (tests, demo, benchmarks)."""
    await application.initialize()
    try:
        await on_startup(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=timeout)
        yield application
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await on_stop(application)
        await application.shutdown()
        await on_shutdown(application)


async def serve_zalo_only(settings: Settings, ward: WardFile) -> None:
    """Without a Telegram token: Zalo alone, until interrupted."""
    wiring = make_wiring(settings, ward)
    await upgrade(wiring.engine)
    await sync_ward_groups(wiring.factory, ward)
    channel = await start_zalo(wiring, runs_schedules=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
    try:
        await stop.wait()
    finally:
        if channel is not None:
            await channel.stop()
        await wiring.engine.dispose()


def run(settings: Settings) -> None:
    """Migrate, then serve Telegram (webhook when WEBHOOK_URL is set, long polling otherwise) and Zalo
    when its token is set; Zalo alone when only ZALO_BOT_TOKEN is given."""
    token = settings.require_token()
    ward = load_ward(settings)
    keep_run_lock(settings.database_url)  # held until the process ends: `wardbot restore` refuses meanwhile
    if not token:
        log.info("no TELEGRAM_BOT_TOKEN: serving Zalo only")
        asyncio.run(serve_zalo_only(settings, ward))
        return
    asyncio.run(migrate(settings))
    application = build_application(
        make_wiring(settings, ward), token=token, base_url=settings.telegram_api_base_url
    )
    allowed = ["message", "edited_message", "callback_query", "my_chat_member"]
    if settings.webhook_url is None:
        log.info("starting long polling")
        application.run_polling(allowed_updates=allowed)
        return
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    if settings.webhook_secret is None:
        log.info("WEBHOOK_SECRET not set: using a random secret for this run")
    log.info("starting webhook on %s:%s", settings.webhook_listen, settings.webhook_port)
    cast(Application[Any, Any, Any, Any, Any, Any], application).run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlparse(settings.webhook_url).path.lstrip("/"),
        webhook_url=settings.webhook_url,
        secret_token=secret,
        allowed_updates=allowed,
    )
