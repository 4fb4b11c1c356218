"""The command line: `wardbot run | db upgrade | admin … | demo` (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings, SettingsError, load_settings
from bot.ward_config import WardConfigError

EXIT_USAGE = 2
TELEGRAM = "telegram"

Command = Callable[[argparse.Namespace, Settings], int]
SessionFactory = async_sessionmaker[AsyncSession]


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and Bot API URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.application import run

    run(settings)
    return 0


def _default(args: argparse.Namespace, settings: Settings) -> int:
    """Without a subcommand: the bot when a token is set, otherwise the demo."""
    if settings.telegram_bot_token:
        return _run(args, settings)
    print("TELEGRAM_BOT_TOKEN is not set: starting the demo (wardbot demo).", file=sys.stderr)
    return _demo(args, settings)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    asyncio.run(run_demo(settings))
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.application import migrate

    asyncio.run(migrate(settings))
    print("Database is up to date.")
    return 0


def _with_database(settings: Settings, work: Callable[[SessionFactory], Awaitable[int]]) -> int:
    """Migrate, then run `work(factory)` on one engine that is disposed afterwards."""
    from bot.application import migrate
    from storage.engine import create_engine, create_session_factory

    async def main() -> int:
        await migrate(settings)
        engine = create_engine(settings.database_url)
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _admin_add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.membership import set_staff
    from storage.unit_of_work import unit_of_work

    async def work(factory: SessionFactory) -> int:
        async with unit_of_work(factory) as uow:
            person = await set_staff(uow, TELEGRAM, str(args.user_id), name=args.name, is_staff=True)
        print(f"{args.user_id} is now ward staff ({person.display_name or 'no name yet'}).")
        return 0

    return _with_database(settings, work)


def _admin_remove(args: argparse.Namespace, settings: Settings) -> int:
    from storage.unit_of_work import unit_of_work

    async def work(factory: SessionFactory) -> int:
        async with unit_of_work(factory) as uow:
            person = await uow.people.find(TELEGRAM, str(args.user_id))
            if person is None or not person.is_staff:
                print(f"{args.user_id} is not ward staff; nothing changed.", file=sys.stderr)
                return 1
            person.is_staff = False
        print(f"{args.user_id} is no longer ward staff.")
        return 0

    return _with_database(settings, work)


def _admin_list(args: argparse.Namespace, settings: Settings) -> int:
    from storage.unit_of_work import unit_of_work

    async def work(factory: SessionFactory) -> int:
        async with unit_of_work(factory) as uow:
            staff = await uow.people.staff()
        if not staff:
            print("No ward staff yet. Add one with: wardbot admin add TELEGRAM_USER_ID --name NAME")
        for person in staff:
            print(f"{person.external_id}\t{person.platform}\t{person.display_name}")
        return 0

    return _with_database(settings, work)


def _user_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a Telegram user id (a number)") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("a Telegram user id is a positive number")
    return number


def build_parser() -> argparse.ArgumentParser:
    """Every command with its --help."""
    parser = argparse.ArgumentParser(
        prog="wardbot",
        description="Ward emulation bot. Without a command: runs the bot when TELEGRAM_BOT_TOKEN "
        "is set, the demo otherwise. Settings come from the environment and .env.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.set_defaults(handler=_default)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="start the bot (applies pending migrations first)",
        description="Start the bot: long polling, or a webhook when WEBHOOK_URL is set.",
    )
    run.set_defaults(handler=_run)

    demo = commands.add_parser(
        "demo",
        help="try the bot in the terminal, no token needed",
        description="Run the real bot against a local chat simulator with a "
        "seeded demo ward; choose who you are and chat.",
    )
    demo.set_defaults(handler=_demo)

    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(title="commands", metavar="COMMAND", required=True)
    db_upgrade = db_commands.add_parser(
        "upgrade", help="apply pending migrations", description="Apply pending Alembic migrations."
    )
    db_upgrade.set_defaults(handler=_db_upgrade)

    admin = commands.add_parser("admin", help="manage ward staff", description="Manage ward staff.")
    admin_commands = admin.add_subparsers(title="commands", metavar="COMMAND", required=True)
    add = admin_commands.add_parser(
        "add",
        help="make a Telegram user ward staff",
        description="Make a Telegram user ward staff (works on a fresh database).",
    )
    add.add_argument("user_id", metavar="TELEGRAM_USER_ID", type=_user_id)
    add.add_argument("--name", help="the staff member's name, shown in lists")
    add.set_defaults(handler=_admin_add)
    listing = admin_commands.add_parser("list", help="list ward staff", description="List ward staff.")
    listing.set_defaults(handler=_admin_list)
    remove = admin_commands.add_parser(
        "remove", help="remove a staff member", description="Remove a Telegram user from ward staff."
    )
    remove.add_argument("user_id", metavar="TELEGRAM_USER_ID", type=_user_id)
    remove.set_defaults(handler=_admin_remove)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, load settings, dispatch; configuration problems print one line and exit 2."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        settings = load_settings()
        handler: Command = args.handler
        return handler(args, settings)
    except (SettingsError, WardConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
