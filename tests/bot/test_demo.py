"""The demo ward's seeded months: plausible reports that score across the ward's bands."""

from __future__ import annotations

from pathlib import Path

from bot.application import prepare
from bot.demo import band_distribution, demo_ward, seed_demo_reports
from tests.harness import make_settings, migrated_wiring


async def test_the_demo_ward_has_months_to_rank(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    wiring = await migrated_wiring(settings, demo_ward(settings))
    try:
        await prepare(wiring)  # the four demo groups
        months = await seed_demo_reports(wiring)
        counts = dict(await band_distribution(wiring, months))
    finally:
        await wiring.engine.dispose()
    assert len(months) == 6
    assert list(counts) == ["Hoàn thành xuất sắc", "Hoàn thành tốt", "Hoàn thành", "Chưa hoàn thành"]
    assert sum(counts.values()) == 4 * 6  # every group reported every seeded month
    print("demo band distribution:", counts)
