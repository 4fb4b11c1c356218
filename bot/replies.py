"""What a flow says, independent of the chat platform: text, choices and attachments.

Telegram renders choices as inline buttons; a platform without buttons renders them as
numbered options. Flows build `Reply` values; only the channels know how to send them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

BUTTON_LABEL_LIMIT = 60  # characters a button shows in full on a phone


def shorten(text: str, limit: int = BUTTON_LABEL_LIMIT) -> str:
    """`text` within `limit` characters, cut at a word boundary and ended with "…": never inside a word
    ("Đền ơn đáp ng") or a number ("1.500" for 1.500.000 đồng) — unless one word fills most of it."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"))
        cut = cut[:space] if space > limit // 3 else cut
    return cut.rstrip(" \n,;:·-–(") + "…"


@dataclass(frozen=True)
class Choice:
    """One button: what it shows and the callback data it routes by."""

    label: str
    data: str
    word: str = ""  # where there are no buttons, typing this word does the same (e.g. "back")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply: a chart photo or an exported document."""

    content: bytes
    filename: str
    is_photo: bool = False


@dataclass(frozen=True)
class Reply:
    """One message to send back."""

    text: str
    choices: tuple[tuple[Choice, ...], ...] = ()
    attachment: Attachment | None = None
    edit: bool = False  # replace the message whose button was pressed, where the platform can
    chat: str | None = None  # another chat of the same platform; None answers where the update came from
    render: Callable[[], Attachment] | None = None  # an attachment drawn after the commit (charts)


def rows(*choices: Choice, per_row: int = 1) -> tuple[tuple[Choice, ...], ...]:
    """Lay out choices in rows of `per_row` buttons."""
    return tuple(tuple(choices[i : i + per_row]) for i in range(0, len(choices), per_row))


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into messages of at most `limit` characters, at line breaks where possible.

    A line longer than `limit` is cut at its last space that fits, else hard — never between a
    letter and its combining accent. Blank parts are dropped, so an empty text gives no message.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text] if text.strip() else []
    parts: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            if current is None:
                current = piece
            elif len(current) + 1 + len(piece) <= limit:
                current = f"{current}\n{piece}"
            else:
                parts.append(current)
                current = piece
    if current is not None:
        parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        if cut > 0:
            pieces.append(line[:cut])
            line = line[cut + 1 :]
            continue
        cut = limit
        while cut > 1 and unicodedata.combining(line[cut]):
            cut -= 1
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


@dataclass
class Replies:
    """Replies collected while an update is handled, sent after its transaction commits."""

    replies: list[Reply] = field(default_factory=list)

    def add(
        self,
        text: str,
        choices: Sequence[Sequence[Choice]] = (),
        *,
        attachment: Attachment | None = None,
        edit: bool = False,
        chat: str | None = None,
        render: Callable[[], Attachment] | None = None,
    ) -> None:
        """Queue one reply."""
        self.replies.append(Reply(text, tuple(tuple(row) for row in choices), attachment, edit, chat, render))
