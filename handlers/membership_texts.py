"""Words shared by the membership commands: the roles people type and why a request was refused."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Concatenate, ParamSpec

from bot.answers import keyword
from bot.i18n import gettext as _
from bot.i18n import ward_words
from bot.membership import DEPUTY, HEAD, MembershipError
from bot.turns import Turn

P = ParamSpec("P")


def explain(error: MembershipError) -> str:
    """A refusal that says what to do instead."""
    code = error.details.get("code", "")
    reasons = {
        "no_group": _("There is no group {code}. Send /groups to see the group codes."),
        "name_missing": _("Please give the group a name, for example: /addgroup Tổ dân phố số 7; 120"),
        "households_range": _("The number of households must be between 0 and 100000."),
        "bad_code": _("{code} is not a valid group code. Use letters, digits, - or _, for example TDP07."),
        "code_taken": _("There is already a group {code}. Send /groups to see the group codes."),
        "bad_role": _("Say head or deputy, for example: /invite TDP01 deputy"),
        "no_holder": _("Group {code} has no one in that role. Send /groups to see who leads each group."),
        "chat_linked_elsewhere": _(
            "This chat is already the chat of group {code}. Send /unlink here first if that is wrong."
        ),
        "chat_not_linked": _("This chat is not linked to any group. A group head can link it with /link."),
        "not_following": _("You do not follow any group. Send /follow GROUP-CODE to follow one."),
        "not_staff": _("That person is not ward staff here any more. Send /staff to see who is."),
        "last_staff": _(
            "A ward always keeps at least one staff member, so nothing was changed. "
            "Invite a colleague with /addstaff first."
        ),
    }
    fallback = _("That did not work. Send /help to see what you can do.")
    return reasons.get(error.reason, fallback).format(code=code)


def explained(
    handler: Callable[Concatenate[Turn, P], Awaitable[None]],
) -> Callable[Concatenate[Turn, P], Awaitable[None]]:
    """`handler`, with a membership rule it runs into (`MembershipError`: no such group, no one in that
    role…) answered by `explain` instead of a try/except around each request."""

    @functools.wraps(handler)
    async def run(turn: Turn, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await handler(turn, *args, **kwargs)
        except MembershipError as error:
            turn.reply(explain(error))

    return run


_HEAD_WORDS = frozenset({"", "head", "truong", "to truong", "totruong", "truong to"})
_DEPUTY_WORDS = frozenset({"deputy", "pho", "to pho", "topho", "pho to", "pho truong"})


def role_of(words: str | Sequence[str]) -> str:
    """The role named by the optional words after a group code (head when absent), in English or in
    Vietnamese with or without diacritics ("tổ phó", "to pho", the ward's own "phó trưởng thôn")."""
    said = keyword(words if isinstance(words, str) else " ".join(words))
    own = ward_words().values("vi")
    if said in _HEAD_WORDS or said == keyword(own["head_title"]):
        return HEAD
    if said in _DEPUTY_WORDS or said == keyword(own["deputy_title"]):
        return DEPUTY
    raise MembershipError("bad_role")
