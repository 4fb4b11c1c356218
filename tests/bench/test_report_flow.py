"""The report-flow rush benchmark, as a smoke run: both bots answer every step and the table is printed.

The figures themselves are not checked here (a shared test machine has no steady speed); the full
benchmark and its targets are run by hand, see README "Benchmarks".
"""

from __future__ import annotations

from pathlib import Path

from bench.report_flow import render, run_echo, run_wardbot, steps_of_report
from tests.databases import fresh_database_url


async def test_a_few_heads_walk_whole_reports_against_both_bots(tmp_path: Path) -> None:
    echo = await run_echo(tmp_path, 4, 2)
    fresh_database_url(tmp_path, "rush", postgres=False)  # its fresh database, migrated (from the template)
    ward = await run_wardbot(tmp_path, 4, 2, database=None, stats=True)

    assert (echo.rush.walks, echo.stepping.walks) == (4, 2)
    assert (ward.rush.walks, ward.stepping.walks) == (4, 2)  # every report reached "✅ Đã gửi báo cáo"
    assert (
        ward.rush.updates == 4 * steps_of_report() and len(ward.stepping.latencies) == 2 * steps_of_report()
    )
    assert ward.stats["statements"] > 0 and ward.stats["transactions"]["begin"] > 0
    table = render(echo, ward, 4, 2)
    assert "| ratio wardbot / echo |" in table and "statements" in table
