"""The command line: `wardbot run | web | demo | db | admin | person | groups | audit | export | backup |
restore` (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot import logs
from bot.backup import (
    BackupError,
    BackupRefused,
    RestoreDeclined,
    RestorePlan,
    backup_database,
    restore_database,
)
from bot.i18n import gettext as _
from bot.i18n import ngettext, set_ward_words, use_language
from bot.run_lock import RunLockError
from bot.settings import Settings, SettingsError, load_settings
from bot.ward_config import WardConfigError
from bot.wards import ward_code
from bot.wiring import Wiring
from storage.engine import DatabaseUnavailable

EXIT_USAGE = 2
TELEGRAM = "telegram"
GET_ME_TIMEOUT = 20.0  # seconds to learn the bot's username for a setup link before printing the code alone

Command = Callable[[argparse.Namespace, Settings], int]


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.application import run

    run(settings)
    return 0


def _web(args: argparse.Namespace, settings: Settings) -> int:
    from bot.application import serve_web

    asyncio.run(serve_web(settings))
    return 0


def _default(args: argparse.Namespace, settings: Settings) -> int:
    """Without a subcommand: the bot when a token is set, otherwise the demo."""
    if settings.telegram_bot_token or settings.zalo_bot_token:
        return _run(args, settings)
    print("No TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN: starting the demo (wardbot demo).", file=sys.stderr)
    return _demo(args, settings)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import DEMO_DATABASE, print_band_distribution, run_demo

    if getattr(args, "bands", False):
        asyncio.run(print_band_distribution(settings, database=DEMO_DATABASE))
        return 0
    asyncio.run(run_demo(settings))
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.application import migrate

    asyncio.run(migrate(settings))
    print("Database is up to date.")
    return 0


def _with_database(settings: Settings, work: Callable[[Wiring], Awaitable[int]]) -> int:
    """Migrate and take in the ward files, then run `work(wiring)` on one short-lived engine."""
    from bot.application import load_ward_files, make_wiring, migrate, prepare

    wards = load_ward_files(settings)

    async def main() -> int:
        await migrate(settings)
        wiring = make_wiring(settings, wards[0], wards)
        try:
            await prepare(wiring)
            return await work(wiring)
        finally:
            await wiring.engine.dispose()

    return asyncio.run(main())


def _ward(wiring: Wiring, code: str | None) -> int:
    """The ward named by --ward CODE; the only ward when not given. What the command prints from here on
    speaks in that ward's words (khu phố, thôn…)."""
    codes = {ward_code(file): ward_id for ward_id, file in wiring.wards.items()}
    if code is None:
        if wiring.single_ward_id is None:
            raise UsageError(f"several wards are served: add --ward CODE (one of {', '.join(sorted(codes))})")
        found: int | None = wiring.single_ward_id
    else:
        found = codes.get(code.strip().upper())
    if found is None:
        raise UsageError(f"--ward {code}: no such ward (the wards are {', '.join(sorted(codes))})")
    set_ward_words(wiring.ward_of(found).ward.words())
    return found


def _admin_add(args: argparse.Namespace, settings: Settings) -> int:
    _account(args)
    from bot.membership import set_province_staff, set_staff
    from storage.unit_of_work import unit_of_work

    async def work(wiring: Wiring) -> int:
        async with unit_of_work(wiring.factory) as uow:
            if args.province:
                person = await set_province_staff(uow, args.platform, _account(args), name=args.name)
            else:
                person = await set_staff(
                    uow,
                    args.platform,
                    _account(args),
                    name=args.name,
                    is_staff=True,
                    ward_id=_ward(wiring, args.ward),
                )
        name = person.display_name or _("no name yet")
        if args.province:
            print(_("{user} is now province staff ({name}).").format(user=args.user_id, name=name))
        else:
            print(_("{user} is now ward staff ({name}).").format(user=args.user_id, name=name))
        return 0

    return _with_database(settings, work)


