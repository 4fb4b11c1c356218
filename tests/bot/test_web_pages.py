"""What the web page shows, as plain values: the standings it keeps are always those the chat computes."""

from __future__ import annotations

from bot.periods import quarter_period, year_period
from bot.standings import StandingsResult, compute_standings
from bot.web_pages import StandingsCache, cached_standings
from storage.unit_of_work import unit_of_work
from tests.handlers.test_standings import report_october
from tests.harness import RunningBot
from tests.wards import NOW, WARD, appoint


async def test_kept_standings_follow_every_new_report(reporting: RunningBot) -> None:
    assert reporting.wiring is not None
    nam = await appoint(reporting, 501, "Nam", group="TDP01")
    binh = await appoint(reporting, 502, "Bình", group="TDP02")
    await report_october(nam, "2", "60", "1.000.000", "Có")
    ward, cache = reporting.ward, StandingsCache()
    periods = (quarter_period(2026, 4), year_period(2026, today=NOW.date()))

    async def both() -> list[tuple[StandingsResult, StandingsResult]]:
        assert reporting.wiring is not None
        pairs = []
        async with unit_of_work(reporting.wiring.factory) as uow:
            for period in periods:
                tz = reporting.wiring.timezone_of(WARD)
                kept, _pictures = await cached_standings(
                    uow, cache, ward, WARD, period, group_ids=None, weights=None, tz=tz
                )
                fresh = await compute_standings(uow, period, ward, ward_id=WARD, tz=tz)
                pairs.append((kept, fresh))
        return pairs

    before = await both()
    assert all(kept.standings == fresh.standings for kept, fresh in before)
    again = await both()
    assert all(a[0] is b[0] for a, b in zip(before, again, strict=True))  # nothing changed: kept

    await report_october(binh, "3", "95", "2.000.000", "Có")
    after = await both()
    for (old, _), (kept, fresh) in zip(before, after, strict=True):
        assert kept is not old
        assert kept.standings == fresh.standings
        assert all(standing.score is not None for standing in kept.standings)
