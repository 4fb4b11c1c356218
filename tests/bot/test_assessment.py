"""The computation of the year-end titles and the award register's rules, as plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.assessment import FormValues, GroupResult, check_form, format_share, qualifies, share, totals
from bot.awards import AwardError, TitleYears, parse_fields, split_command, title_years
from bot.ward_config import WardFile
from storage.models import Award, ResidentialGroup

KEYS = ["security", "environment"]


def values(
    households: int, registered: int, achieved: int, *, met: tuple[bool, bool] = (True, True)
) -> FormValues:
    return FormValues(
        households=households,
        registered=registered,
        achieved=achieved,
        meeting_date=date(2026, 11, 1),
        attended=households,
        criteria=dict(zip(KEYS, met, strict=True)),
    )


def result(
    code: str, form: FormValues, *, override: bool | None = None, submitted: bool = True
) -> GroupResult:
    return GroupResult(
        group_id=int(code[-1]),
        code=code,
        name=code,
        submitted=submitted,
        values=form,
        met=sum(form.criteria.values()),
        criteria=len(KEYS),
        computed=submitted and qualifies(form, KEYS, 80),
        override=override,
        override_reason="hội đồng xét lại" if override is not None else "",
    )


@pytest.mark.parametrize(
    ("achieved", "households", "expected"),
    [
        (123, 150, Decimal("82.0")),
        (1234, 1330, Decimal("92.8")),
        (1, 3, Decimal("33.3")),
        (2, 3, Decimal("66.7")),
        (1641, 2000, Decimal("82.1")),  # 82.05 rounds half up, not to the even 82.0
        (1, 8, Decimal("12.5")),
        (0, 50, Decimal("0.0")),
    ],
)
def test_shares_are_rounded_half_up_to_one_decimal(achieved: int, households: int, expected: Decimal) -> None:
    assert share(achieved, households) == expected


def test_a_share_without_households_is_none_and_shows_a_dash() -> None:
    assert share(0, 0) is None
    assert format_share(None, "vi") == "—"


def test_shares_read_in_the_readers_number_format() -> None:
    assert format_share(Decimal("82.0"), "vi") == "82,0"
    assert format_share(Decimal("82.0"), "en") == "82.0"


def test_a_group_qualifies_with_every_criterion_and_enough_families() -> None:
    assert qualifies(values(100, 95, 93), KEYS, 80)
    assert qualifies(values(100, 80, 80), KEYS, 80)  # exactly the minimum counts
    assert not qualifies(values(100, 95, 79), KEYS, 80)
    assert not qualifies(values(100, 95, 93, met=(True, False)), KEYS, 80)
    # 7999/10000 is 80.0 once rounded, but the rule compares the exact share.
    assert share(7999, 10000) == Decimal("80.0")
    assert not qualifies(values(10000, 9000, 7999), KEYS, 80)
    assert qualifies(values(3, 3, 2), KEYS, 66.6)
    assert not qualifies(FormValues(), KEYS, 80)


def test_an_override_wins_over_the_computation_both_ways() -> None:
    failing = result("TDP2", values(50, 50, 30, met=(True, False)))
    assert not failing.qualifies
    assert result("TDP2", failing.values, override=True).qualifies
    assert not result("TDP1", values(100, 95, 93), override=False).qualifies


def test_the_ward_totals_count_every_group_and_titles_only_of_sent_forms() -> None:
    found = totals(
        [
            result("TDP1", values(100, 95, 93)),
            result("TDP2", values(50, 50, 30, met=(True, False))),
            result("TDP3", FormValues(households=40), submitted=False),
        ]
    )
    assert (found.qualified, found.groups, found.achieved, found.households) == (1, 3, 123, 190)
    assert found.share == Decimal("64.7")


def test_a_form_is_complete_only_when_consistent() -> None:
    assert check_form(values(100, 95, 93), KEYS) is None
    assert check_form(FormValues(households=100), KEYS) == "registered"
    assert check_form(values(100, 95, 96), KEYS) == "achieved"
    assert check_form(values(50, 60, 40), KEYS) == "registered"
    missing = values(100, 95, 93)
    del missing.criteria["environment"]
    assert check_form(missing, KEYS) == "environment"


def test_a_draft_survives_its_json() -> None:
    draft = values(100, 95, 93)
    draft.nominations.append("Nguyễn Văn An — tích cực")
    assert FormValues.from_json(draft.to_json()) == draft


# --- the register -------------------------------------------------------------------------------


def test_award_fields_follow_the_text_after_semicolons(ward: WardFile) -> None:
    head, parts = split_command("TDP03 Giấy khen; vì đã có nhiều thành tích; form: Bằng khen; level: phường")
    assert head == "TDP03 Giấy khen; vì đã có nhiều thành tích"
    fields = parse_fields(parts, ward)
    assert (fields.form, fields.level) == ("Bằng khen", "phường")
    assert split_command("TDP03 Giấy khen") == ("TDP03 Giấy khen", [])
    fields = parse_fields(["quyết định: 125/QĐ-UBND 20/12/2026", "cá nhân: Trần Thị Bình"], ward)
    assert (fields.decision_number, fields.decision_date) == ("125/QĐ-UBND", date(2026, 12, 20))
    assert fields.person == "Trần Thị Bình"
    assert parse_fields(["form: certificate of merit"], ward).form == "Bằng khen"  # English names too


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        (["form: Huân chương"], "form"),
        (["level: quận"], "level"),
        (["decision: 125/QĐ-UBND 31/02/2026"], "decision"),
        (["decision: 20/12/2026"], "decision"),
        (["person: A", "household: B"], "both"),
        (["person: " + "A" * 301], "name"),
    ],
)
def test_award_fields_that_cannot_be_recorded_are_refused(
    ward: WardFile, parts: list[str], reason: str
) -> None:
    with pytest.raises(AwardError) as refused:
        parse_fields(parts, ward)
    assert refused.value.reason == reason


def test_titles_mark_the_years_running() -> None:
    groups = [
        ResidentialGroup(id=1, code="TDP01", name="Tổ 1"),
        ResidentialGroup(id=2, code="TDP02", name="Tổ 2"),
    ]
    awards = [Award(year=year, group_id=1, title_key="group") for year in (2022, 2024, 2025, 2026)] + [
        Award(year=2026, group_id=2, title_key="family"),
        Award(year=2025, group_id=2, title_key="group"),
    ]
    found = title_years(awards, groups)
    assert found == [
        TitleYears("TDP01", "Tổ 1", (2022, 2024, 2025, 2026)),
        TitleYears("TDP02", "Tổ 2", (2025,)),
    ]
    assert [f.running for f in found] == [3, 1]
    assert TitleYears("TDP03", "Tổ 3", ()).running == 0
