"""/addgroup keeps the whole name, numbers and all; households come after a ";" or later with /households."""

from __future__ import annotations

from sqlalchemy import text

from tests.handlers.test_membership import make_staff
from tests.harness import RunningBot, texts


async def groups(running: RunningBot) -> list[tuple[str, str, int]]:
    assert running.wiring is not None
    async with running.wiring.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT code, name, households FROM residential_groups ORDER BY id")
        )
        return [(code, name, households) for code, name, households in rows]


async def test_a_name_ending_in_a_number_is_kept_whole_and_households_are_asked_for(
    running: RunningBot,
) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    known = await groups(running)

    added = texts(await hoa.says("/addgroup Tổ dân phố số 8"))
    assert "Đã thêm TDP07 — Tổ dân phố số 8 (0 hộ)." in added
    assert "Tổ có bao nhiêu hộ? Anh/chị gửi /households TDP07 SỐ-HỘ" in added
    assert "TDP07 — Tổ dân phố số 8 giờ có 312 hộ (trước đây: 0)." in texts(
        await hoa.says("/households TDP07 312")
    )

    added = texts(await hoa.says("/addgroup Tổ dân phố số 9; 1.250 hộ"))
    assert "Đã thêm TDP08 — Tổ dân phố số 9 (1250 hộ)." in added and "/households" not in added
    assert "Đã thêm TDP09 — Tổ số ² (0 hộ)." in texts(await hoa.says("/addgroup Tổ số ²"))
    assert await groups(running) == [
        *known,
        ("TDP07", "Tổ dân phố số 8", 312),
        ("TDP08", "Tổ dân phố số 9", 1250),
        ("TDP09", "Tổ số ²", 0),
    ]

    assert "Thêm tổ: /addgroup TÊN; SỐ-HỘ" in texts(await hoa.says("/help"))
    assert "ví dụ: /addgroup Tổ dân phố số 7; 120" in texts(await hoa.says("/addgroup ; 120"))
    assert "Không có tổ TDP99" in texts(await hoa.says("/households TDP99 10"))
    assert len(await groups(running)) == len(known) + 3
