"""Translations: gettext catalogues per language, the current language in a context variable.

Catalogues are read from `locales/<lang>/LC_MESSAGES/messages.po` and compiled in memory at
first use, so a checkout runs without a separate compile step; a compiled `messages.mo`
next to the `.po` is used instead when it is at least as new.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


def gettext(message: str) -> str:
    """Translate `message` into the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate with a plural form chosen by `count`."""
    return translations(_current.get()).ngettext(singular, plural, count)


def translate_to(language: str, message: str) -> str:
    """Translate `message` into a given language without touching the current one."""
    return translations(pick_language(language)).gettext(message)


def mark(message: str) -> str:
    """Mark a module-level string for extraction; translate it later with `gettext`."""
    return message


_ = gettext
