"""The year-end assessment (bình xét), its group forms and feedback, and the award register."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Assessment, AssessmentFeedback, AssessmentForm, Award


class AssessmentsRepository:
    """Assessment rows of one ward inside the caller's transaction; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, assessment: Assessment) -> Assessment:
        self.session.add(assessment)
        await self.session.flush()
        return assessment

    async def of_year(self, ward_id: int, year: int) -> Assessment | None:
        return await self.session.scalar(
            select(Assessment).where(Assessment.ward_id == ward_id, Assessment.year == year)
        )

    async def latest(self, ward_id: int) -> Assessment | None:
        """The ward's newest assessment (the one /assess, /feedback and /assessment act on)."""
        return await self.session.scalar(
            select(Assessment).where(Assessment.ward_id == ward_id).order_by(Assessment.year.desc()).limit(1)
        )

    async def form(self, assessment_id: int, group_id: int) -> AssessmentForm | None:
        return await self.session.scalar(
            select(AssessmentForm).where(
                AssessmentForm.assessment_id == assessment_id, AssessmentForm.group_id == group_id
            )
        )

    async def form_by_id(self, form_id: int) -> AssessmentForm | None:
        return await self.session.get(AssessmentForm, form_id)

    async def add_form(self, form: AssessmentForm) -> AssessmentForm:
        self.session.add(form)
        await self.session.flush()
        return form

    async def forms(self, assessment_id: int) -> Sequence[AssessmentForm]:
        rows = await self.session.scalars(
            select(AssessmentForm)
            .where(AssessmentForm.assessment_id == assessment_id)
            .order_by(AssessmentForm.id)
        )
        return rows.all()

    async def add_feedback(self, feedback: AssessmentFeedback) -> None:
        self.session.add(feedback)
        await self.session.flush()

    async def feedback(self, assessment_id: int) -> Sequence[AssessmentFeedback]:
        rows = await self.session.scalars(
            select(AssessmentFeedback)
            .where(AssessmentFeedback.assessment_id == assessment_id)
            .order_by(AssessmentFeedback.id)
        )
        return rows.all()


class AwardsRepository:
    """The award register (sổ khen thưởng) of a ward; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, award: Award) -> Award:
        self.session.add(award)
        await self.session.flush()
        return award

    async def get(self, award_id: int, ward_id: int) -> Award | None:
        return await self.session.scalar(select(Award).where(Award.id == award_id, Award.ward_id == ward_id))

    async def of_ward(
        self, ward_id: int, *, years: Sequence[int] | None = None, group_id: int | None = None
    ) -> Sequence[Award]:
        """The ward's awards, oldest first; of some years, or of one group, when given."""
        query = select(Award).where(Award.ward_id == ward_id)
        if years is not None:
            query = query.where(Award.year.in_(list(years)))
        if group_id is not None:
            query = query.where(Award.group_id == group_id)
        rows = await self.session.scalars(query.order_by(Award.year, Award.id))
        return rows.all()
