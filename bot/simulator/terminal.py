"""A chat in the terminal: be staff, a head or a resident, type to the real bot, press buttons by number."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.simulator.fake_bot_api import FakeBotApi, FakeUser, SentMessage

SIMULATOR_HELP = """\
  text…          gửi tin nhắn riêng cho bot / send a private message to the bot
  :group text…   gửi vào nhóm chat của tổ / send in your group's chat
  :N             bấm nút số N của tin nhắn mới nhất có nút / press button N
  :photo         gửi một ảnh (trả lời câu hỏi ảnh) / send a photo (answers a photo question)
  :sticker       gửi một sticker / send a sticker
  :who           đổi vai / switch persona
  :help          trợ giúp này / this help
  :quit          thoát / quit"""

DOWNLOADS = Path("data") / "demo-files"
QUIT_WORDS = frozenset({":quit", ":q", ":exit"})


class LineReader:
    """Lines of stdin read by a daemon thread: a read waiting for Enter never keeps the process from
    ending, so Ctrl-C leaves at once (a read in asyncio's executor would hold the exit until Enter)."""

    def __init__(self, stdin: TextIO) -> None:
        self.stdin = stdin
        self.lines: asyncio.Queue[str | None] | None = None

    async def readline(self) -> str | None:
        """The next line with its newline, or None at the end of input."""
        if self.lines is None:
            self.lines = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._read, args=(loop, self.lines), daemon=True).start()
        return await self.lines.get()

    def _read(self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
        while True:
            line = self.stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line or None)
            except RuntimeError:  # the loop is closed: the demo is over
                return
            if not line:
                return


@dataclass(frozen=True, slots=True)
class Persona:
    """Someone the person at the terminal can be."""

    key: str
    title: str
    user: FakeUser
    group_chat_id: int | None = None
    group_chat_title: str | None = None