def _admin_remove(args: argparse.Namespace, settings: Settings) -> int:
    _account(args)
    from bot.membership import set_staff
    from storage.unit_of_work import unit_of_work

    async def work(wiring: Wiring) -> int:
        async with unit_of_work(wiring.factory) as uow:
            person = await uow.people.find(args.platform, _account(args))
            if person is None or not (person.is_staff or person.is_province):
                print(
                    _("{user} is not ward staff; nothing changed.").format(user=args.user_id), file=sys.stderr
                )
                return 1
            await set_staff(uow, args.platform, _account(args), name=None, is_staff=False)
            person.is_province = False
        print(_("{user} is no longer ward staff.").format(user=args.user_id))
        return 0

    return _with_database(settings, work)


def _person_erase(args: argparse.Namespace, settings: Settings) -> int:
    """Erase a person's name and account from every table; their records stay under their role."""
    args.platform = args.platform.lower()
    account = _account(args)
    from bot.i18n import use_language
    from bot.membership import BY_COMMAND_LINE
    from bot.privacy import erase_person, personal_data, role_label
    from storage.unit_of_work import unit_of_work

    async def work(wiring: Wiring) -> int:
        with use_language(settings.default_language):
            async with unit_of_work(wiring.factory) as uow:
                person = await uow.people.find(args.platform, account)
                if person is None:
                    print(
                        f"The bot knows no {args.platform} account {account}; nothing changed.",
                        file=sys.stderr,
                    )
                    return 1
                label = role_label(await personal_data(uow, person.id))
                if not args.yes and not _confirmed(
                    f"Erase {args.platform} {account} ({person.display_name or 'no name'})? "
                    f"Their records will read “{label}”."
                ):
                    print("Nothing was erased.", file=sys.stderr)
                    return 1
                erased = await erase_person(uow, person, actor=None, actor_label=BY_COMMAND_LINE)
        print(
            f"Erased: the name and account are gone; {erased.roles} roles, {erased.received} received "
            f"updates and {erased.messages} messages removed. Their records now read “{erased.label}”."
        )
        return 0

    return _with_database(settings, work)


def _confirmed(question: str) -> bool:
    try:
        return input(f"{question} Type yes to go on: ").strip().lower() == "yes"
    except EOFError:
        return False


def _admin_list(args: argparse.Namespace, settings: Settings) -> int:
    from storage.unit_of_work import unit_of_work

    async def work(wiring: Wiring) -> int:
        async with unit_of_work(wiring.factory) as uow:
            staff = list(await uow.people.staff(None)) + list(await uow.people.province_staff())
            codes = {ward.id: ward.code for ward in await uow.wards.all()}
        if not staff:
            print("No ward staff yet. Print a setup link with: wardbot admin setup-link")
        for person in staff:
            where = "province" if person.is_province else codes.get(person.ward_id or 0, "")
            print(f"{person.external_id}\t{person.platform}\t{person.display_name}\t{where}")
        return 0

    return _with_database(settings, work)


def _admin_setup_link(args: argparse.Namespace, settings: Settings) -> int:
    from bot.membership import BY_COMMAND_LINE
    from bot.staff import issue_setup_code
    from storage.models import utcnow
    from storage.unit_of_work import unit_of_work

    async def work(wiring: Wiring) -> int:
        ward_id = None if args.province else _ward(wiring, args.ward)
        username = await _telegram_username(wiring)
        async with unit_of_work(wiring.factory) as uow:
            setup = await issue_setup_code(uow, ward_id, now=utcnow(), actor_label=BY_COMMAND_LINE)
        print("\n".join(setup.lines(username, zalo=True)))
        print(f"Any earlier setup link for {setup.what} no longer works.")
        return 0

    return _with_database(settings, work)


async def _telegram_username(wiring: Wiring) -> str:
    """The bot's Telegram username (getMe) for the setup link; "" without a token or an answer in time."""
    token = wiring.settings.telegram_bot_token
    if not token:
        return ""
    from bot.channels.telegram import StartupError, TelegramChannel

    channel = TelegramChannel(wiring, token=token, base_url=wiring.settings.telegram_api_base_url)
    try:
        await asyncio.wait_for(channel.connect(), GET_ME_TIMEOUT)
        return channel.username
    except (TimeoutError, StartupError) as error:
        reason = str(error) or "Telegram did not answer getMe in time"
        print(f"warning: {reason}; printing the code without the Telegram link.", file=sys.stderr)
        return ""
    finally:
        await channel.close()


