"""Whatever anyone types or presses — at any step of the report, the campaign wizard and the year-end
form, as any
command's arguments, as any button data — no handler raises and the database stays valid.

Button data is fed straight to the pipeline (tests/pipeline.py): the channel refuses data it did not
sign, so this is what a handler must survive if a check in the channel ever lets something through.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import conversations  # noqa: F401  (registers the flows)
import handlers  # noqa: F401  (registers the commands)
from bot.access import POLICY, ChatKind, Role
from bot.application import make_wiring, prepare
from bot.campaigns import launch
from bot.features import registry
from bot.indicators import catalogue_from_json
from bot.membership import CODE_PATTERN, MAX_HOUSEHOLDS, set_staff
from bot.periods import FIRST_YEAR, LAST_YEAR, parse_month
from bot.settings import Settings
from bot.ward_config import WardFile, load_ward_config
from bot.wiring import Wiring
from conversations import assessment, campaign, report
from storage.migrate import upgrade
from storage.models import Campaign
from storage.unit_of_work import unit_of_work
from tests.conversations.test_report_properties import valid
from tests.harness import make_settings
from tests.pipeline import Pipeline
from tests.wards import NOW, POOR_HOUSEHOLDS, SMALL_WARD

WARD = SMALL_WARD + POOR_HOUSEHOLDS
APOLOGIES = ("Xin lỗi, đã có lỗi", "Sorry, something went wrong")
HEAD, STAFF, STRANGER, GROUP_CHAT = 501, 1, 777, -100
PEOPLE = {
    "head": (HEAD, None),
    "staff": (STAFF, None),
    "stranger": (STRANGER, None),
    "in group": (HEAD, GROUP_CHAT),
}
STATES = {
    report.FLOW: {
        report.ASKING,
        report.CHOOSING_MONTH,
        report.CONFIRMING_SOFT,
        report.SUMMARY,
        report.PICKING_EDIT,
    },
    campaign.FLOW: {
        *(campaign.TITLE, campaign.TEXT, campaign.START, campaign.END, campaign.GROUPS, campaign.CRITERIA),
        *(campaign.PREVIEW, campaign.EDITING),
    },
    assessment.FLOW: {assessment.ASKING, assessment.SUMMARY, assessment.PICKING_EDIT},
}

# Each flow's way through every step; a test plays a prefix of it, then anything at all.
Step = tuple[str, str, Any]
PATHS: dict[str, list[Step]] = {
    "report": [
        ("text", "owner", "/report"),
        ("press", "owner", report.MONTH + "2026-10"),
        ("text", "owner", "20"),  # above the soft maximum of 15: asks to confirm
        ("press", "owner", report.KEEP + "births"),
        ("text", "owner", "80"),
        ("text", "owner", "1.000.000"),
        ("press", "owner", report.VALUE + "cleanup_done:1"),
        ("press", "owner", report.VALUE + "security_rating:0"),
        ("text", "owner", "3"),
        ("press", "owner", report.EDIT),
        ("press", "owner", report.PICK + "births"),
        ("text", "owner", "4"),
        ("press", "owner", report.CONFIRM),
        ("text", "owner", "/report 2026-10"),
    ],
    "campaign": [
        ("text", "owner", "/campaign"),
        ("text", "owner", "Toàn dân đoàn kết xây dựng đời sống văn hóa"),
        ("text", "owner", "Hưởng ứng phong trào"),
        ("text", "owner", "01/12/2026"),
        ("press", "owner", campaign.OPEN_END),
        ("press", "owner", campaign.ALL_GROUPS),
        ("text", "owner", "1 30"),
        ("press", "owner", campaign.CRITERIA_DONE),
        ("press", "owner", campaign.EDIT),
        ("press", "owner", campaign.FIELD + campaign.END),
        ("text", "owner", "31/12/2026"),
        ("press", "owner", campaign.LAUNCH),
        ("text", "owner", "/review midterm"),
    ],
}
PATHS["assess"] = [
    ("text", "staff", "/assessment 2026"),
    ("text", "owner", "/assess"),
    ("press", "owner", assessment.KEEP + "households:300"),
    ("text", "owner", "250"),
    ("text", "owner", "200"),
    ("text", "owner", "01/11/2026"),
    ("text", "owner", "150"),
    *(
        ("press", "owner", f"{assessment.YES_NO}{key}:1")
        for key in ("security", "environment", "civilised_customs", "activities", "solidarity")
    ),
    ("text", "owner", "Nguyễn Văn An — tích cực"),
    ("press", "owner", assessment.DONE),
    ("press", "owner", assessment.EDIT),
    ("press", "owner", assessment.PICK + "registered"),
    ("text", "owner", "260"),
    ("press", "owner", assessment.CONFIRM),
    ("text", "staff", "/assessment post"),
]
OWNERS = {"report": "head", "campaign": "staff", "assess": "head"}

# Inputs that have broken handlers: non-ASCII digits ("²".isdigit() is True, int("²") fails), numbers
# too long for int() or SQLite, impossible dates and months, and the separators commands split on.
ODD = [
    *("²", "³⁰", "٣", "9" * 400, "99999999999999999999", "0", "-1", "7", "1e308", "nan", "1,5", "12%"),
    *("9999-12", "0000-01", "2026-13", "#²", "#99999999999999999999", "#1", "; ²", "Tổ số ²", "TDP01 ²"),
    *("TDP01 9999-12", "TDP01 2026-10", "midterm #²", "final #1", "31/12/9999", "01/01/0001", "29/02/2026"),
    *("99 1e9", "2000-01..2999-12", "", " ", "🎉", "\u202e"),
]
SWEEP = [
    "²",
    "٣",
    "9" * 400,
    "99999999999999999999",
    "9999-12",
    "2026-13",
    "#²",
    "; ²",
    "TDP01 ²",
    "midterm #²",
]
PLAUSIBLE = [
    "2",
    "80",
    "1.000.000",
    "có",
    "không",
    "Tốt",
    "bỏ qua",
    "back",
    "1",
    "01/12/2026",
    "2 20",
    "/cancel",
]
typed = st.one_of(
    st.sampled_from(ODD),
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=40),
    st.text(alphabet="0123456789.,;:%-#/ ²³TDP", max_size=24),
)
command_line = st.builds(
    "/{} {}".format, st.sampled_from(sorted(registry.commands)), st.one_of(st.sampled_from(ODD), typed)
)
data = st.one_of(
    st.builds(str.__add__, st.sampled_from(sorted(registry.buttons)), typed),
    st.text(max_size=64),
)
who = st.sampled_from(["owner", "owner", "owner", *sorted(PEOPLE)])
action = st.one_of(
    st.tuples(st.just("text"), who, typed),
    st.tuples(st.just("text"), who, command_line),
    st.tuples(st.just("press"), who, data),
    # a choice the bot offered this person last, as is or with an odd last part ("…:1" → "…:7")
    st.tuples(st.just("offered"), who, st.tuples(st.integers(0, 30), st.none())),
    st.tuples(st.just("offered"), who, st.tuples(st.integers(0, 30), st.sampled_from(ODD))),
    st.tuples(st.just("attachment"), who, st.none()),
)


@functools.cache
def ward() -> WardFile:
    folder = Path(tempfile.mkdtemp(prefix="wardbot-ward-"))
    (folder / "ward.toml").write_text(WARD, encoding="utf-8")
    return load_ward_config(folder / "ward.toml")


def sqlite_settings(folder: Path) -> Settings:
    """SQLite whatever the test backend: these tests are about input, and each of their hundreds of
    examples starts from a copy of one database file (a PostgreSQL database each would take minutes)."""
    return make_settings(folder, database_url=f"sqlite+aiosqlite:///{folder / 'ward.sqlite3'}")


@functools.cache
def template() -> Path:
    """A migrated database with the ward's groups, staff member 1, the head of TDP01 and a launched
    campaign #1 (for /standings #1, /review, pledges), made once and copied for every example."""
    folder = Path(tempfile.mkdtemp(prefix="wardbot-properties-"))

    async def build() -> None:
        wiring = make_wiring(sqlite_settings(folder), ward())
        try:
            await upgrade(wiring.engine)
            await prepare(wiring)
            async with unit_of_work(wiring.factory) as uow:
                staff = await set_staff(uow, "telegram", str(STAFF), name="Cán bộ", is_staff=True)
                group = await uow.groups.by_code("TDP01", wiring.first_ward_id)
                assert group is not None
                head = await uow.people.ensure("telegram", str(HEAD), display_name="Nam")
                await uow.groups.add_membership(head.id, group.id, "head")
                launched = await uow.campaigns.add(
                    Campaign(
                        ward_id=wiring.first_ward_id,
                        title="Dân vận khéo",
                        announcement="Thi đua",
                        starts_on=date(2026, 10, 1),
                        created_by=staff.id,
                    )
                )
                await launch(uow, launched, now=NOW, default_language="vi", platform=None)
        finally:
            await wiring.engine.dispose()

    asyncio.run(build())
    return folder / "ward.sqlite3"