class TerminalChat:
    """State of one terminal session: who you are, what you have seen."""

    def __init__(
        self,
        fake: FakeBotApi,
        personas: list[Persona],
        stdin: TextIO,
        stdout: TextIO,
        idle: Callable[[], bool] = lambda: True,
    ) -> None:
        self.fake, self.personas, self.stdin, self.stdout = fake, personas, stdin, stdout
        self.idle = idle  # the bot has nothing queued or in hand (a slow command draws after the commit)
        self.current = personas[0]
        self.seen = {p.key: fake.mark() for p in personas}
        self.last_chat = self.current.user.id
        self.reader = LineReader(stdin)

    async def run(self, banner: str) -> None:
        """Read lines until :quit (at any prompt) or end of input."""
        self.say(banner)
        if not await self.choose_persona():
            return
        while True:
            line = await self.read(f"{self.current.key}> ")
            if line is None:
                return
            line = line.strip()
            if not line:
                await self.show_new()
                continue
            if line in QUIT_WORDS:
                return
            if line == ":who":
                if not await self.choose_persona():
                    return
                continue
            await self.handle(line)

    async def handle(self, line: str) -> None:
        """One line typed at the prompt."""
        persona = self.current
        if line == ":help":
            self.say(SIMULATOR_HELP)
        elif line.startswith(":group"):
            if persona.group_chat_id is None:
                self.say("  (vai này không ở nhóm chat nào / this persona is in no group chat)")
                return
            self.last_chat = persona.group_chat_id
            self.fake.push_message(
                persona.user,
                line.removeprefix(":group").strip(),
                chat_id=persona.group_chat_id,
                chat_type="supergroup",
                chat_title=persona.group_chat_title,
            )
            await self.show_new()
        elif line in (":sticker", ":photo"):
            self.last_chat = persona.user.id
            self.fake.push_message(persona.user, None, kind=line[1:])
            await self.show_new()
        elif line[0] == ":" and line[1:].isdigit():
            await self.press(int(line[1:]))
        elif line.startswith(":"):
            self.say("  ? :help")
        else:
            self.last_chat = persona.user.id
            self.fake.push_message(persona.user, line)
            await self.show_new()

    async def press(self, number: int) -> None:
        """Press a button of the newest message with buttons in the chat last used."""
        target = next(
            (m for m in reversed(self.fake.messages_to(self.last_chat)) if m.buttons),
            None,
        )
        if target is None:
            self.say("  (không có nút nào để bấm / no buttons to press)")
            return
        try:
            button = target.button(number)
            self.fake.press(self.current.user, target, number)
        except LookupError:
            self.say(f"  (không có nút số {number} / there is no button {number})")
            return
        self.say(f"  👆 {button.text}")
        await self.show_new()

    async def choose_persona(self) -> bool:
        """Ask who the user wants to be; False when they leave instead (:quit or end of input)."""
        for number, persona in enumerate(self.personas, start=1):
            self.say(f"  {number}. {persona.title}")
        while True:
            answer = await self.read(f"Anh/chị là ai? / Who are you? [1-{len(self.personas)}, :quit] ")
            if answer is None:
                return False
            answer = answer.strip()
            if answer in QUIT_WORDS:
                return False
            if answer.isdigit() and 1 <= int(answer) <= len(self.personas):
                self.current = self.personas[int(answer) - 1]
                self.last_chat = self.current.user.id
                self.say(f"→ {self.current.title}")
                self.show_unseen()
                return True

    async def show_new(self) -> None:
        """Wait until the bot has answered, then print what reached this persona."""
        deadline = asyncio.get_running_loop().time() + 30
        try:
            while True:
                await self.fake.wait_idle(timeout=max(deadline - asyncio.get_running_loop().time(), 0.1))
                if self.fake.acknowledged and self.idle() and not self.fake.busy:
                    break
                await asyncio.sleep(0.02)
        except TimeoutError:
            self.say("  (bot chưa trả lời / the bot has not answered yet)")
        self.show_unseen()

    def show_unseen(self) -> None:
        persona = self.current
        chats = {persona.user.id, persona.group_chat_id}
        start = self.seen[persona.key]
        self.seen[persona.key] = self.fake.mark()
        for message in self.fake.sent[start:]:
            if message.chat_id in chats:
                self.say(self.render(message, in_group=message.chat_id != persona.user.id))

    def render(self, message: SentMessage, *, in_group: bool) -> str:
        """A bot message as terminal text, with numbered buttons and saved attachments."""
        where = f"[{self.current.group_chat_title}] " if in_group else ""
        mark = "🤖✏️" if message.edited_message_id is not None else "🤖"
        lines = [
            f"{mark} {where}{line}" if i == 0 else f"   {line}"
            for i, line in enumerate((message.text or "").splitlines() or [""])
        ]
        payload = message.photo if message.photo is not None else message.document
        if payload is not None:
            DOWNLOADS.mkdir(parents=True, exist_ok=True)
            name = message.filename or ("chart.png" if message.photo is not None else "file.bin")
            path = DOWNLOADS / f"{message.chat_id}-{message.message_id}-{name}"
            path.write_bytes(payload)
            icon = "🖼" if message.photo is not None else "📎"
            lines.append(f"   {icon} {path} ({len(payload) // 1024 + 1} KB)")
        for number, button in enumerate(message.flat_buttons, start=1):
            lines.append(f"   [{number}] {button.text}" + (f" → {button.url}" if button.url else ""))
        return "\n".join(lines)

    async def read(self, prompt: str) -> str | None:
        """A line from stdin without blocking the bot, which shares this event loop."""
        self.stdout.write(prompt)
        self.stdout.flush()
        return await self.reader.readline()

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()


async def run_terminal(
    fake: FakeBotApi,
    personas: list[Persona],
    *,
    stdin: TextIO,
    stdout: TextIO,
    banner: str,
    idle: Callable[[], bool] = lambda: True,
) -> None:
    """Chat with the bot from the terminal until :quit or end of input; `idle` says the bot has
    handled everything sent so far, so each answer is shown after the line that asked for it."""
    await TerminalChat(fake, personas, stdin, stdout, idle).run(banner)
