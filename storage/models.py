"""Typed SQLAlchemy models: every row the bot needs to survive a restart."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC and always gives back aware datetimes (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Ward(Base):
    """A ward (phường, xã, đặc khu) served by this deployment; one ward file each."""

    __tablename__ = "wards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Person(Base):
    """Someone who wrote to the bot or was named by staff, on one chat platform."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    # The name the ward recorded (admin add --name, an invite's name): the platform's no longer replaces it.
    named_by_ward: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    client_language: Mapped[str | None] = mapped_column(String(16), default=None)
    is_staff: Mapped[bool] = mapped_column(default=False)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id", ondelete="SET NULL"), default=None)
    is_province: Mapped[bool] = mapped_column(default=False)  # province staff: reads every ward
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @property
    def erased(self) -> bool:
        """Erased (bot/privacy.py): the row only stands for their role in the records; nobody to write to."""
        return self.external_id.startswith(ERASED_PREFIX)


ERASED_PREFIX = "erased-"  # the account id an erased person's row keeps instead of theirs


class InboxUpdate(Base):
    """A received update, written before the platform is told it arrived, handled exactly once from here.

    `payload` is the platform-neutral update (bot.turns.Inbound as JSON); `handled_at` is set in the
    same transaction as the update's effects, so a crash leaves it either untouched or fully done.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "update_id"),
        Index(
            "ix_inbox_unhandled",
            "chat_key",
            "id",
            sqlite_where=text("handled_at IS NULL"),
            postgresql_where=text("handled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[int] = mapped_column(BigInteger)
    chat_key: Mapped[str] = mapped_column(String(96))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ResidentialGroup(Base):
    """A residential group (tổ dân phố) of a ward; its code is unique within the ward."""

    __tablename__ = "residential_groups"
    __table_args__ = (UniqueConstraint("ward_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    households: Mapped[int] = mapped_column(default=0)
    block: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The ward file's [[groups]] entry as last taken in (JSON of the fields it gives), or None when the
    # ward file never named the group: a start applies only the fields that changed in the file since.
    ward_entry: Mapped[str | None] = mapped_column(Text, default=None)


class Membership(Base):
    """A person's role in one group: head, deputy or follower (resident)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("person_id", "group_id", "role"),
        Index(
            "uq_memberships_one_head_or_deputy",
            "group_id",
            "role",
            unique=True,
            sqlite_where=text("role IN ('head', 'deputy')"),
            postgresql_where=text("role IN ('head', 'deputy')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    person: Mapped[Person] = relationship(lazy="raise")
    group: Mapped[ResidentialGroup] = relationship(lazy="raise")


class Chat(Base):
    """A chat the bot is in; a group chat may be linked to one residential group."""

    __tablename__ = "chats"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index(
            "uq_chats_one_per_group",
            "group_id",
            unique=True,
            sqlite_where=text("group_id IS NOT NULL"),
            postgresql_where=text("group_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256), default="")
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("residential_groups.id", ondelete="SET NULL"), default=None
    )
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    group: Mapped[ResidentialGroup | None] = relationship(lazy="raise")


class Invite(Base):
    """A one-time invitation: to lead a group (head, deputy) or to serve as staff (of a ward, or of the
    province when `ward_id` is None); only a hash of the code is kept."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), default=None)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("residential_groups.id", ondelete="CASCADE"), default=None
    )
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100), default=None)  # the invited person's name, if given
    setup: Mapped[bool] = mapped_column(default=False)  # a setup code: issuing one revokes the previous
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)

    group: Mapped[ResidentialGroup | None] = relationship(lazy="raise")


class AuditEntry(Base):
    """One change to membership (and later to reports): who did what to whom, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id", ondelete="SET NULL"), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    actor_label: Mapped[str] = mapped_column(String(256), default="")
    action: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("residential_groups.id", ondelete="SET NULL"), default=None
    )
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")


class Catalogue(Base):
    """One version of the indicator catalogue; a report keeps the version it was filled in with."""

    __tablename__ = "catalogues"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    indicators_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Report(Base):
    """A group's submitted figures for one month (the draft being typed lives in ReportDraft)."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("group_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7), index=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogues.id"))
    first_submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    on_time: Mapped[bool] = mapped_column(default=True)

    values: Mapped[list[ReportValue]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ReportValue.id"
    )
    photos: Mapped[list[ReportPhoto]] = relationship(lazy="raise", order_by="ReportPhoto.id")
    submitter: Mapped[Person | None] = relationship(lazy="raise")


class ReportValue(Base):
    """One answer of a submitted report; `flagged` marks a value outside the plausible range."""

    __tablename__ = "report_values"
    __table_args__ = (UniqueConstraint("report_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(default=None)  # a photo answer: how many photos
    flagged: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str | None] = mapped_column(Text, default=None)  # the answer to a free-text question


class ReportPhoto(Base):
    """A photo sent as the answer to a photo question: a bounded blob, never served but to ward staff.

    It belongs to the draft that received it until the report is submitted (`report_id` is None
    until then); the name it is exported under is generated, never the sender's file name.
    """

    __tablename__ = "report_photos"
    __table_args__ = (Index("ix_report_photos_group_id_month", "group_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    key: Mapped[str] = mapped_column(String(40))
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True, default=None
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column()
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReportDraft(Base):
    """What one person has typed so far for a group's month, saved at every step."""

    __tablename__ = "report_drafts"
    __table_args__ = (UniqueConstraint("group_id", "month", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogues.id"))
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    base_json: Mapped[str | None] = mapped_column(Text, default=None)  # the report values it was copied from
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ReportChange(Base):
    """The report audit trail: submissions, and every value changed after the first one."""

    __tablename__ = "report_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))  # submitted | changed | reopened
    key: Mapped[str] = mapped_column(String(40), default="")
    old_value: Mapped[float | None] = mapped_column(default=None)
    new_value: Mapped[float | None] = mapped_column(default=None)


class Bonus(Base):
    """Bonus or penalty points (điểm thưởng / điểm trừ) the ward gave one group for one month, and why.

    One per group and month: a new /bonus replaces it, 0 removes it; the audit log keeps the history.
    """

    __tablename__ = "bonuses"
    __table_args__ = (UniqueConstraint("group_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7), index=True)
    points: Mapped[float] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Reopening(Base):
    """Staff reopened one group's locked month until a given instant."""

    __tablename__ = "reopenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Conversation(Base):
    """Where a person is in a multi-step flow: the database-backed conversation state.

    Written in the same transaction as the step's data, so a crash can never leave the two apart.
    """

    __tablename__ = "conversations"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    chat_external_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Broadcast(Base):
    """One announcement to many chats; `key` makes enqueueing the same announcement twice a no-op."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id", ondelete="SET NULL"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    title: Mapped[str] = mapped_column(String(256), default="")
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reported: Mapped[bool] = mapped_column(default=False)


class OutboxAttachment(Base):
    """A file sent with a broadcast, stored once; Telegram's file_id is kept after the first upload."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(256))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    is_photo: Mapped[bool] = mapped_column(default=False)
    telegram_file_id: Mapped[str | None] = mapped_column(String(256), default=None)


class OutboxMessage(Base):
    """One message to one chat — of a broadcast, or a reply to an update: it survives restarts.

    A worker owns a 'sending' row until `lease_until`; after that another may take it (a worker
    that died mid-send leaves its rows to the others).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True, default=None
    )
    platform: Mapped[str] = mapped_column(String(16))
    chat_external_id: Mapped[str] = mapped_column(String(64))
    recipient_label: Mapped[str] = mapped_column(String(256), default="")
    is_group: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    choices_json: Mapped[str] = mapped_column(Text, default="[]")
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_attachments.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed|blocked
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_error: Mapped[str] = mapped_column(String(512), default="")
    edit_message_id: Mapped[str | None] = mapped_column(String(64), default=None)  # a reply replacing it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # The last message to someone who asked to be forgotten: the row goes once the platform answered.
    forget_when_done: Mapped[bool] = mapped_column(default=False)


class Campaign(Base):
    """An emulation campaign (phong trào thi đua): its announcement, window, groups and criteria."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    announcement: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    starts_on: Mapped[date | None] = mapped_column(default=None)
    ends_on: Mapped[date | None] = mapped_column(default=None)
    block: Mapped[str | None] = mapped_column(String(100), default=None)  # None: every group
    weights_json: Mapped[str | None] = mapped_column(Text, default=None)  # None: the ward's weights
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)  # None: being prepared
    launch_broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), default=None
    )

    groups: Mapped[list[CampaignGroup]] = relationship(lazy="raise", cascade="all, delete-orphan")


class CampaignGroup(Base):
    """A group taking part in a campaign, fixed at launch."""

    __tablename__ = "campaign_groups"
    __table_args__ = (UniqueConstraint("campaign_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))


class Pledge(Base):
    """A group's pledge (ký giao ước thi đua) to a campaign, recorded once."""

    __tablename__ = "pledges"
    __table_args__ = (UniqueConstraint("campaign_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PendingChoices(Base):
    """The numbered options last shown in a chat of a platform without buttons (Zalo).

    "1" typed next means the first option's data; kept in the database so a restart keeps them.
    """

    __tablename__ = "pending_choices"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_json: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Worker(Base):
    """A running bot process sharing the database; the flood limits are divided among live workers."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Media(Base):
    """A picture served to a platform that takes photos only by URL (Zalo), by any worker."""

    __tablename__ = "media"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class WebLink(Base):
    """A one-time sign-in link to the ward's web page, asked for with /web; only a hash of its code
    is kept, and it is used up by the sign-in (never by opening it: a link preview must not spend it)."""

    __tablename__ = "web_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the database only its hash."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class Assessment(Base):
    """One year's assessment (bình xét) of a ward: opened, posted for comments, decided."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("ward_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    posting_ends_on: Mapped[date | None] = mapped_column(default=None)  # the decision may come from this day
    decision_number: Mapped[str | None] = mapped_column(String(60), default=None)
    decision_date: Mapped[date | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class AssessmentForm(Base):
    """A group's year-end form: the draft as typed (`draft_json`) and what was confirmed (the columns)."""

    __tablename__ = "assessment_forms"
    __table_args__ = (UniqueConstraint("assessment_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_groups.id", ondelete="CASCADE"))
    draft_json: Mapped[str] = mapped_column(Text, default="{}")
    households: Mapped[int | None] = mapped_column(default=None)
    registered: Mapped[int | None] = mapped_column(default=None)
    achieved: Mapped[int | None] = mapped_column(default=None)
    meeting_date: Mapped[date | None] = mapped_column(default=None)
    attended: Mapped[int | None] = mapped_column(default=None)
    criteria_json: Mapped[str] = mapped_column(Text, default="{}")  # criterion key → true/false
    nominations_json: Mapped[str] = mapped_column(Text, default="[]")  # "Name — reason" lines
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    submitted_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    override: Mapped[bool | None] = mapped_column(default=None)  # staff's yes/no instead of the computation
    override_reason: Mapped[str] = mapped_column(Text, default="")


class AssessmentFeedback(Base):
    """A comment sent with /feedback while the proposed results are posted (niêm yết): who and when."""

    __tablename__ = "assessment_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    person_label: Mapped[str] = mapped_column(String(256), default="")
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Award(Base):
    """One line of the award register (sổ khen thưởng): to a group, a household or a person."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    recipient_kind: Mapped[str] = mapped_column(String(16))  # group | household | person
    recipient_name: Mapped[str] = mapped_column(String(300))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("residential_groups.id", ondelete="SET NULL"), default=None
    )
    households: Mapped[int | None] = mapped_column(default=None)  # a family title's figure: how many homes
    title_key: Mapped[str | None] = mapped_column(String(16), default=None)  # "family" | "group" titles
    form: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(200), default="")
    decision_number: Mapped[str] = mapped_column(String(60), default="")
    decision_date: Mapped[date | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), default=None
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
