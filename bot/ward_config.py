"""The ward file (WARD_CONFIG): one TOML file describing the ward, its groups and indicators.

Loading checks every rule up front, so a mistake stops start-up with one line naming
the file, the entry and the problem instead of surfacing later in a chat.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.indicators import DEFAULT_INDICATORS, Direction, Indicator, Kind

GROUP_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
INDICATOR_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
GROUP_NAME_MAX = 100
WARD_NAME_MAX = 200
DEFAULT_SCORED_WEIGHT = 10.0

_TOP_KEYS = ("ward", "groups", "indicators")
_WARD_KEYS = (
    "name",
    "timezone",
    "report_deadline_day",
    "reminder_days_before",
    "bands",
    "conversation_timeout_minutes",
    "invite_days",
)
_BAND_KEYS = ("xuat_sac", "tien_tien", "hoan_thanh")
_GROUP_KEYS = ("code", "name", "households", "block")
_INDICATOR_KEYS = (
    "key",
    "label",
    "help",
    "unit",
    "kind",
    "choices",
    "min",
    "max",
    "soft_min",
    "soft_max",
    "required",
    "direction",
    "weight",
    "target",
    "max_is_households",
)
_TEXT_KEYS = ("vi", "en")
_RANGED_KINDS = (Kind.INTEGER, Kind.NUMBER, Kind.PERCENT, Kind.MONEY)
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


class WardConfigError(Exception):
    """A ward file that cannot be used; `str()` is one line: "<path>: <entry>: <problem>"."""


@dataclass(frozen=True, slots=True)
class Bands:
    """Score thresholds of the emulation titles; below `hoan_thanh` is "Chưa hoàn thành"."""

    xuat_sac: float = 90
    tien_tien: float = 80
    hoan_thanh: float = 70

    def __post_init__(self) -> None:
        if not 0 <= self.hoan_thanh < self.tien_tien < self.xuat_sac <= 100:
            raise ValueError("bands must be strictly decreasing within 0..100")


@dataclass(frozen=True, slots=True)
class WardSettings:
    """The `[ward]` table."""

    name: str
    timezone: str | None = None
    report_deadline_day: int = 5
    reminder_days_before: tuple[int, ...] = (3, 1, 0)
    bands: Bands = field(default_factory=Bands)
    conversation_timeout_minutes: int = 60
    invite_days: int = 7
    broadcast_give_up_hours: float = 24


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One `[[groups]]` entry; the code is stored upper-case so "tdp01" and "TDP01" are one group."""

    code: str
    name: str
    households: int
    block: str | None = None


@dataclass(frozen=True, slots=True)
class WardFile:
    """Everything the ward file says, checked; `indicators_from_file` is False for the defaults."""

    ward: WardSettings
    groups: tuple[GroupEntry, ...]
    indicators: tuple[Indicator, ...]
    indicators_from_file: bool
    path: Path | None


def default_ward_file(name: str = "Phường", timezone: str | None = None) -> WardFile:
    """The configuration used when no ward file is given."""
    return WardFile(
        ward=WardSettings(name=name, timezone=timezone),
        groups=(),
        indicators=DEFAULT_INDICATORS,
        indicators_from_file=False,
        path=None,
    )