@contextmanager
def fresh_copy() -> Iterator[Path]:
    """A folder holding a copy of the template database."""
    with tempfile.TemporaryDirectory() as folder:
        shutil.copyfile(template(), Path(folder) / "ward.sqlite3")
        yield Path(folder)


async def check_database(wiring: Wiring) -> None:
    """Every stored row is one the rules allow."""
    async with wiring.engine.connect() as connection:

        async def rows(sql: str) -> list[Any]:
            return list(await connection.execute(text(sql)))

        catalogues = {
            cid: {i.key: i for i in catalogue_from_json(body)}
            for cid, body in await rows("SELECT id, indicators_json FROM catalogues")
        }
        for cid, key, value in await rows(
            "SELECT r.catalogue_id, v.key, v.value FROM report_values v JOIN reports r ON r.id = v.report_id"
        ):
            assert valid(catalogues[cid][key], value, MAX_HOUSEHOLDS), (key, value)
        for cid, answers in await rows("SELECT catalogue_id, answers_json FROM report_drafts"):
            for key, answer in json.loads(answers).items():
                assert answer["skipped"] or valid(catalogues[cid][key], answer["value"], MAX_HOUSEHOLDS), (
                    key,
                    answer,
                )
        for flow, state in await rows("SELECT flow, state FROM conversations"):
            assert state in STATES[flow], (flow, state)
        for code, name, households in await rows("SELECT code, name, households FROM residential_groups"):
            assert CODE_PATTERN.match(code) and name.strip() and 0 <= households <= MAX_HOUSEHOLDS, code
        for draft, *confirmed in await rows(
            "SELECT draft_json, households, registered, achieved, attended FROM assessment_forms"
        ):
            figures = json.loads(draft)
            for households, registered, achieved, attended in (
                confirmed,
                [figures.get(name) for name in ("households", "registered", "achieved", "attended")],
            ):
                assert households is None or 1 <= households <= MAX_HOUSEHOLDS, households
                assert registered is None or 0 <= registered <= households, (registered, households)
                assert achieved is None or 0 <= achieved <= registered, (achieved, registered)
                assert attended is None or 0 <= attended <= households, (attended, households)
        for (month,) in await rows("SELECT month FROM reopenings"):
            parse_month(month)
        for title, announcement, starts, ends, weights in await rows(
            "SELECT title, announcement, starts_on, ends_on, weights_json FROM campaigns"
        ):
            assert len(title) <= campaign.TITLE_LIMIT and len(announcement) <= campaign.TEXT_LIMIT
            days = [date.fromisoformat(str(day)) for day in (starts, ends) if day is not None]
            assert all(FIRST_YEAR <= day.year <= LAST_YEAR for day in days), days
            assert starts is None or ends is None or days[0] <= days[1], days
            for weight in json.loads(weights or "{}").values():
                assert 0 <= weight <= 1000, weight