def _groups_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.group_files import read_groups_csv
    from bot.membership import upsert_groups
    from storage.unit_of_work import unit_of_work

    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path}: file not found", file=sys.stderr)
        return EXIT_USAGE
    rows, problems = read_groups_csv(path)
    for problem in problems:
        print(
            _("{path}: line {line}: {problem}").format(path=path, line=problem.line, problem=problem.problem),
            file=sys.stderr,
        )

    async def work(wiring: Wiring) -> int:
        async with unit_of_work(wiring.factory) as uow:
            created, updated = await upsert_groups(
                uow, _ward(wiring, args.ward), rows, actor_label=f"import {path.name}"
            )
        unchanged = len(rows) - created - updated
        counts = [
            ngettext("{count} group added", "{count} groups added", created).format(count=created),
            _("{count} updated").format(count=updated),
            _("{count} unchanged").format(count=unchanged),
            ngettext("{count} line skipped", "{count} lines skipped", len(problems)).format(
                count=len(problems)
            ),
        ]
        print(", ".join(counts) + ".")
        return 1 if problems else 0

    return _with_database(settings, work)


def _groups_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.export import plain_text
    from bot.membership import group_lines
    from storage.unit_of_work import unit_of_work

    async def work(wiring: Wiring) -> int:
        async with unit_of_work(wiring.factory) as uow:
            lines = await group_lines(uow, _ward(wiring, args.ward))
        if not lines:
            print(
                _("No groups yet. Add them in the ward file, with /addgroup or with: wardbot groups import")
            )
        headers = (
            _("Code"),
            _("Name of the group"),
            _("Households"),
            _("Block"),
            _("Head"),
            _("Deputy"),
            _("Chat"),
        )
        print("\t".join(headers))
        for line in lines:
            chat = (line.chat or "") + ("" if line.chat_active or not line.chat else " (inactive)")
            cells = [
                line.code,
                line.name,
                str(line.households),
                line.block or "",
                line.head or "",
                line.deputy or "",
                chat,
            ]
            print("\t".join(plain_text(cell) for cell in cells))
        return 0

    return _with_database(settings, work)


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.membership import audit_lines
    from storage.unit_of_work import unit_of_work

    async def work(wiring: Wiring) -> int:
        async with unit_of_work(wiring.factory) as uow:
            lines = await audit_lines(uow, args.last, None if args.ward is None else _ward(wiring, args.ward))
        if not lines:
            print("The audit log is empty.")
        for line in lines:
            moment = line.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            cells = [moment, line.action, f"by {line.actor or '?'}", line.group, line.subject, line.detail]
            print("  ".join(cell for cell in cells if cell))
        return 0

    return _with_database(settings, work)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from zoneinfo import ZoneInfo

    from bot.application import load_ward
    from bot.awards import with_awards
    from bot.export import csv_bytes, photos_zip, workbook_bytes
    from bot.i18n import use_language
    from bot.periods import PeriodKind, parse_period
    from bot.standings import export_data, photo_files
    from storage.models import utcnow
    from storage.unit_of_work import unit_of_work

    ward = load_ward(settings)
    tz = ZoneInfo(ward.ward.timezone or settings.timezone)
    now = utcnow()
    try:
        period = parse_period(args.period, today=now.astimezone(tz).date())
    except ValueError as error:
        print(f"error: --period {args.period}: {error}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(
        args.out or (f"anh-{period.key}.zip" if args.photos else f"bao-cao-{period.key}.{args.format}")
    )
    _check_writable(out, "--out")

    async def work(wiring: Wiring) -> int:
        ward_id = _ward(wiring, args.ward)
        ward = wiring.ward_of(ward_id)
        tz = wiring.timezone_of(ward_id)
        if args.photos:
            async with unit_of_work(wiring.factory) as uow:
                photos = await photo_files(uow, period, ward_id=ward_id)
            try:
                await asyncio.to_thread(out.write_bytes, photos_zip(photos))
            except OSError as error:
                raise UsageError(f"--out {out}: cannot write the file ({error.strerror or error})") from None
            print(f"{out}: {len(photos)} photos of {period.key}.")
            return 0
        async with unit_of_work(wiring.factory) as uow:
            data = await export_data(
                uow,
                period,
                ward_id=ward_id,
                ward_name=ward.ward.name,
                ward_file=ward,
                now=now,
                tz=tz,
            )
        if period.kind is PeriodKind.YEAR:
            async with unit_of_work(wiring.factory) as uow:
                with use_language(args.language):
                    data = await with_awards(uow, data, ward_id, period.first.year)
        content = (
            workbook_bytes(data, args.language) if args.format == "xlsx" else csv_bytes(data, args.language)
        )
        try:
            await asyncio.to_thread(out.write_bytes, content)
        except OSError as error:
            raise UsageError(f"--out {out}: cannot write the file ({error.strerror or error})") from None
        count = len(data.value_rows)
        print(
            ngettext(
                "{out}: {count} report of {period}.", "{out}: {count} reports of {period}.", count
            ).format(out=out, count=count, period=period.key)
        )
        return 0

    return _with_database(settings, work)


