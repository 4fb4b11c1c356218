"""Translations: gettext catalogues per language, the current language in a context variable.

Catalogues are read from `locales/<lang>/LC_MESSAGES/messages.po` and compiled in memory at
first use, so a checkout runs without a separate compile step; a compiled `messages.mo`
next to the `.po` is used instead when it is at least as new.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

import locales

LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALES_DIR = Path(locales.__file__).resolve().parent
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class WardWords:
    """How a ward names things, from its file's `[ward]` table (Vietnamese, as written there).

    Catalogues write `{you}`, `{unit}`, `{head_title}`… where these words go (a capital first letter,
    `{You}`, starts a sentence), and every translation is filled with them, so one message serves a
    tổ dân phố of a phường and a thôn of a xã, and addresses people as the ward wants."""

    address: str = "anh/chị"
    unit: str = "tổ dân phố"
    head_title: str = "tổ trưởng"
    kind: str = "phường"

    def values(self, language: str) -> dict[str, str]:
        """The words of each placeholder (lower-case names) in `language`."""
        standard = self.unit == "tổ dân phố"
        if pick_language(language) == "en":
            unit = _EN_UNITS.get(self.unit, "group")
            return {
                "you": "you",
                "unit": unit,
                "unit_short": "group" if standard else unit,
                "head_title": "group head" if standard else f"{unit} head",
                "deputy_title": "deputy head",
                "ward_kind": _EN_KINDS.get(self.kind, "ward"),
            }
        return {
            "you": self.address,
            "unit": self.unit,
            "unit_short": "tổ" if standard else self.unit,
            "head_title": self.head_title,
            "deputy_title": "tổ phó" if self.head_title == "tổ trưởng" else f"phó {self.head_title}",
            "ward_kind": self.kind,
        }


_EN_UNITS = {
    "tổ dân phố": "residential group",
    "khu phố": "neighbourhood",
    "thôn": "village",
    "ấp": "hamlet",
    "bản": "village",
}
_EN_KINDS = {"phường": "ward", "xã": "commune", "đặc khu": "special zone"}
#: The placeholders every translation may use without the code passing them (see `WardWords`).
WARD_WORDS = frozenset(
    name
    for word in ("you", "unit", "unit_short", "head_title", "deputy_title", "ward_kind")
    for name in (word, word[0].upper() + word[1:])
)
_WARD_WORD = re.compile(r"\{(" + "|".join(sorted(WARD_WORDS)) + r")\}")
_words: ContextVar[WardWords | None] = ContextVar("ward_words", default=None)
_STANDARD_WORDS = WardWords()


def pick_language(*candidates: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """First candidate we have a catalogue for (`en-US` counts as `en`), else the default."""
    for candidate in candidates:
        if candidate:
            code = candidate.replace("_", "-").split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return default


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of one language."""
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_path.exists() and (not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
        with mo_path.open("rb") as mo_file:
            return Translations(mo_file, domain=DOMAIN)
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def current_language() -> str:
    """The language of the update or job being handled."""
    return _current.get()


def set_language(language: str) -> None:
    """Switch the current context to `language` (one update or job)."""
    _current.set(pick_language(language))


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Speak `language` inside the block, e.g. while writing to another person."""
    token = _current.set(pick_language(language))
    try:
        yield
    finally:
        _current.reset(token)


def set_ward_words(words: WardWords) -> None:
    """Use the words of the ward this update or job is about."""
    _words.set(words)


@contextmanager
def use_ward_words(words: WardWords) -> Iterator[None]:
    """Speak with another ward's words inside the block (a job that writes to several wards)."""
    token = _words.set(words)
    try:
        yield
    finally:
        _words.reset(token)


def ward_words() -> WardWords:
    """The words of the ward being served (a tổ dân phố of a phường, "anh/chị", when none is set)."""
    return _words.get() or _STANDARD_WORDS


def with_ward_words(text: str, language: str | None = None, *, msgid: str = "") -> str:
    """`text` with `{you}`, `{unit}`… replaced by the current ward's words; other placeholders stay, and
    so does one the `msgid` itself has (the code passes that value)."""
    if "{" not in text:
        return text
    values = ward_words().values(language or _current.get())

    def word(match: re.Match[str]) -> str:
        name = match.group(1)
        if match.group(0) in msgid:
            return match.group(0)
        value = values[name.lower()]
        return value if name[0].islower() else value[:1].upper() + value[1:]

    return _WARD_WORD.sub(word, text)


def gettext(message: str) -> str:
    """Translate `message` into the current language, in the words of the current ward."""
    return with_ward_words(translations(_current.get()).gettext(message), msgid=message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate with a plural form chosen by `count`."""
    text = translations(_current.get()).ngettext(singular, plural, count)
    return with_ward_words(text, msgid=singular + plural)


def translate_to(language: str, message: str) -> str:
    """Translate `message` into a given language without touching the current one."""
    lang = pick_language(language)
    return with_ward_words(translations(lang).gettext(message), lang, msgid=message)


def mark(message: str) -> str:
    """Mark a module-level string for extraction; translate it later with `gettext`."""
    return message


_ = gettext