def odd_tail(data: str, odd: str | None) -> str:
    """The data with its last part replaced: "report:value:cleanup_done:1" → "report:value:cleanup_done:7"."""
    if odd is None:
        return data
    head, separator, _last = data.rpartition(":")
    return f"{head}{separator}{odd}"


async def play(steps: list[Step], owner: str, pipeline: Pipeline) -> None:
    """Send every step; no reply may be the apology of a failed handler (a raise fails the test too)."""
    offered: dict[str, list[str]] = {}
    for kind, person, payload in steps:
        person = owner if person == "owner" else person
        user_id, chat_id = PEOPLE[person]
        if kind == "text":
            replies = await pipeline.send(user_id, text=payload, chat_id=chat_id)
        elif kind == "press":
            replies = await pipeline.send(user_id, data=payload, chat_id=chat_id)
        elif kind == "offered":
            choices = offered.get(person)
            if not choices:
                continue
            index, odd = payload
            replies = await pipeline.send(
                user_id, data=odd_tail(choices[index % len(choices)], odd), chat_id=chat_id
            )
        else:
            replies = await pipeline.send(user_id, has_attachment=True, chat_id=chat_id)
        said = "\n".join(reply.text for reply in replies)
        assert not any(apology in said for apology in APOLOGIES), ((kind, person, payload), said)
        for reply in replies:
            if reply.choices:
                offered[person] = [choice.data for row in reply.choices for choice in row]


