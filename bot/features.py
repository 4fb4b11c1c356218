"""The feature registry: every command, button prefix and event the bot answers, with its policy entry.

Feature modules declare themselves with plain decorators (as aiogram's routers or errbot's plugins
do) and import no chat platform; each channel reads the same registry, so a command added here
works on Telegram, Zalo and any later channel alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.access import Caller, ChatKind, allowed_commands
from bot.i18n import current_language
from bot.turns import Inbound, TurnHandler


@dataclass(frozen=True)
class Route:
    """What handles one kind of update, guarded by the policy entry `policy` (bot/access.py)."""

    policy: str
    handler: TurnHandler
    slow: bool = False  # it draws or builds a file: show "typing…" while it works


@dataclass
class Registry:
    """Commands by name (aliases included), button data by prefix, events, and the fallback."""

    commands: dict[str, Route] = field(default_factory=dict)
    buttons: dict[str, Route] = field(default_factory=dict)
    events: dict[str, Route] = field(default_factory=dict)
    fallback_route: Route | None = None
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # policy entry → its command words

    def command(
        self, name: str, *aliases: str, policy: str | None = None, slow: bool = False
    ) -> Callable[[TurnHandler], TurnHandler]:
        """Answer `/name` (and `/alias`…), guarded by `policy` (default: the name); `slow` ones (a chart,
        a file) show "typing…" while they work."""

        def register(handler: TurnHandler) -> TurnHandler:
            route = Route(policy or name, handler, slow)
            for word in (name, *aliases):
                if word in self.commands:
                    raise ValueError(f"command /{word} is registered twice")
                self.commands[word] = route
            self.names.setdefault(route.policy, ())
            self.names[route.policy] += (name, *aliases)
            return handler

        return register

    def button(self, prefix: str, *, policy: str) -> Callable[[TurnHandler], TurnHandler]:
        """Answer pressed choices whose data starts with `prefix`."""

        def register(handler: TurnHandler) -> TurnHandler:
            if prefix in self.buttons:
                raise ValueError(f"button prefix {prefix!r} is registered twice")
            self.buttons[prefix] = Route(policy, handler)
            return handler

        return register

    def event(self, name: str, *, policy: str) -> Callable[[TurnHandler], TurnHandler]:
        """Answer a non-message event (`bot.turns.MEMBER_CHANGE`, `EDITED`, `CHAT_MIGRATED`)."""

        def register(handler: TurnHandler) -> TurnHandler:
            self.events[name] = Route(policy, handler)
            return handler

        return register

    def fallback(self, handler: TurnHandler) -> TurnHandler:
        """Whatever nothing else takes: stray text, unknown commands, open flows' answers."""
        self.fallback_route = Route("fallback", handler)
        return handler

    def route(self, inbound: Inbound) -> Route | None:
        """The route of an update; None when nobody handles it (the update is then ignored)."""
        if inbound.event:
            return self.events.get(inbound.event)
        if inbound.data:
            return self.for_data(inbound.data)
        command = inbound.command
        if command is not None and command in self.commands:
            return self.commands[command]
        return self.fallback_route

    def words(self, policy: str) -> tuple[str, ...]:
        """The command words of a policy entry: the English name first, then its Vietnamese aliases."""
        return self.names.get(policy) or (policy,)

    def shown_name(self, policy: str, language: str) -> str:
        """The word a menu shows: the first alias (/baocao) to Vietnamese readers, the name to others."""
        words = self.words(policy)
        return words[1] if language == "vi" and len(words) > 1 else words[0]

    def menu(self, caller: Caller, chat: ChatKind) -> list[tuple[str, str]]:
        """(command word, description) of every command this caller may run here, in the current language."""
        language = current_language()
        return [(self.shown_name(name, language), text) for name, text in allowed_commands(caller, chat)]

    def for_data(self, data: str) -> Route | None:
        """The route of a pressed choice's data (the longest matching prefix)."""
        matching = [prefix for prefix in self.buttons if data.startswith(prefix)]
        return self.buttons[max(matching, key=len)] if matching else None


registry = Registry()
command = registry.command
button = registry.button
event = registry.event
fallback = registry.fallback
