"""One unit of work per update or job: a transaction that commits once, with its repositories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.repositories.assessments import AssessmentsRepository, AwardsRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.bonuses import BonusesRepository
from storage.repositories.campaigns import CampaignsRepository
from storage.repositories.conversations import ConversationsRepository
from storage.repositories.groups import ChatsRepository, GroupsRepository
from storage.repositories.inbox import InboxRepository
from storage.repositories.invites import InvitesRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.privacy import PrivacyRepository
from storage.repositories.reports import ReportsRepository
from storage.repositories.standings import StandingsRepository
from storage.repositories.wards import WardsRepository
from storage.repositories.web import WebRepository
from storage.repositories.workers import WorkersRepository


class UnitOfWork:
    """The repositories of one transaction; created by `unit_of_work`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # SQLAlchemy's identity map holds rows weakly: a row a step read and let go (a group, a draft)
        # would be selected again by the next `get` of the same transaction. Holding every row loaded
        # in this unit of work keeps those `get`s in memory; the unit of work is one update or job.
        self._loaded: list[Any] = []
        event.listen(session.sync_session, "loaded_as_persistent", self._keep)

    def _keep(self, _session: Any, instance: Any) -> None:
        self._loaded.append(instance)

    @cached_property
    def people(self) -> PeopleRepository:
        return PeopleRepository(self.session)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.session)

    @cached_property
    def groups(self) -> GroupsRepository:
        return GroupsRepository(self.session)

    @cached_property
    def chats(self) -> ChatsRepository:
        return ChatsRepository(self.session)

    @cached_property
    def invites(self) -> InvitesRepository:
        return InvitesRepository(self.session)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session)

    @cached_property
    def reports(self) -> ReportsRepository:
        return ReportsRepository(self.session)

    @cached_property
    def bonuses(self) -> BonusesRepository:
        return BonusesRepository(self.session)

    @cached_property
    def standings(self) -> StandingsRepository:
        return StandingsRepository(self.session)

    @cached_property
    def conversations(self) -> ConversationsRepository:
        return ConversationsRepository(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @cached_property
    def campaigns(self) -> CampaignsRepository:
        return CampaignsRepository(self.session)

    @cached_property
    def wards(self) -> WardsRepository:
        return WardsRepository(self.session)

    @cached_property
    def workers(self) -> WorkersRepository:
        return WorkersRepository(self.session)

    @cached_property
    def web(self) -> WebRepository:
        return WebRepository(self.session)

    @cached_property
    def assessments(self) -> AssessmentsRepository:
        return AssessmentsRepository(self.session)

    @cached_property
    def awards(self) -> AwardsRepository:
        return AwardsRepository(self.session)

    @cached_property
    def privacy(self) -> PrivacyRepository:
        return PrivacyRepository(self.session)


_WRITE_LOCKS: WeakKeyDictionary[AsyncEngine, asyncio.Lock] = WeakKeyDictionary()


def write_lock(factory: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    """SQLite allows one writer: its transactions queue on this lock instead of SQLite's busy handler.

    The busy handler sleeps in steps of up to 100 ms, so writers waiting there add long tails;
    an asyncio lock hands the database over the moment the previous transaction commits.
    PostgreSQL needs none (None is returned).
    """
    engine = factory.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return None
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        lock = _WRITE_LOCKS[engine] = asyncio.Lock()
    return lock


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[UnitOfWork]:
    """Open a transaction, hand out its repositories, commit once at the end (roll back on error)."""
    lock = write_lock(factory)
    if lock is None:
        async with factory.begin() as session:
            yield UnitOfWork(session)
        return
    async with lock, factory.begin() as session:
        yield UnitOfWork(session)