async def run(steps: list[Step], owner: str, folder: Path) -> None:
    wiring = make_wiring(sqlite_settings(folder), ward())
    wiring.clock = lambda: NOW
    try:
        await play(steps, owner, Pipeline(wiring))
        await check_database(wiring)
    finally:
        await wiring.engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flow=st.sampled_from(sorted(PATHS)),
    reached=st.integers(min_value=0, max_value=20),
    tail=st.lists(action, min_size=1, max_size=10),
)
def test_anything_at_any_step_of_a_flow_keeps_the_database_valid(
    flow: str, reached: int, tail: list[Step]
) -> None:
    with fresh_copy() as folder:
        asyncio.run(run([*PATHS[flow][:reached], *tail], OWNERS[flow], folder))


def sender(command: str) -> str:
    """Who may run the command (so the odd argument reaches its handler rather than a refusal)."""
    rule = POLICY[registry.commands[command].policy]
    if Role.STAFF in rule.roles and not rule.roles & {Role.HEAD, Role.ANYONE}:
        return "staff"
    return "in group" if rule.chats == frozenset({ChatKind.GROUP}) else "head"


def test_every_command_with_odd_arguments_and_every_button_with_odd_data() -> None:
    """The sweep the random examples cannot promise: each command with each odd argument, and each button
    prefix with each odd ending, from someone allowed to use it, while both flows are open."""
    commands: list[Step] = [
        ("text", sender(word), f"/{word} {odd}") for word in sorted(registry.commands) for odd in SWEEP
    ]
    endings = [*SWEEP, "value:cleanup_done:7", "value:security_rating:9", "block:99", "post:final:²"]
    presses: list[Step] = [
        (
            "press",
            "staff" if registry.buttons[prefix].policy in ("campaign", "review") else "head",
            prefix + odd,
        )
        for prefix in sorted(registry.buttons)
        for odd in endings
    ]
    # the head at the yes/no question of the report, staff choosing the groups of a campaign
    openings = [*PATHS["report"][:7], *PATHS["campaign"][:5]]
    with fresh_copy() as folder:
        asyncio.run(run([*openings, *presses, *commands], "head", folder))
