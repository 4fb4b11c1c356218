"""Residential groups, their memberships and their chats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Chat, Membership, Person, ResidentialGroup

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def _in_ward(query: Q, ward_id: int | None) -> Q:
    """The query limited to one ward's groups (every ward when None)."""
    return query if ward_id is None else query.where(ResidentialGroup.ward_id == ward_id)


def _code_is(code: str) -> ColumnElement[bool]:
    """A group's code as typed: case and surrounding spaces do not matter."""
    return func.upper(ResidentialGroup.code) == code.strip().upper()


class GroupsRepository:
    """Groups and who holds which role in them, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str, ward_id: int | None) -> ResidentialGroup | None:
        """A group of the ward by its code, case-insensitively (None: the first of any ward)."""
        query = select(ResidentialGroup).where(_code_is(code))
        return await self.session.scalar(_in_ward(query, ward_id).order_by(ResidentialGroup.id).limit(1))

    async def with_code(self, code: str) -> Sequence[ResidentialGroup]:
        """Every ward's group with this code (a code is unique only within its ward)."""
        query = select(ResidentialGroup).where(_code_is(code)).order_by(ResidentialGroup.ward_id)
        return (await self.session.scalars(query)).all()

    async def get(self, group_id: int) -> ResidentialGroup | None:
        return await self.session.get(ResidentialGroup, group_id)

    async def all(self, ward_id: int | None) -> Sequence[ResidentialGroup]:
        """Every group of the ward (of every ward when None), by code."""
        query = select(ResidentialGroup).order_by(ResidentialGroup.ward_id, ResidentialGroup.code)
        return (await self.session.scalars(_in_ward(query, ward_id))).all()

    async def codes(self, ward_id: int | None) -> set[str]:
        return set((await self.session.scalars(_in_ward(select(ResidentialGroup.code), ward_id))).all())

    async def add(
        self,
        ward_id: int,
        code: str,
        name: str,
        households: int,
        block: str | None,
        *,
        created_at: datetime | None = None,
    ) -> ResidentialGroup:
        """A new group; `created_at` is the bot's clock (months locked before it are not expected of it)."""
        group = ResidentialGroup(ward_id=ward_id, code=code, name=name, households=households, block=block)
        if created_at is not None:
            group.created_at = created_at
        self.session.add(group)
        await self.session.flush()
        return group

    async def memberships_of(self, person_id: int) -> Sequence[Membership]:
        """A person's roles in groups, with the groups loaded."""
        rows = await self.session.scalars(
            select(Membership).options(joinedload(Membership.group)).where(Membership.person_id == person_id)
        )
        return rows.all()

    async def holder(self, group_id: int, role: str) -> Membership | None:
        """The head (or deputy) of a group, with the person loaded."""
        return await self.session.scalar(
            select(Membership)
            .options(joinedload(Membership.person))
            .where(Membership.group_id == group_id, Membership.role == role)
        )

    async def membership(self, person_id: int, group_id: int, role: str) -> Membership | None:
        return await self.session.scalar(
            select(Membership).where(
                Membership.person_id == person_id, Membership.group_id == group_id, Membership.role == role
            )
        )

    async def add_membership(self, person_id: int, group_id: int, role: str) -> Membership:
        membership = Membership(person_id=person_id, group_id=group_id, role=role)
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def remove_membership(self, membership: Membership) -> None:
        await self.session.delete(membership)
        await self.session.flush()

    async def leaders(self, ward_id: int | None) -> Sequence[Membership]:
        """Every head and deputy of the ward, with people loaded, for listings."""
        query = (
            select(Membership)
            .join(ResidentialGroup, ResidentialGroup.id == Membership.group_id)
            .options(joinedload(Membership.person))
            .where(Membership.role.in_(("head", "deputy")))
        )
        rows = await self.session.scalars(_in_ward(query, ward_id))
        return rows.all()

    async def followers(self, group_id: int) -> Sequence[Person]:
        rows = await self.session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group_id, Membership.role == "follower")
        )
        return rows.all()

    async def unfollow_all(self, person_id: int) -> int:
        result = await self.session.execute(
            delete(Membership).where(Membership.person_id == person_id, Membership.role == "follower")
        )
        return int(getattr(result, "rowcount", 0) or 0)


class ChatsRepository:
    """Chats the bot is in and the group each one is linked to."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, platform: str, external_id: str) -> Chat | None:
        return await self.session.scalar(
            select(Chat)
            .options(joinedload(Chat.group))
            .where(Chat.platform == platform, Chat.external_id == external_id)
        )

    async def ensure(self, platform: str, external_id: str, kind: str, title: str) -> Chat:
        """The chat row, created on first sight; its title kept current."""
        chat = await self.find(platform, external_id)
        if chat is None:
            chat = Chat(platform=platform, external_id=external_id, kind=kind, title=title)
            self.session.add(chat)
            await self.session.flush()
        elif title and chat.title != title:
            chat.title = title
        return chat

    async def of_group(self, group_id: int) -> Chat | None:
        return await self.session.scalar(select(Chat).where(Chat.group_id == group_id))

    async def linked(self) -> Sequence[Chat]:
        """Every chat linked to a group."""
        return (await self.session.scalars(select(Chat).where(Chat.group_id.is_not(None)))).all()

    async def linked_active(self, ward_id: int | None) -> Sequence[Chat]:
        """Linked chats of the ward's groups the bot is still in, with their group loaded."""
        query = (
            select(Chat)
            .join(ResidentialGroup, ResidentialGroup.id == Chat.group_id)
            .where(Chat.active)
            .options(joinedload(Chat.group))
        )
        return (await self.session.scalars(_in_ward(query, ward_id))).all()
