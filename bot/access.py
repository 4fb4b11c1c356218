"""Who may do what: the one policy for every command and button (role × command × chat type).

Handlers never check roles themselves; the channel asks `authorize` before calling them, and a
refusal says which role is needed and how to get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import gettext as _
from bot.i18n import mark


class Role(StrEnum):
    """A role a person holds; one person may hold several."""

    ANYONE = "anyone"
    RESIDENT = "resident"
    DEPUTY = "deputy"
    HEAD = "head"
    STAFF = "staff"
    PROVINCE = "province"  # province staff: read every ward of the deployment


class ChatKind(StrEnum):
    """Where a command is typed."""

    PRIVATE = "private"
    GROUP = "group"
    WEB = "web"  # the ward's web page, signed in from a private chat with /web


ANYWHERE = frozenset({ChatKind.PRIVATE, ChatKind.GROUP})
PRIVATE = frozenset({ChatKind.PRIVATE})
GROUP = frozenset({ChatKind.GROUP})
WEB = frozenset({ChatKind.WEB})


@dataclass(frozen=True)
class Caller:
    """The person behind an update, as plain values."""

    person_id: int
    name: str
    language: str
    roles: frozenset[Role]
    head_of: tuple[int, ...] = ()
    deputy_of: tuple[int, ...] = ()
    follows: tuple[int, ...] = ()
    chat_group_id: int | None = None  # the residential group whose chat this update came from
    ward_id: int | None = (
        None  # the ward this person acts in: as staff, head, deputy, follower or in its chat
    )

    @property
    def reports_for(self) -> tuple[int, ...]:
        """Groups this person may report for (as head or deputy)."""
        return self.head_of + tuple(g for g in self.deputy_of if g not in self.head_of)

    def has(self, role: Role) -> bool:
        """True when the person holds `role` (everyone holds ANYONE)."""
        return role is Role.ANYONE or role in self.roles


@dataclass(frozen=True)
class Rule:
    """Who may run one command, where, and how /help describes it."""

    roles: frozenset[Role]
    chats: frozenset[ChatKind]
    description: str
    listed: bool = True


def _rule(roles: set[Role], chats: frozenset[ChatKind], description: str, *, listed: bool = True) -> Rule:
    return Rule(frozenset(roles), chats, description, listed)


EVERYONE = {Role.ANYONE}
REPORTERS = {Role.HEAD, Role.DEPUTY}
STAFF_ONLY = {Role.STAFF}
LEADERS = {Role.HEAD, Role.DEPUTY, Role.STAFF}

POLICY: dict[str, Rule] = {
    "start": _rule(EVERYONE, ANYWHERE, mark("Welcome and how to begin")),
    "help": _rule(EVERYONE, ANYWHERE, mark("What you can do here")),
    "language": _rule(EVERYONE, ANYWHERE, mark("Choose your language")),
    "cancel": _rule(EVERYONE, ANYWHERE, mark("Stop what is in progress")),
    "follow": _rule(EVERYONE, PRIVATE, mark("Follow a group's announcements")),
    "unfollow": _rule(EVERYONE, PRIVATE, mark("Stop following a group")),
    "link": _rule(LEADERS, GROUP, mark("Make this chat your group's chat")),
    "unlink": _rule(LEADERS, GROUP, mark("Stop using this chat as the group's chat")),
    "addgroup": _rule(STAFF_ONLY, PRIVATE, mark("Add a group: /addgroup NAME; HOUSEHOLDS")),
    "households": _rule(STAFF_ONLY, PRIVATE, mark("Set a group's households: /households TDP01 312")),
    "invite": _rule(STAFF_ONLY, PRIVATE, mark("Invite link for a group's head or deputy")),
    "groups": _rule(STAFF_ONLY, PRIVATE, mark("Groups, their heads and chats")),
    "removehead": _rule(STAFF_ONLY, PRIVATE, mark("Remove a group's head or deputy")),
    "addstaff": _rule(STAFF_ONLY, PRIVATE, mark("Invite link for a colleague to become ward staff")),
    "staff": _rule(STAFF_ONLY, PRIVATE, mark("The ward's staff, added when and by whom")),
    "removestaff": _rule(STAFF_ONLY, PRIVATE, mark("Remove a colleague from ward staff")),
    "standings": _rule(EVERYONE, ANYWHERE, mark("Standings of the groups, with a chart")),
    "status": _rule(EVERYONE, ANYWHERE, mark("Who has reported, and on time")),
    "bonus": _rule(STAFF_ONLY, PRIVATE, mark("Bonus or penalty points: /bonus TDP01 [MONTH] +5 REASON")),
    "export": _rule(STAFF_ONLY | {Role.PROVINCE}, PRIVATE, mark("Excel workbook of a period's figures")),
    "photos": _rule(STAFF_ONLY, PRIVATE, mark("Photos sent with a period's reports, as a zip")),
    "report": _rule(REPORTERS, PRIVATE, mark("Send your group's monthly report")),
    "myreport": _rule(REPORTERS, PRIVATE, mark("Your group's report for a month")),
    "reopen": _rule(STAFF_ONLY, PRIVATE, mark("Reopen a locked month for one group")),
    "campaign": _rule(STAFF_ONLY, PRIVATE, mark("Launch an emulation campaign")),
    "campaigns": _rule(STAFF_ONLY, PRIVATE, mark("Campaigns, pledges and delivery")),
    "review": _rule(STAFF_ONLY, PRIVATE, mark("Mid-term or final review of a campaign")),
    "award": _rule(STAFF_ONLY, PRIVATE, mark("Announce an award to a group")),
    "assessment": _rule(STAFF_ONLY, PRIVATE, mark("Year-end assessment: open, progress, post, decide")),
    "assess": _rule(REPORTERS, PRIVATE, mark("Your group's year-end assessment form")),
    "feedback": _rule(EVERYONE, PRIVATE, mark("Comment on the posted year-end results")),
    "awards": _rule(EVERYONE, ANYWHERE, mark("The award register of a year")),
    "titles": _rule(EVERYONE, ANYWHERE, mark("Years each group held the group title")),
    "wards": _rule({Role.PROVINCE}, PRIVATE, mark("Every ward: who has reported, and on time")),
    "wardtitles": _rule({Role.PROVINCE}, PRIVATE, mark("Every ward's year-end titles, and the province's")),
    "web": _rule(LEADERS, PRIVATE, mark("A sign-in link to the ward's web page")),
    # The web page: every page and form is one of these actions (a head sees only their own group).
    "web.month": _rule(STAFF_ONLY, WEB, "", listed=False),
    "web.remind": _rule(STAFF_ONLY, WEB, "", listed=False),
    "web.reopen": _rule(STAFF_ONLY, WEB, "", listed=False),
    "web.standings": _rule(STAFF_ONLY, WEB, "", listed=False),
    "web.campaigns": _rule(STAFF_ONLY, WEB, "", listed=False),
    "web.downloads": _rule(STAFF_ONLY, WEB, "", listed=False),
    "web.yearend": _rule(STAFF_ONLY, WEB, "", listed=False),
    "web.group": _rule(LEADERS, WEB, "", listed=False),
    "web.signout": _rule(EVERYONE, WEB, "", listed=False),
    "privacy": _rule(EVERYONE, ANYWHERE, mark("What the bot keeps about you, why, and for how long")),
    "forgetme": _rule(EVERYONE, PRIVATE, mark("Erase what the bot keeps about you")),
    "pledge": _rule(REPORTERS, PRIVATE, "", listed=False),
    "chat_member": _rule(EVERYONE, ANYWHERE, "", listed=False),
    "fallback": _rule(EVERYONE, ANYWHERE, "", listed=False),
}


def _role_needed(roles: frozenset[Role]) -> str:
    if roles == {Role.PROVINCE}:
        return _("This is for province staff (wardbot admin add YOUR-ID --province).")
    if Role.STAFF in roles and roles <= {Role.STAFF, Role.PROVINCE}:
        return _(
            "This is for ward staff. If you work at the ward office, ask a colleague for a staff "
            "invite link (/addstaff)."
        )
    if roles <= {Role.HEAD, Role.DEPUTY, Role.STAFF}:
        return _("This is for group heads and deputies. Ask ward staff for an invite link for your group.")
    return _(
        "This is for residents who follow a group. Send /follow GROUP-CODE in a private chat "
        "with me, or use the command in your group's chat."
    )


def authorize(command: str, caller: Caller, chat: ChatKind) -> str | None:
    """None when `caller` may run `command` in this kind of chat, otherwise the refusal to send."""
    rule = POLICY.get(command)
    if rule is None:
        return _("I do not know that command. Send /help to see what you can do.")
    if chat not in rule.chats:
        if ChatKind.WEB in rule.chats:
            return _(
                "This is on the ward's web page: send /web in a private chat with me for a sign-in link."
            )
        if chat is ChatKind.GROUP:
            return _("Please use this command in a private chat with me, not in the group.")
        return _("Please use this command in your group's chat, where I have been added.")
    if any(caller.has(role) for role in rule.roles):
        return None
    if Role.RESIDENT in rule.roles and chat is ChatKind.GROUP and caller.chat_group_id is not None:
        return None
    return _role_needed(rule.roles)


def may_see_group(caller: Caller, group_id: int, group_ward_id: int) -> bool:
    """Whether the web page may show this group to the caller: staff see their ward's groups, heads and
    deputies only the group they report for."""
    if caller.ward_id != group_ward_id:
        return False
    return caller.has(Role.STAFF) or group_id in caller.reports_for


def allowed_commands(caller: Caller, chat: ChatKind) -> list[tuple[str, str]]:
    """(command, translated description) for every listed command this caller may run here."""
    return [
        (name, _(rule.description))
        for name, rule in POLICY.items()
        if rule.listed and authorize(name, caller, chat) is None
    ]
