"""People: who wrote to the bot, their language and whether they are ward staff."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person


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
            person = Person(
                platform=platform,
                external_id=external_id,
                display_name=display_name or "",
                client_language=client_language,
            )
            self.session.add(person)
            await self.session.flush()
            return person
        if display_name and not person.named_by_ward and person.display_name != display_name:
            person.display_name = display_name  # the platform's name, unless the ward recorded one
        if client_language and person.client_language != client_language:
            person.client_language = client_language
        if not person.active:
            person.active = True
        return person

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
