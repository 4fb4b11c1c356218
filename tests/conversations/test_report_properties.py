"""Whatever a head types or presses at any step, the stored report stays valid and the bot keeps answering."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.indicators import Indicator, Kind
from bot.simulator import FakeBotApi
from bot.ward_config import load_ward_config
from conversations.report import ASKING, CHOOSING_MONTH, CONFIRMING_SOFT, PICKING_EDIT, SUMMARY
from storage.unit_of_work import unit_of_work
from tests.harness import RunningBot, make_settings
from tests.wards import NOW, SMALL_WARD, WARD

APOLOGY = "Xin lỗi, đã có lỗi"
STATES = {ASKING, CHOOSING_MONTH, CONFIRMING_SOFT, SUMMARY, PICKING_EDIT}

plausible = st.sampled_from(["2", "85", "1.500.000", "có", "không", "1", "0", "Tốt", "20", "bỏ qua", "back"])
arbitrary = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="0123456789.,% -+tỷtriệuk", max_size=20),
    st.just("9" * 4096),
    st.just("👍🏽"),
)
action = st.one_of(
    st.tuples(st.just("text"), st.one_of(plausible, arbitrary)),
    st.tuples(st.just("press"), st.integers(min_value=1, max_value=6)),
    st.tuples(st.just("kind"), st.sampled_from(["sticker", "photo", "voice", "location"])),
    st.tuples(st.just("command"), st.sampled_from(["/report", "/cancel", "/myreport", "/help"])),
)


def valid(indicator: Indicator, value: float | None, households: int) -> bool:
    """What every stored value must satisfy, whatever was typed."""
    if value is None:
        return not indicator.required
    if indicator.min is not None and value < indicator.min:
        return False
    if indicator.max is not None and value > indicator.max:
        return False
    if indicator.max_is_households and value > households:
        return False
    if indicator.kind is Kind.INTEGER or indicator.kind is Kind.YESNO:
        return value == int(value) and (indicator.kind is not Kind.YESNO or value in (0, 1))
    if indicator.kind is Kind.CHOICE:
        return value == int(value) and 0 <= value < len(indicator.choices)
    return True


async def play(actions: list[tuple[str, Any]], folder: Path) -> None:
    ward_path = folder / "ward.toml"
    ward_path.write_text(SMALL_WARD, encoding="utf-8")
    ward = load_ward_config(ward_path)
    indicators = {i.key: i for i in ward.indicators}
    async with FakeBotApi(quiet_seconds=0.05) as fake:
        bot = RunningBot(fake, make_settings(folder), ward, clock=lambda: NOW)
        await bot.start()
        try:
            assert bot.wiring is not None
            async with unit_of_work(bot.wiring.factory) as uow:
                group = await uow.groups.by_code("TDP01", WARD)
                assert group is not None
                person = await uow.people.ensure("telegram", "501", display_name="Nam")
                await uow.groups.add_membership(person.id, group.id, "head")
            nam = bot.person(501, "Nam")
            for kind, payload in actions:
                if kind == "press":
                    try:
                        target = nam.last_with_buttons()
                    except LookupError:
                        continue
                    if len(target.flat_buttons) < payload:
                        continue
                    answer = await nam.presses(payload, target)
                elif kind == "kind":
                    answer = await nam.says(None, kind=payload)
                else:
                    answer = await nam.says(payload)
                assert all(APOLOGY not in (m.text or "") for m in answer), answer

            async with bot.wiring.engine.connect() as connection:
                drafts = (await connection.execute(text("SELECT answers_json FROM report_drafts"))).all()
                values = (await connection.execute(text("SELECT key, value FROM report_values"))).all()
                states = (await connection.execute(text("SELECT state FROM conversations"))).all()
            for (answers_json,) in drafts:
                for key, answer in json.loads(answers_json).items():
                    assert valid(indicators[key], answer["value"], 300) or answer["skipped"], (key, answer)
            for key, value in values:
                assert valid(indicators[key], value, 300), (key, value)
            assert all(state in STATES for (state,) in states)
        finally:
            await bot.stop()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=3, max_size=14))
def test_any_input_at_any_step_keeps_the_report_valid(actions: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(play([("command", "/report"), ("press", 2), *actions], Path(folder)))
