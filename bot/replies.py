"""What a flow says, independent of the chat platform: text, choices and attachments.

Telegram renders choices as inline buttons; a platform without buttons renders them as
numbered options. Flows build `Reply` values; only the channels know how to send them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


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
    """Cut a long text into messages of at most `limit` characters, at line ends where possible."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            parts.append(line[:cut])
            line = line[cut:].lstrip(" ")
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [part.rstrip("\n") for part in parts if part.strip()]


@dataclass
class Outgoing:
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