def _assessment_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.assessment import results
    from bot.documents import assessment_report_docx
    from storage.unit_of_work import unit_of_work

    out = Path(args.out or f"bao-cao-binh-xet-{args.year}.docx")
    _check_writable(out, "--out")

    async def work(wiring: Wiring) -> int:
        ward_id = _ward(wiring, args.ward)
        ward = wiring.ward_of(ward_id)
        async with unit_of_work(wiring.factory) as uow:
            assessment = await uow.assessments.of_year(ward_id, args.year)
            if assessment is None:
                raise UsageError(f"--year {args.year}: no assessment of that year (open it with /assessment)")
            found = await results(uow, assessment, ward)
            feedback = len(await uow.assessments.feedback(assessment.id))
        content = assessment_report_docx(ward, assessment, found, feedback)
        try:
            await asyncio.to_thread(out.write_bytes, content)
        except OSError as error:
            raise UsageError(f"--out {out}: cannot write the file ({error.strerror or error})") from None
        sent = sum(1 for r in found if r.submitted)
        print(f"{out}: the assessment of {args.year}, {sent} of {len(found)} groups sent their form.")
        return 0

    return _with_database(settings, work)


def _quiet_backup_log(args: argparse.Namespace) -> None:
    """The printed line says it all; the module's log lines are for the bot's own log (and -v)."""
    logging.getLogger("bot.backup").setLevel(logging.DEBUG if args.verbose else logging.WARNING)


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    """A consistent copy while the bot runs; never migrates or changes the database."""
    _quiet_backup_log(args)
    made = asyncio.run(backup_database(settings.database_url, Path(args.out) if args.out else None))
    print(made.summary())
    return 0


def _confirm_restore(plan: RestorePlan) -> bool:
    """Show what will be replaced and ask; anything but yes (or no answer at all) is no."""
    for line in plan.describe():
        print(line)
    try:
        answer = input("Restore now? Type yes to continue: ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes", "c", "có", "co")


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    """Checked restore: refuses while a bot runs, keeps the current database aside, migrates."""
    _quiet_backup_log(args)
    confirm = None if args.yes else _confirm_restore
    restored = asyncio.run(restore_database(settings.database_url, Path(args.file), confirm=confirm))
    print(restored.summary())
    return 0


def _positive(value: str) -> int:
    from bot.answers import whole_number

    number = whole_number(value)
    if not number:
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a positive whole number")
    return number


class UsageError(Exception):
    """A command-line argument that cannot be used; printed as one line, exit status 2."""


def _check_writable(out: Path, option: str) -> None:
    """Refuse, before any work, a file that cannot be written: a missing folder or a folder as the file."""
    folder = out.parent
    if out.is_dir():
        raise UsageError(f"{option} {out}: is a folder; give a file name, e.g. {out / 'bao-cao.xlsx'}")
    if not folder.is_dir():
        raise UsageError(f"{option} {out}: the folder {folder} does not exist; create it or choose another")


def _account(args: argparse.Namespace) -> str:
    """The user id as stored: Telegram ids are positive numbers, Zalo ids are strings."""
    value = str(args.user_id).strip()
    if args.platform == TELEGRAM:
        try:
            return str(_user_id(value))
        except argparse.ArgumentTypeError as error:
            raise UsageError(str(error)) from None
    if not value or len(value) > 64 or not all(c.isalnum() or c in "-_" for c in value):
        raise UsageError(f"{value!r} is not a Zalo user id")
    return value


