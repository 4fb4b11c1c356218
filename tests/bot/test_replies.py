"""Button labels shortened for a phone: at a word boundary with "…", never inside a word or a number."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.replies import shorten


def test_a_long_criterion_is_cut_between_words() -> None:
    label = "Đền ơn đáp nghĩa, uống nước nhớ nguồn, chăm lo gia đình chính sách"
    assert shorten(label, 30) == "Đền ơn đáp nghĩa, uống nước…"
    assert shorten("Ủng hộ quỹ: 1.500.000 đồng", 20) == "Ủng hộ quỹ…"  # not "Ủng hộ quỹ: 1.500"
    assert shorten("Ngắn gọn", 30) == "Ngắn gọn"


@given(st.lists(st.sampled_from(["Hộ", "nghèo", "1.500.000", "đồng", "12,5", "hóa,", "—"]), max_size=30))
def test_a_shortened_label_fits_and_keeps_whole_words(words: list[str]) -> None:
    text = " ".join(words)
    shown = shorten(text, 24)
    assert len(shown) <= 24
    if shown != text:
        assert shown.endswith("…")
        kept = shown.removesuffix("…").split()
        assert kept[:-1] == words[: len(kept) - 1]
        assert words[len(kept) - 1].startswith(kept[-1])  # whole, or without a trailing comma