def load_ward_config(path: Path | str) -> WardFile:
    """Read and check a ward file; raises `WardConfigError` on the first problem found."""
    file_path = Path(path)
    where = str(path)
    try:
        raw = file_path.read_bytes()
    except FileNotFoundError:
        raise WardConfigError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise WardConfigError(f"{where}: is a directory, not a file") from None
    except OSError as exc:
        raise WardConfigError(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows editors is harmless
    except UnicodeDecodeError:
        raise WardConfigError(f"{where}: not UTF-8 text; save the file as UTF-8") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WardConfigError(f"{where}: {_describe_toml_error(exc, text)}") from None
    return _Reader(where).document(document, file_path)


def _describe_toml_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """Turn tomllib's "... (at line N, column C)" into "line N: ..." so the line comes first."""
    message = " ".join(str(exc).split())
    position = _TOML_POSITION.search(message)
    if position:
        line, column = position.groups()
        return f"line {line}: {message[: position.start()]} (column {column})"
    if _TOML_AT_END.search(message):
        last_line = len(text.splitlines()) or 1
        return f"line {last_line}: {_TOML_AT_END.sub('', message)} (at the end of the file)"
    return message


def _quote(text: str) -> str:
    """Quote user text for the message, escaping newlines so the error stays one line."""
    return json.dumps(text, ensure_ascii=False)


def _format_number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return str(value)


class _Reader:
    """Checks the parsed document; every failure names the file and the entry."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, entry: str, problem: str) -> NoReturn:
        raise WardConfigError(f"{self.where}: {entry}: {problem}")

    # --- generic checks -------------------------------------------------------------

    def table(self, value: object, entry: str) -> Mapping[str, object]:
        if not isinstance(value, dict):
            self.fail(entry, "must be a table")
        return value

    def known_keys(self, table: Mapping[str, object], allowed: tuple[str, ...], entry: str) -> None:
        unknown = [key for key in table if key not in allowed]
        if not unknown:
            return
        names = ", ".join(_quote(key) for key in unknown)
        noun = "key" if len(unknown) == 1 else "keys"
        guess = difflib.get_close_matches(unknown[0], allowed, n=1)
        if len(unknown) == 1 and guess:
            self.fail(entry, f'unknown {noun} {names} (did you mean "{guess[0]}"?)')
        self.fail(entry, f"unknown {noun} {names}; allowed keys: {', '.join(allowed)}")

    def text(self, value: object, entry: str, key: str = "", *, max_length: int | None = None) -> str:
        said = f"{key} " if key else ""
        if not isinstance(value, str):
            self.fail(entry, f"{said}must be text")
        stripped = value.strip()
        if not stripped:
            self.fail(entry, f"{said}must not be empty")
        if max_length is not None and len(stripped) > max_length:
            self.fail(entry, f"{said}must be at most {max_length} characters")
        return stripped

    def whole(self, value: object, entry: str, low: int, high: int, key: str = "") -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            said = f"{key} " if key else ""
            self.fail(entry, f"{said}must be a whole number from {low} to {high}")
        return value

    def number(self, value: object, entry: str, key: str = "") -> float:
        said = f"{key} " if key else ""
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.fail(entry, f"{said}must be a number")
        if not math.isfinite(value):
            self.fail(entry, f"{said}must be a finite number")
        return float(value)

    def optional_number(self, table: Mapping[str, object], key: str, entry: str) -> float | None:
        if key not in table:
            return None
        return self.number(table[key], entry, key)

    def boolean(self, value: object, entry: str, key: str = "") -> bool:
        if not isinstance(value, bool):
            said = f"{key} " if key else ""
            self.fail(entry, f"{said}must be true or false")
        return value

    # --- the document ---------------------------------------------------------------

    def document(self, document: Mapping[str, object], path: Path) -> WardFile:
        self.known_keys(document, _TOP_KEYS, "top level")
        if "ward" not in document:
            self.fail("[ward]", "missing; the file needs a [ward] table with at least a name")
        ward = self.ward(self.table(document["ward"], "[ward]"))
        groups = self.groups(document.get("groups"))
        if "indicators" in document:
            indicators = self.indicators(document["indicators"])
            from_file = True
        else:
            indicators = DEFAULT_INDICATORS
            from_file = False
        return WardFile(
            ward=ward, groups=groups, indicators=indicators, indicators_from_file=from_file, path=path
        )

    def ward(self, table: Mapping[str, object]) -> WardSettings:
        self.known_keys(table, _WARD_KEYS, "[ward]")
        if "name" not in table:
            self.fail("[ward] name", "missing; give the ward's name")
        name = self.text(table["name"], "[ward] name", max_length=WARD_NAME_MAX)
        timezone = None
        if "timezone" in table:
            timezone = self.timezone(table["timezone"], "[ward] timezone")
        deadline = 5
        if "report_deadline_day" in table:
            deadline = self.whole(table["report_deadline_day"], "[ward] report_deadline_day", 1, 28)
        reminders: tuple[int, ...] = (3, 1, 0)
        if "reminder_days_before" in table:
            reminders = self.reminders(table["reminder_days_before"], "[ward] reminder_days_before")
        bands = Bands()
        if "bands" in table:
            bands = self.bands(table["bands"], "[ward] bands")
        timeout = 60
        if "conversation_timeout_minutes" in table:
            entry = "[ward] conversation_timeout_minutes"
            timeout = self.whole(table["conversation_timeout_minutes"], entry, 1, 1440)
        invite_days = 7
        if "invite_days" in table:
            invite_days = self.whole(table["invite_days"], "[ward] invite_days", 1, 90)
        return WardSettings(
            name=name,
            timezone=timezone,
            report_deadline_day=deadline,
            reminder_days_before=reminders,
            bands=bands,
            conversation_timeout_minutes=timeout,
            invite_days=invite_days,
        )

    def timezone(self, value: object, entry: str) -> str:
        name = self.text(value, entry)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.fail(entry, f'unknown time zone {_quote(name)}; use an IANA name such as "Asia/Ho_Chi_Minh"')
        return name

    def reminders(self, value: object, entry: str) -> tuple[int, ...]:
        if not isinstance(value, list):
            self.fail(entry, "must be a list of whole numbers from 0 to 27, e.g. [3, 1, 0]")
        days = [self.whole(item, entry, 0, 27) for item in value]
        if len(set(days)) != len(days):
            self.fail(entry, "must not repeat a day")
        return tuple(sorted(days, reverse=True))

    def bands(self, value: object, entry: str) -> Bands:
        table = self.table(value, entry)
        self.known_keys(table, _BAND_KEYS, entry)
        defaults = Bands()
        values = {key: float(getattr(defaults, key)) for key in _BAND_KEYS}
        for key in _BAND_KEYS:
            if key in table:
                score = self.number(table[key], entry, key)
                if not 0 <= score <= 100:
                    self.fail(entry, f"{key} must be a number from 0 to 100")
                values[key] = score
        if not values["xuat_sac"] > values["tien_tien"] > values["hoan_thanh"]:
            self.fail(entry, "must be strictly decreasing: xuat_sac > tien_tien > hoan_thanh")
        return Bands(**values)

    # --- groups -----------------------------------------------------------------------

    def entries(self, value: object, name: str) -> list[Mapping[str, object]]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(name, f"must be a list of [[{name}]] tables")
        return value

    def groups(self, value: object) -> tuple[GroupEntry, ...]:
        if value is None:
            return ()
        seen: set[str] = set()
        groups: list[GroupEntry] = []
        for index, table in enumerate(self.entries(value, "groups"), start=1):
            group = self.group(table, index)
            if group.code in seen:
                self.fail(f"groups[{index}] (code {_quote(group.code)})", "duplicate group code")
            seen.add(group.code)
            groups.append(group)
        return tuple(groups)

    def group(self, table: Mapping[str, object], index: int) -> GroupEntry:
        entry = f"groups[{index}]"
        raw_code = table.get("code")
        if isinstance(raw_code, str) and raw_code.strip():
            entry = f"groups[{index}] (code {_quote(raw_code.strip())})"
        self.known_keys(table, _GROUP_KEYS, entry)
        if "code" not in table:
            self.fail(entry, "code is missing")
        if not isinstance(raw_code, str) or not GROUP_CODE_PATTERN.match(raw_code.strip()):
            self.fail(entry, "code must be 1 to 20 letters, digits, '_' or '-', e.g. \"TDP01\"")
        code = raw_code.strip().upper()
        if "name" not in table:
            self.fail(entry, "name is missing")
        name = self.text(table["name"], entry, "name", max_length=GROUP_NAME_MAX)
        if "households" not in table:
            self.fail(entry, "households is missing")
        households = self.whole(table["households"], entry, 1, 100_000, "households")
        block = None
        if "block" in table:
            block = self.text(table["block"], entry, "block", max_length=GROUP_NAME_MAX)
        return GroupEntry(code=code, name=name, households=households, block=block)

    # --- indicators ---------------------------------------------------------------------

    def indicators(self, value: object) -> tuple[Indicator, ...]:
        tables = self.entries(value, "indicators")
        if not tables:
            self.fail("indicators", "needs at least one entry; leave [[indicators]] out to use the defaults")
        seen: set[str] = set()
        indicators: list[Indicator] = []
        for index, table in enumerate(tables, start=1):
            indicator = self.indicator(table, index)
            if indicator.key in seen:
                self.fail(f"indicators[{index}] (key {_quote(indicator.key)})", "duplicate key")
            seen.add(indicator.key)
            indicators.append(indicator)
        return tuple(indicators)

    def indicator(self, table: Mapping[str, object], index: int) -> Indicator:
        entry = f"indicators[{index}]"
        raw_key = table.get("key")
        if isinstance(raw_key, str) and raw_key:
            entry = f"indicators[{index}] (key {_quote(raw_key)})"
        self.known_keys(table, _INDICATOR_KEYS, entry)
        if "key" not in table:
            self.fail(entry, "key is missing")
        if not isinstance(raw_key, str) or not INDICATOR_KEY_PATTERN.match(raw_key):
            self.fail(
                entry,
                "key must start with a lower-case letter and have at most 40 lower-case letters, "
                "digits or '_', e.g. \"waste_sorting_pct\"",
            )
        key = raw_key

        if "label" not in table:
            self.fail(entry, "label is missing")
        label = self.texts(table["label"], entry, "label", required=True)
        help_texts = self.texts(table.get("help", ""), entry, "help", required=False)
        unit = table.get("unit", "")
        if not isinstance(unit, str):
            self.fail(entry, "unit must be text")

        if "kind" not in table:
            self.fail(entry, f"kind is missing; one of: {', '.join(Kind)}")
        raw_kind = table["kind"]
        if not isinstance(raw_kind, str) or raw_kind not in tuple(Kind):
            self.fail(entry, f"kind {self.show(raw_kind)} is unknown; one of: {', '.join(Kind)}")
        kind = Kind(raw_kind)

        choices = self.choices(table.get("choices", []), entry, kind)
        bounds = {
            name: self.optional_number(table, name, entry) for name in ("min", "max", "soft_min", "soft_max")
        }
        if kind not in _RANGED_KINDS:
            for name, bound in bounds.items():
                if bound is not None:
                    self.fail(entry, f'{name} does not apply to kind "{kind}"')
        low, high = bounds["min"], bounds["max"]
        if kind is Kind.PERCENT:
            low = 0.0 if low is None else low
            high = 100.0 if high is None else high
        if low is not None and high is not None and low > high:
            self.fail(entry, "min is greater than max")
        soft_low, soft_high = bounds["soft_min"], bounds["soft_max"]
        for name, soft in (("soft_min", soft_low), ("soft_max", soft_high)):
            if soft is None:
                continue
            if (low is not None and soft < low) or (high is not None and soft > high):
                self.fail(
                    entry, f"{name} {_format_number(soft)} is outside the range {self.range_text(low, high)}"
                )
        if soft_low is not None and soft_high is not None and soft_low > soft_high:
            self.fail(entry, "soft_min is greater than soft_max")

        required = self.boolean(table.get("required", True), entry, "required")
        direction = self.direction(table.get("direction", Direction.NEUTRAL.value), entry)
        weight = DEFAULT_SCORED_WEIGHT if direction is not Direction.NEUTRAL else 0.0
        if "weight" in table:
            weight = self.number(table["weight"], entry, "weight")
            if weight < 0:
                self.fail(entry, "weight must not be negative")
        target = self.optional_number(table, "target", entry)
        if target is not None and (
            (low is not None and target < low) or (high is not None and target > high)
        ):
            self.fail(
                entry, f"target {_format_number(target)} is outside the range {self.range_text(low, high)}"
            )
        max_is_households = False
        if "max_is_households" in table:
            max_is_households = self.boolean(table["max_is_households"], entry, "max_is_households")
            if max_is_households and kind not in _RANGED_KINDS:
                self.fail(entry, f'max_is_households does not apply to kind "{kind}"')

        return Indicator(
            key=key,
            label=label,
            help=help_texts,
            unit=unit.strip(),
            kind=kind,
            min=low,
            max=high,
            soft_min=soft_low,
            soft_max=soft_high,
            required=required,
            direction=direction,
            weight=weight,
            choices=choices,
            target=target,
            max_is_households=max_is_households,
        )

    @staticmethod
    def show(value: object) -> str:
        return _quote(value) if isinstance(value, str) else repr(value)

    @staticmethod
    def range_text(low: float | None, high: float | None) -> str:
        left = "-∞" if low is None else _format_number(low)
        right = "∞" if high is None else _format_number(high)
        return f"{left} to {right}"

    def texts(self, value: object, entry: str, key: str, *, required: bool) -> dict[str, str]:
        if isinstance(value, str):
            text = value.strip()
            if required and not text:
                self.fail(entry, f"{key} must not be empty")
            return {"vi": text, "en": text}
        if not isinstance(value, dict):
            self.fail(entry, f'{key} must be text or a table like {{ vi = "...", en = "..." }}')
        self.known_keys(value, _TEXT_KEYS, f"{entry} {key}")
        vi = value.get("vi", "")
        en = value.get("en", "")
        if not isinstance(vi, str) or not isinstance(en, str):
            self.fail(entry, f"{key} vi and en must be text")
        vi, en = vi.strip(), en.strip()
        if not vi and (required or en):
            self.fail(entry, f"{key} needs a non-empty vi text")
        return {"vi": vi, "en": en or vi}

    def choices(self, value: object, entry: str, kind: Kind) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(entry, "choices must be a list of texts")
        items = tuple(item.strip() for item in value)
        if kind is Kind.CHOICE:
            if not items:
                self.fail(entry, 'choices must list at least one option for kind "choice"')
            if not all(items):
                self.fail(entry, "choices must not contain empty texts")
            if len(set(items)) != len(items):
                self.fail(entry, "choices must not repeat an option")
        elif items:
            self.fail(entry, f'choices only apply to kind "choice", not "{kind}"')
        return items

    def direction(self, value: object, entry: str) -> Direction:
        if not isinstance(value, str) or value not in tuple(Direction):
            self.fail(entry, f"direction {self.show(value)} is unknown; one of: {', '.join(Direction)}")
        return Direction(value)