def _user_id(value: str) -> int:
    from bot.answers import whole_number

    number = whole_number(value, digits=20)
    if number is None:
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a Telegram user id (a number)")
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

    web_page = commands.add_parser(
        "web",
        help="serve only the ward's web page",
        description="Serve only the ward's web page (WEB_PORT on WEBHOOK_LISTEN; sign in with /web in "
        "chat). What its forms send waits in the outbox for a running `wardbot run`.",
    )
    web_page.set_defaults(handler=_web)

    demo = commands.add_parser(
        "demo",
        help="try the bot in the terminal, no token needed",
        description="Run the real bot against a local chat simulator with a "
        "seeded demo ward; choose who you are and chat.",
    )
    demo.add_argument(
        "--bands",
        action="store_true",
        help="print how the demo ward's seeded months fall into the bands, and exit",
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
    add.add_argument("user_id", metavar="USER_ID", help="the Telegram user id (a number) or the Zalo user id")
    add.add_argument("--platform", choices=(TELEGRAM, "zalo"), default=TELEGRAM, help="default telegram")
    add.add_argument("--name", help="the staff member's name, shown in lists")
    add.add_argument("--ward", metavar="CODE", help="the ward they serve (needed when there are several)")
    add.add_argument("--province", action="store_true", help="province staff: read every ward")
    add.set_defaults(handler=_admin_add)
    listing = admin_commands.add_parser("list", help="list ward staff", description="List ward staff.")
    listing.set_defaults(handler=_admin_list)
    remove = admin_commands.add_parser(
        "remove", help="remove a staff member", description="Remove a Telegram user from ward staff."
    )
    remove.add_argument("user_id", metavar="USER_ID")
    remove.add_argument("--platform", choices=(TELEGRAM, "zalo"), default=TELEGRAM, help="default telegram")
    remove.set_defaults(handler=_admin_remove)
    setup_link = admin_commands.add_parser(
        "setup-link",
        help="print a one-time link that makes its opener ward staff",
        description="Print a new setup link: whoever opens it (in Telegram, or sends /start CODE on Zalo) "
        "within 24 hours becomes staff of the ward. It works once; any earlier setup link of the ward stops "
        "working. Needs no running bot; with TELEGRAM_BOT_TOKEN set, asks Telegram for the bot's name.",
    )
    where = setup_link.add_mutually_exclusive_group()
    where.add_argument("--ward", metavar="CODE", help="the ward (needed when there are several)")
    where.add_argument("--province", action="store_true", help="for province staff, who read every ward")
    setup_link.set_defaults(handler=_admin_setup_link)

    person = commands.add_parser(
        "person", help="personal data", description="Personal data (Decree 13/2023)."
    )
    person_commands = person.add_subparsers(title="commands", metavar="COMMAND", required=True)
    erase = person_commands.add_parser(
        "erase",
        help="erase a person's name and account (their records stay)",
        description="Erase someone from the bot: their name and account id leave every table (received "
        "updates and the outbox included), their roles and follows end; reports and the audit log stay, "
        "attributed to their role (e.g. “Head of TDP01 (erased)”). Recorded in the audit log without "
        "the erased data. The person tells you their id: /forgetme shows it to heads and staff.",
    )
    erase.add_argument("platform", metavar="PLATFORM", help="telegram or zalo")
    erase.add_argument("user_id", metavar="ID", help="their Telegram user id (a number) or Zalo user id")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(handler=_person_erase)

    groups = commands.add_parser(
        "groups", help="residential groups", description="Residential groups (tổ dân phố)."
    )
    groups_commands = groups.add_subparsers(title="commands", metavar="COMMAND", required=True)
    group_import = groups_commands.add_parser(
        "import",
        help="add or update groups from a CSV file",
        description="Add or update groups from a UTF-8 CSV file with the header "
        "code,name,households[,block]. Bad lines are reported by number and skipped; "
        "importing again updates instead of duplicating.",
    )
    group_import.add_argument("file", metavar="FILE.csv")
    group_import.add_argument("--ward", metavar="CODE", help="the ward (needed when there are several)")
    group_import.set_defaults(handler=_groups_import)
    group_list = groups_commands.add_parser(
        "list", help="list groups", description="List groups with their heads, deputies and chats."
    )
    group_list.add_argument("--ward", metavar="CODE", help="the ward (needed when there are several)")
    group_list.set_defaults(handler=_groups_list)

    audit = commands.add_parser(
        "audit",
        help="show the audit log",
        description="Show membership changes: who changed what, when, and for whom.",
    )
    audit.add_argument(
        "--last", type=_positive, default=50, metavar="N", help="how many entries (default 50)"
    )
    audit.add_argument("--ward", metavar="CODE", help="only this ward's entries")
    audit.set_defaults(handler=_audit)

    export = commands.add_parser(
        "export",
        help="export a period's figures to Excel or CSV",
        description="Export raw values, standings and completeness of a period to an .xlsx workbook "
        "(or the raw values to CSV).",
    )
    export.add_argument("--period", required=True, help="2026-10 (month), 2026-Q3 (quarter) or 2026 (year)")
    export.add_argument("--out", metavar="FILE", help="where to write (default bao-cao-PERIOD.xlsx)")
    export.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help="default xlsx")
    export.add_argument("--language", choices=("vi", "en"), default="vi", help="headers (default vi)")
    export.add_argument(
        "--photos",
        action="store_true",
        help="write the photo answers of the period as a .zip instead (default anh-PERIOD.zip)",
    )
    export.add_argument("--ward", metavar="CODE", help="the ward (needed when there are several)")
    export.set_defaults(handler=_export)

    assessment = commands.add_parser(
        "assessment", help="the year-end assessment (bình xét)", description="The year-end assessment."
    )
    assessment_commands = assessment.add_subparsers(title="commands", metavar="COMMAND", required=True)
    assessment_report = assessment_commands.add_parser(
        "report",
        help="write the assessment report (Word)",
        description="Write “Báo cáo kết quả bình xét” of a year as a Word file (.docx).",
    )
    assessment_report.add_argument("--year", type=_positive, required=True, help="the assessment's year")
    assessment_report.add_argument("--out", metavar="FILE", help="default bao-cao-binh-xet-YEAR.docx")
    assessment_report.add_argument("--ward", metavar="CODE", help="the ward (needed when there are several)")
    assessment_report.set_defaults(handler=_assessment_report)

    backup = commands.add_parser(
        "backup",
        help="save a copy of the database (safe while the bot runs)",
        description="Write a consistent backup of the database (DATABASE_URL) while the bot may be "
        "running: a .zip with the database and a manifest. Keep it on another disk or a USB stick.",
    )
    backup.add_argument(
        "--out",
        metavar="FILE",
        help="file or folder to write to (default wardbot-YYYY-MM-DD-HHMMSS.zip in this folder)",
    )
    backup.set_defaults(handler=_backup)

    restore = commands.add_parser(
        "restore",
        help="put a backup back (stop the bot first)",
        description="Replace the database with a backup made by `wardbot backup`, then migrate it to the "
        "current schema. The bot must be stopped; the current database is kept aside.",
    )
    restore.add_argument("file", metavar="FILE.zip", help="a backup made by `wardbot backup`")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.set_defaults(handler=_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, load settings, dispatch; configuration problems print one line and exit 2."""
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    try:
        settings = load_settings()
        logs.protect(settings.secrets())
        handler: Command = args.handler
        with use_language(settings.default_language):  # what the command prints, in the ward's language
            return handler(args, settings)
    except (
        SettingsError,
        WardConfigError,
        UsageError,
        BackupRefused,
        RunLockError,
        DatabaseUnavailable,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RestoreDeclined as error:
        print(f"{str(error).capitalize()}.", file=sys.stderr)
        return 1
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if not _refused_at_start(error):
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _refused_at_start(error: Exception) -> bool:
    """Telegram refused the token: only a person can fix that (the channel is imported only to run)."""
    telegram = sys.modules.get("bot.channels.telegram")
    return telegram is not None and isinstance(error, telegram.StartupError)
