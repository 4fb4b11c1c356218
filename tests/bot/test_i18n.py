"""Every message in the code has a Vietnamese and an English translation with the same placeholders,
and the Vietnamese one speaks with one respectful voice."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "mark": None, "ngettext": (1, 2)}
SOURCE_DIRS = ("bot", "handlers", "conversations")
METHODS = [("**.py", "python"), ("channels/web_templates/**.html", "jinja2")]  # the web page's templates too


def _msgids_in_code() -> set[str]:
    found: set[str] = set()
    for folder in SOURCE_DIRS:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=METHODS, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(language: str) -> dict[str, str]:
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    entries: dict[str, str] = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        value = message.string if isinstance(message.string, str) else " ".join(message.string)
        entries[key] = "" if message.fuzzy else value
    return entries


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_code_has_messages() -> None:
    assert len(_msgids_in_code()) > 10


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    catalogue = _catalogue(language)
    untranslated = sorted(m for m in _msgids_in_code() if not catalogue.get(m))
    assert untranslated == [], (
        f"messages without a {language} translation (run pybabel update): {untranslated}"
    )


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_translations_keep_named_placeholders(language: str) -> None:
    for msgid, translation in _catalogue(language).items():
        assert "" not in _fields(msgid), f"positional placeholder in {msgid!r}: name it"
        # A translation may add the ward's own words ({you}, {unit}, {head_title}…): gettext fills them.
        added_by_gettext = i18n.WARD_WORDS - _fields(msgid)
        assert _fields(translation) - added_by_gettext == _fields(msgid), (
            f"{language}: placeholders differ for {msgid!r}"
        )


def test_vietnamese_addresses_people_one_way() -> None:
    """Never "bạn" (too casual for a 55-year-old head) nor «» (Vietnamese quotes with “ ”): the address
    is `{you}`, filled with the ward's "anh/chị" or "ông/bà"."""
    for msgid, translation in _catalogue("vi").items():
        words = set(translation.casefold().replace(",", " ").replace(".", " ").split())
        assert "bạn" not in words, f"vi: {msgid!r} says “bạn”: write {{you}}"
        assert "anh/chị" not in words, f"vi: {msgid!r} fixes the address: write {{you}} (or ông/bà)"
        assert "«" not in translation and "»" not in translation, f"vi: {msgid!r} uses «»: write “ ”"


def test_translations_speak_in_the_ward_s_words() -> None:
    """One message serves a tổ dân phố of a phường and a thôn of a xã, addressed as the ward wants."""
    village = i18n.WardWords(address="ông/bà", unit="thôn", head_title="trưởng thôn", kind="xã")
    with i18n.use_language("vi"), i18n.use_ward_words(village):
        assert i18n.gettext("Which month are you reporting for?") == "Ông/bà báo cáo cho tháng nào?"
        assert i18n.gettext("deputy head") == "phó trưởng thôn"
        assert i18n.gettext("Who has reported, and on time") == "Thôn nào đã báo cáo, có đúng hạn không"
    with i18n.use_language("en"), i18n.use_ward_words(village):
        assert i18n.gettext("group head") == "village head"
    with i18n.use_language("vi"):
        assert i18n.gettext("group head") == "tổ trưởng"
        assert i18n.gettext("Which month are you reporting for?") == "Anh/chị báo cáo cho tháng nào?"


def test_language_follows_the_app_language_when_we_have_it() -> None:
    assert i18n.pick_language("en-US") == "en"
    assert i18n.pick_language("vi") == "vi"
    assert i18n.pick_language("fr", default="vi") == "vi"
    assert i18n.pick_language(None) == "vi"


def test_gettext_uses_the_current_language() -> None:
    with i18n.use_language("vi"):
        assert i18n.gettext("Choose your language:") == "Anh/chị chọn ngôn ngữ:"
    with i18n.use_language("en"):
        assert i18n.gettext("Choose your language:") == "Choose your language:"
