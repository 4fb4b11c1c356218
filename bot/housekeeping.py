"""The ward's chores run by the scheduler: a nightly backup, and pruning the tables that only grow.

Backups go into each ward file's `backup_dir` (one backup per folder: the wards of a deployment share
one database), older nightly backups are removed after `backup_keep_days`, and the ward's staff are
told in chat when one fails. Pruning forgets handled received updates and finished outbox messages
after `prune_after_days`; reports, titles, awards and the audit log are never pruned.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.backup import NIGHTLY_NAME, STAMP, nightly_backup
from bot.delivery import Outgoing, Recipient, enqueue_broadcast
from bot.i18n import gettext as _
from bot.i18n import use_language
from bot.membership import language_of
from bot.ward_config import WardFile
from bot.wiring import Wiring
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

BACKUP_AT = time(2, 0)  # in the ward's timezone: the quietest hour of a ward office's bot
BACKUP_FAILED = "backup-failed"
PRUNE_BATCH = 2_000  # rows per transaction (tens of ms on SQLite): a backlog never holds the database


@dataclass(frozen=True)
class BackupTarget:
    """One backup folder, the days its nightly backups are kept, and the wards whose staff it concerns."""

    folder: Path
    keep_days: int
    ward_ids: tuple[int, ...]
    timezone: ZoneInfo


def backup_targets(wiring: Wiring) -> list[BackupTarget]:
    """Every distinct `backup_dir` of the deployment's wards; a folder named by several wards keeps its
    backups for the longest of their `backup_keep_days`."""
    found: dict[Path, list[tuple[int, WardFile]]] = {}
    for ward_id, ward in sorted(wiring.wards.items()):
        if ward.ward.backup_dir is not None:
            found.setdefault(ward.ward.backup_dir, []).append((ward_id, ward))
    return [
        BackupTarget(
            folder,
            max(ward.ward.backup_keep_days for _id, ward in wards),
            tuple(ward_id for ward_id, _ward in wards),
            wiring.timezone_of(wards[0][0]),
        )
        for folder, wards in found.items()
    ]


def last_backup_slot(now: datetime, tz: ZoneInfo) -> datetime:
    """The latest 02:00 (ward time) at or before `now`: a backup made since then is tonight's."""
    local = now.astimezone(tz)
    slot = datetime.combine(local.date(), BACKUP_AT, tzinfo=tz)
    return slot if slot <= local else slot - timedelta(days=1)


def next_backup_time(now: datetime, ward: WardFile, tz: ZoneInfo) -> datetime:
    """The next 02:00 in the ward's timezone (the scheduler's `next_time`)."""
    return last_backup_slot(now, tz) + timedelta(days=1)


def _newest_nightly(folder: Path) -> datetime | None:
    """When the newest nightly backup in `folder` was made (ward time, naive), None without one."""
    if not folder.is_dir():
        return None
    stamps = []
    for path in folder.iterdir():
        match = NIGHTLY_NAME.fullmatch(path.name)
        if match is not None:
            try:
                stamps.append(datetime.strptime(match.group(1), STAMP))
            except ValueError:
                continue
    return max(stamps, default=None)


async def run_due_backups(wiring: Wiring) -> int | None:
    """Take each folder's backup unless one was made since the last 02:00 (so a restart neither skips
    nor repeats a night); returns the id of a failure notice queued for staff, None when none was."""
    queued = None
    now = wiring.clock()
    for target in backup_targets(wiring):
        slot = last_backup_slot(now, target.timezone)
        newest = await asyncio.to_thread(_newest_nightly, target.folder)
        if newest is not None and newest >= slot.replace(tzinfo=None):
            continue
        try:
            made = await nightly_backup(
                wiring.settings.database_url, target.folder, target.keep_days, now.astimezone(target.timezone)
            )
        except Exception as error:  # whatever went wrong, staff must hear of it
            reason = " ".join(str(error).split()) or type(error).__name__
            log.exception("nightly backup into %s failed: %s", target.folder, reason)
            queued = await _tell_staff(wiring, target, slot, reason) or queued
        else:
            log.info("nightly backup written to %s", made)
    return queued


async def _tell_staff(wiring: Wiring, target: BackupTarget, slot: datetime, reason: str) -> int | None:
    """One message to each ward's active staff, once per night (the broadcast key)."""
    queued = None
    default_language = wiring.settings.default_language
    for ward_id in target.ward_ids:
        async with unit_of_work(wiring.factory) as uow:
            staff = await uow.outbox.active_staff(None, ward_id=ward_id)
            messages = []
            for person in staff:
                with use_language(language_of(person, default_language)):
                    text = _(
                        "⚠️ The nightly backup of the bot's data failed: {reason}\n"
                        "The bot keeps working, but there is no new backup. Please ask whoever looks after "
                        "the bot's computer to check the backup folder {folder} (free disk space, "
                        "permissions). The bot tries again next night; a backup can also be taken at once "
                        "with: wardbot backup"
                    ).format(reason=reason, folder=str(target.folder))
                messages.append(
                    (
                        Recipient(person.platform, person.external_id, person.display_name, False),
                        Outgoing(text),
                    )
                )
            with use_language(default_language):
                title = _("Backup failed")
            queued = (
                await enqueue_broadcast(
                    uow,
                    kind=BACKUP_FAILED,
                    title=title,
                    messages=messages,
                    requested_by=None,
                    key=f"{BACKUP_FAILED}:{ward_id}:{slot.date().isoformat()}",
                    now=wiring.clock(),
                    ward_id=ward_id,
                )
                or queued
            )
    return queued


# --- pruning --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    """How many rows one pruning removed."""

    received: int
    sent: int


def prune_after(wiring: Wiring) -> timedelta:
    """How long handled updates and finished messages are kept: the longest `prune_after_days` of the
    deployment's wards (they share the tables)."""
    return timedelta(days=max(ward.ward.prune_after_days for ward in wiring.all_ward_files))


async def prune_old_rows(wiring: Wiring) -> Pruned:
    """Forget received updates handled more than `prune_after` ago (with them, the update ids that
    stopped a redelivery) and outbox messages created before then that are done with, then the files
    only they needed. In batches, each its own transaction, so updates are handled in between. Reports,
    titles, awards, broadcasts and the audit log are never pruned."""
    before = wiring.clock() - prune_after(wiring)
    received = sent = 0
    while True:
        async with unit_of_work(wiring.factory) as uow:
            batch = Pruned(
                await uow.inbox.forget_handled_before(before, limit=PRUNE_BATCH),
                await uow.outbox.forget_finished_before(before, limit=PRUNE_BATCH),
            )
        received, sent = received + batch.received, sent + batch.sent
        if max(batch.received, batch.sent) < PRUNE_BATCH:
            break
    async with unit_of_work(wiring.factory) as uow:
        await uow.outbox.forget_unneeded_attachments()
    return Pruned(received, sent)
