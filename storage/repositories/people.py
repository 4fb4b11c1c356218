"""People: who wrote to the bot, their language and whether they are ward staff."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from storage.models import Membership, Person, ResidentialGroup


class PeopleRepository:
    """Reads and writes `people` rows inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, platform: str, external_id: str) -> Person | None:
        """The person with this platform account, if the bot knows them."""
        return await self.session.scalar(
            select(Person).where(Person.platform == platform, Person.external_id == external_id)
        )

    async def get(self, person_id: int) -> Person | None:
        """A person by our own id."""
        return await self.session.get(Person, person_id)

    async def find_with_memberships(
        self, platform: str, external_id: str
    ) -> tuple[Person, list[Membership]] | None:
        """The person with this platform account and their roles in groups, in one query (every
        update asks both)."""
        return await self._with_memberships(Person.platform == platform, Person.external_id == external_id)

    async def get_with_memberships(self, person_id: int) -> tuple[Person, list[Membership]] | None:
        """A person by our own id and their roles in groups, in one query."""
        return await self._with_memberships(Person.id == person_id)

    async def _with_memberships(self, *where: ColumnElement[bool]) -> tuple[Person, list[Membership]] | None:
        """One person and their memberships (groups loaded): one row per membership, or one without."""
        rows = (
            await self.session.execute(
                select(Person, Membership)
                .outerjoin(Membership, Membership.person_id == Person.id)
                .outerjoin(ResidentialGroup, ResidentialGroup.id == Membership.group_id)
                .options(contains_eager(Membership.group))
                .where(*where)
                .order_by(Membership.id)
            )
        ).all()
        if not rows:
            return None
        return rows[0][0], [membership for _person, membership in rows if membership is not None]

    async def ensure(
        self,
        platform: str,
        external_id: str,
        *,
        display_name: str | None = None,
        client_language: str | None = None,
    ) -> Person:
        """The person for this account, created on first sight and refreshed on later ones."""
        person = await self.find(platform, external_id)
        if person is None:
            return await self.add(
                platform, external_id, display_name=display_name, client_language=client_language
            )
        self.refresh(person, display_name=display_name, client_language=client_language)
        return person

    async def add(
        self,
        platform: str,
        external_id: str,
        *,
        display_name: str | None = None,
        client_language: str | None = None,
    ) -> Person:
        """A person the bot has not met before."""
        person = Person(
            platform=platform,
            external_id=external_id,
            display_name=display_name or "",
            client_language=client_language,
        )
        self.session.add(person)
        await self.session.flush()
        return person

    @staticmethod
    def refresh(
        person: Person, *, display_name: str | None = None, client_language: str | None = None
    ) -> None:
        """What the platform says of a known person now: their name (unless the ward recorded one),
        their app's language, and that they are active again."""
        if display_name and not person.named_by_ward and person.display_name != display_name:
            person.display_name = display_name  # the platform's name, unless the ward recorded one
        if client_language and person.client_language != client_language:
            person.client_language = client_language
        if not person.active:
            person.active = True

    async def by_ids(self, ids: Iterable[int | None]) -> Sequence[Person]:
        """People by id (None entries are ignored)."""
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return []
        return (await self.session.scalars(select(Person).where(Person.id.in_(wanted)))).all()

    async def staff(self, ward_id: int | None, *, lock: bool = False) -> Sequence[Person]:
        """The staff of a ward (of every ward when None), by name; `lock` holds their rows until the
        commit, so two colleagues removing each other at once cannot leave a ward without staff."""
        query = select(Person).where(Person.is_staff.is_(True)).order_by(Person.display_name, Person.id)
        if ward_id is not None:
            query = query.where(Person.ward_id == ward_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def province_staff(self) -> Sequence[Person]:
        """Province staff, who read every ward, by name."""
        query = select(Person).where(Person.is_province.is_(True)).order_by(Person.display_name, Person.id)
        return (await self.session.scalars(query)).all()
