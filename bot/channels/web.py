"""The ward's web page: a channel like Telegram and Zalo, served by the bot's own web server.

Server-rendered HTML (Jinja2), one small stylesheet, no script. Nothing of the ward is shown without
a session; a session comes only from a one-time link asked for with /web in a private chat
(bot/web_signin.py). Every page and form is an action of the one access policy (bot/access.py); every
form carries the session's CSRF token; every sign-in and action is written to the audit log. Each
request is one unit of work; what a form queues for the chats goes through the outbox.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.access import ChatKind, Role, authorize, may_see_group
from bot.awards import with_awards
from bot.campaigns import campaign_lines
from bot.charts import standings_chart
from bot.delivery import Outgoing, Recipient, enqueue_broadcast
from bot.export import csv_bytes, workbook_bytes
from bot.http import HttpServer
from bot.i18n import current_language, pick_language, set_language
from bot.i18n import gettext as _
from bot.membership import CODE_PATTERN, MembershipError, audit, require_group
from bot.periods import Month, PeriodKind, is_locked, parse_month, parse_period, period_not_understood
from bot.reminders import remind_missing, reopening_notes
from bot.reporting import ReportingError, reopen_month, reopened_last_day
from bot.standings import export_data
from bot.ward_config import GroupUnit, WardFile
from bot.web_pages import (
    PageError,
    StandingsCache,
    downloads,
    export_period,
    group_page,
    month_page,
    standings_page,
    year_end_page,
)
from bot.web_signin import (
    SESSION_LASTS,
    SignInError,
    SignInRefused,
    WebUser,
    same_secret,
    sign_in,
    sign_out,
    web_base_url,
    web_user,
)
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork, unit_of_work

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "web_templates"
STYLESHEET = HERE / "web_static" / "style.css"
SESSION_COOKIE = "wardbot_session"
SIGNIN_COOKIE = "wardbot_signin"  # the sign-in form's CSRF token (double submit: no session yet)
LANGUAGE_COOKIE = "wardbot_lang"
CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,100}$")
FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{10,100}$")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a sign-in link in the address bar never leaks to another site
    "Cache-Control": "no-store",
}
UNIT_NAMES = {
    GroupUnit.TO_DAN_PHO: ("Tổ dân phố", "Residential group"),
    GroupUnit.KHU_PHO: ("Khu phố", "Neighbourhood"),
    GroupUnit.THON: ("Thôn", "Village"),
    GroupUnit.AP: ("Ấp", "Hamlet"),
    GroupUnit.BAN: ("Bản", "Village"),
}
NOTICES = {"reminded", "nothing", "already", "reopened"}
_PATH: ContextVar[str] = ContextVar(
    "web_path", default="/"
)  # the page asked for: where a language link returns

# What a page answers: a response, or (for a chart or a file) how to make it once the unit of work has
# committed, so that drawing or writing never holds the database (SQLite's one writer) meanwhile.
Later = Callable[[], web.StreamResponse]
Page = Callable[[web.Request, UnitOfWork, WebUser, Mapping[str, str]], Awaitable[web.StreamResponse | Later]]


class Refused(Exception):
    """A request answered with a page saying what to do, and nothing changed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def sparkline(
    points: list[tuple[str, float | None]], width: int = 240, height: int = 48
) -> list[tuple[float, float]]:
    """Where each value of one indicator goes in its small plot (months without a value are skipped)."""
    values = [value for _key, value in points if value is not None]
    if not values:
        return []
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 8) / max(len(points) - 1, 1)
    return [
        (round(4 + index * step, 1), round(height - 4 - (value - low) / span * (height - 8), 1))
        for index, (_key, value) in enumerate(points)
        if value is not None
    ]


def redirect(target: str) -> web.Response:
    """See other: after a form (POST, redirect, GET) and after signing in."""
    return web.Response(status=303, headers={**HEADERS, "Location": target})


def back(path: str, **query: str) -> web.Response:
    """After a form: back to a page, with a notice to show."""
    return redirect(path + ("?" + urlencode(query) if query else ""))


class WebPages:
    """The routes of the web page on one port of the bot's web server."""

    def __init__(self, wiring: Wiring, wake: Callable[[], None] | None = None) -> None:
        self.wiring = wiring
        self.wake = wake
        self.cache = StandingsCache()
        self.stylesheet_bytes = STYLESHEET.read_bytes()
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals.update(_=_, sparkline=sparkline, quote=quote)

    def mount(self, http: HttpServer, port: int) -> None:
        """Add every route to the server's application on `port`."""
        get, post = "GET", "POST"
        routes: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            (get, "/static/style.css", self.stylesheet),
            (get, "/signin/{code}", self.signin_form),
            (post, "/signin", self.signin),
            (post, "/signout", self.signout),
            (get, "/language/{language}", self.language),
            (get, "/", self.page("web.group", self.month)),  # heads land on their group's page
            (post, "/remind", self.page("web.remind", self.remind, form=True)),
            (post, "/reopen", self.page("web.reopen", self.reopen, form=True)),
            (get, "/standings", self.page("web.standings", self.standings)),
            (get, "/standings/chart.png", self.page("web.standings", self.chart)),
            (get, "/groups/{code}", self.page("web.group", self.group)),
            (get, "/campaigns", self.page("web.campaigns", self.campaigns)),
            (get, "/year-end", self.page("web.yearend", self.year_end)),
            (get, "/downloads", self.page("web.downloads", self.downloads)),
            (get, "/downloads/{name}", self.page("web.downloads", self.download)),
            (get, "/download", self.page("web.downloads", self.download_any)),
        ]
        for method, path, handler in routes:
            http.route(port, method, path, handler)

    # --- plumbing ------------------------------------------------------------------------------

    @property
    def secure(self) -> bool:
        """Cookies only over HTTPS when the page is published on an https URL."""
        return web_base_url(self.wiring).startswith("https://")

    def _language(self, request: web.Request, fallback: str) -> str:
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        return pick_language(chosen, default=fallback) if chosen in ("vi", "en") else fallback

    def render(
        self, name: str, status: int = 200, *, user: WebUser | None = None, **values: Any
    ) -> web.Response:
        """A page of the templates, in the current language, with the security headers."""
        ward = self.wiring.ward_of(user.ward_id if user is not None else None)
        language = current_language()
        unit = UNIT_NAMES[ward.ward.unit][1 if language == "en" else 0]
        page = self.templates.get_template(name).render(
            user=user,
            staff=user is not None and user.caller.has(Role.STAFF),
            ward_name=ward.ward.name,
            unit=unit,
            language=language,
            request_path=_PATH.get(),
            **({"tab": ""} | values),
        )
        return web.Response(text=page, status=status, content_type="text/html", headers=HEADERS)

    def refusal(self, status: int, message: str, user: WebUser | None = None) -> web.Response:
        return self.render("message.html", status, user=user, message=message)

    def page(
        self, action: str, handler: Page, *, form: bool = False
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """One request: a session, the access policy's word on `action`, the CSRF token of a form, the
        handler in one unit of work (committed once); a refusal changes nothing."""

        async def serve(request: web.Request) -> web.StreamResponse:
            _PATH.set(request.path_qs if request.method == "GET" else "/")
            set_language(self._language(request, self.wiring.settings.default_language))
            fields: Mapping[str, str] = {}
            user: WebUser | None = None
            if form:
                fields = {key: str(value) for key, value in (await request.post()).items()}
            try:
                async with unit_of_work(self.wiring.factory) as uow:
                    user = await web_user(
                        uow,
                        request.cookies.get(SESSION_COOKIE, ""),
                        now=self.wiring.clock(),
                        default_language=self.wiring.settings.default_language,
                    )
                    if user is None:
                        raise Refused(
                            401,
                            _(
                                "Please sign in: send /web to the bot in a private chat "
                                "and open the link it gives."
                            ),
                        )
                    set_language(self._language(request, user.caller.language))
                    refusal = authorize(action, user.caller, ChatKind.WEB)
                    if refusal is not None:
                        raise Refused(403, refusal)
                    if form and not same_secret(fields.get("csrf", ""), user.csrf):
                        raise Refused(
                            403,
                            _("This form has expired. Reload the page and try again; nothing was changed."),
                        )
                    response = await handler(request, uow, user, fields)
            except Refused as refused:
                return self.refusal(refused.status, refused.message, user)
            except PageError as error:
                return self.refusal(404, str(error), user)
            if form and self.wake is not None:
                self.wake()
            return response if isinstance(response, web.StreamResponse) else response()

        return serve

    # --- signing in and out --------------------------------------------------------------------

    async def stylesheet(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=self.stylesheet_bytes,
            content_type="text/css",
            headers={**HEADERS, "Cache-Control": "max-age=3600"},
        )

    async def signin_form(self, request: web.Request) -> web.StreamResponse:
        """Opening a link only shows the button: a chat app's link preview must not spend it."""
        set_language(self._language(request, self.wiring.settings.default_language))
        code = request.match_info["code"]
        if not CODE_SHAPE.match(code):
            return self.refusal(404, self._signin_refusal(SignInRefused.UNKNOWN))
        token = request.cookies.get(SIGNIN_COOKIE, "")
        if not FORM_TOKEN.match(token):
            token = secrets.token_urlsafe(24)
        response = self.render("signin.html", code=code, csrf=token)
        response.set_cookie(
            SIGNIN_COOKIE,
            token,
            max_age=600,
            httponly=True,
            samesite="Strict",
            secure=self.secure,
            path="/signin",
        )
        return response

    def _signin_refusal(self, reason: SignInRefused) -> str:
        ask = _("Send /web to the bot again for a new link.")
        return {
            SignInRefused.USED: _("This sign-in link has already been used.") + " " + ask,
            SignInRefused.EXPIRED: _("This sign-in link has expired (links work for 10 minutes).")
            + " "
            + ask,
        }.get(reason, _("This sign-in link is not valid.") + " " + ask)

    async def signin(self, request: web.Request) -> web.StreamResponse:
        """Spend the link, start the session and land on the first page."""
        set_language(self._language(request, self.wiring.settings.default_language))
        fields = await request.post()
        code, token = str(fields.get("code", "")), str(fields.get("csrf", ""))
        expected = request.cookies.get(SIGNIN_COOKIE, "")
        if not expected or not same_secret(token, expected):
            return self.refusal(
                403, _("This form has expired. Open the sign-in link again; nothing was changed.")
            )
        if not CODE_SHAPE.match(code):
            return self.refusal(403, self._signin_refusal(SignInRefused.UNKNOWN))
        try:
            async with unit_of_work(self.wiring.factory) as uow:
                signed = await sign_in(uow, code, now=self.wiring.clock())
        except SignInError as error:
            return self.refusal(403, self._signin_refusal(error.reason))
        response = redirect("/")
        response.set_cookie(
            SESSION_COOKIE,
            signed.token,
            max_age=int(SESSION_LASTS.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=self.secure,
            path="/",
        )
        response.del_cookie(SIGNIN_COOKIE, path="/signin")
        return response

    async def signout(self, request: web.Request) -> web.StreamResponse:
        """End the session (its CSRF token required, so another site cannot sign anyone out)."""
        set_language(self._language(request, self.wiring.settings.default_language))
        fields = await request.post()
        token = request.cookies.get(SESSION_COOKIE, "")
        async with unit_of_work(self.wiring.factory) as uow:
            user = await web_user(
                uow, token, now=self.wiring.clock(), default_language=self.wiring.settings.default_language
            )
            if user is None:
                return self.refusal(401, _("You are signed out."))
            refusal = authorize("web.signout", user.caller, ChatKind.WEB)
            if refusal is not None:
                return self.refusal(403, refusal)
            if not same_secret(str(fields.get("csrf", "")), user.csrf):
                return self.refusal(
                    403, _("This form has expired. Reload the page and try again; nothing was changed.")
                )
            await sign_out(uow, token, now=self.wiring.clock())
        response = self.refusal(200, _("You are signed out. Send /web to the bot to sign in again."))
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def language(self, request: web.Request) -> web.StreamResponse:
        """Tiếng Việt or English for this browser; back to the page it was chosen on."""
        language = request.match_info["language"]
        if language not in ("vi", "en"):
            raise web.HTTPNotFound()
        back = request.query.get("next", "/")
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"
        response = redirect(back)
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="Lax", secure=self.secure
        )
        return response

    # --- pages ---------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.wiring.clock()

    def _ward(self, user: WebUser) -> WardFile:
        return self.wiring.ward_of(user.ward_id)

    async def month(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """This month: who has reported, on time or late, who not yet; unusual values; the deadline.
        A head or deputy lands on their own group's page instead."""
        if not user.caller.has(Role.STAFF) and user.caller.reports_for:
            own = await uow.groups.get(user.caller.reports_for[0])
            if own is not None:
                return redirect(f"/groups/{quote(own.code)}")
        refusal = authorize("web.month", user.caller, ChatKind.WEB)
        if refusal is not None:
            raise Refused(403, refusal)
        month = None
        if "month" in request.query:
            try:
                month = parse_month(request.query["month"])
            except ValueError:
                raise PageError(_("Please give the month as YYYY-MM, for example 2026-10.")) from None
        tz = self.wiring.timezone_of(user.ward_id)
        page = await month_page(uow, self._ward(user), user.ward_id, month, now=self._now(), tz=tz)
        notice = request.query.get("done", "")
        code = request.query.get("code", "")
        return self.render(
            "month.html",
            user=user,
            page=page,
            notice=notice if notice in NOTICES else "",
            count=request.query.get("count", "") if request.query.get("count", "").isdigit() else "",
            code=code if CODE_PATTERN.match(code) else "",
            tab="month",
        )

    async def remind(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """Remind the heads and deputies of the groups that have not reported the month, now."""
        month = self._form_month(fields)
        now = self._now()
        ward, tz = self._ward(user), self.wiring.timezone_of(user.ward_id)
        if month > Month.of(now.astimezone(tz).date()) or is_locked(
            month, now, ward.ward.report_deadline_day, tz
        ):
            raise PageError(
                _("Reminders are for a month that is still open; reopen a group's month to let it report.")
            )
        key = f"web-remind:{user.ward_id}:{month}:{now:%Y%m%d%H%M}"  # a double press within a minute: once
        broadcast = await remind_missing(
            uow, self.wiring, user.ward_id, month, key=key, requested_by=user.caller.person_id
        )
        if broadcast is None:
            return back("/", month=str(month), done="already")
        counts = await uow.outbox.status_counts([broadcast])
        count = sum(counts.get(broadcast, {}).values())
        await audit(
            uow, "web_remind", actor=user.caller.person_id, ward_id=user.ward_id, detail=f"{month}: {count}"
        )
        return back("/", month=str(month), done="reminded" if count else "nothing", count=str(count))

    async def reopen(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """Reopen one group's month (as /reopen does) and tell its head and deputy."""
        month = self._form_month(fields)
        try:
            group = await require_group(uow, fields.get("code", ""), user.ward_id)
        except MembershipError:
            raise PageError(_("There is no such group. Pick one from the list on the page.")) from None
        tz = self.wiring.timezone_of(user.ward_id)
        try:
            until = await reopen_month(uow, group, month, actor=user.caller.person_id, now=self._now(), tz=tz)
        except ReportingError:
            raise PageError(_("Only a past or the current month can be reopened.")) from None
        last_day = reopened_last_day(until, tz)
        notes = await reopening_notes(uow, self.wiring, group, month, last_day)
        if notes:
            await enqueue_broadcast(
                uow,
                kind="notice",
                title=f"reopen {group.code} {month}",
                messages=[
                    (
                        Recipient(p.platform, p.external_id, p.display_name or p.external_id, False),
                        Outgoing(text),
                    )
                    for p, text in notes
                ],
                requested_by=None,
                now=self._now(),
                ward_id=user.ward_id,
            )
        await audit(
            uow,
            "web_reopen",
            actor=user.caller.person_id,
            group_id=group.id,
            ward_id=user.ward_id,
            detail=f"{month} until {last_day:%Y-%m-%d}",
        )
        return back("/", month=str(month), done="reopened", code=group.code)

    @staticmethod
    def _form_month(fields: Mapping[str, str]) -> Month:
        try:
            return parse_month(fields.get("month", ""))
        except ValueError:
            raise PageError(_("Please give the month as YYYY-MM, for example 2026-10.")) from None

    async def standings(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """The ranked table of a period or campaign, for the whole ward or one block, with its chart."""
        period, block = request.query.get("period", "")[:40], request.query.get("block", "")[:100]
        tz = self.wiring.timezone_of(user.ward_id)
        page = await standings_page(
            uow, self._ward(user), user.ward_id, period, block, now=self._now(), tz=tz, cache=self.cache
        )
        chart = "/standings/chart.png?" + urlencode({"period": page.period_key, "block": page.block})
        return self.render("standings.html", user=user, page=page, chart=chart, tab="standings")

    async def chart(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> Later:
        """The standings bar chart (PNG), as the chat sends it."""
        period, block = request.query.get("period", "")[:40], request.query.get("block", "")[:100]
        tz = self.wiring.timezone_of(user.ward_id)
        page = await standings_page(
            uow, self._ward(user), user.ward_id, period, block, now=self._now(), tz=tz, cache=self.cache
        )
        language, pictures = current_language(), page.pictures

        def draw() -> web.StreamResponse:
            content = pictures.get(language)
            if content is None:
                content = pictures[language] = standings_chart(page.result.standings, title=page.title)
            return web.Response(body=content, content_type="image/png", headers=HEADERS)

        return draw

    async def group(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """A group's history per indicator and its reports with their audit trail."""
        code = request.match_info["code"]
        group = await uow.groups.by_code(code, user.ward_id) if CODE_PATTERN.match(code) else None
        if group is None or not may_see_group(user.caller, group.id, group.ward_id):
            raise PageError(_("There is no such group, or it is not yours to see."))
        tz = self.wiring.timezone_of(user.ward_id)
        page = await group_page(uow, self._ward(user), group.id, now=self._now(), tz=tz)
        return self.render("group.html", user=user, page=page, tab="group")

    async def campaigns(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """Campaigns with dates, groups, pledges and delivery; refreshes itself while one is delivering."""
        lines = await campaign_lines(uow, user.ward_id)
        busy = any(line.delivery.get("pending", 0) + line.delivery.get("sending", 0) for line in lines)
        return self.render("campaigns.html", user=user, lines=lines, busy=busy, tab="campaigns")

    async def year_end(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """The year-end assessment as /assessment shows it: progress, results, comments, the decision."""
        tz = self.wiring.timezone_of(user.ward_id)
        page = await year_end_page(uow, self._ward(user), user.ward_id, tz=tz)
        return self.render("yearend.html", user=user, page=page, tab="yearend")

    async def downloads(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """Every export, the current month first."""
        tz = self.wiring.timezone_of(user.ward_id)
        return self.render("downloads.html", user=user, groups=downloads(self._now(), tz), tab="downloads")

    async def download_any(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> Later:
        """The downloads page's form: any period typed as people write it (10/2025, 2025-Q3, 2024)."""
        text = request.query.get("period", "").strip()[:40]
        extension = request.query.get("format", "xlsx")
        tz = self.wiring.timezone_of(user.ward_id)
        try:
            period = parse_period(text, today=self._now().astimezone(tz).date())
        except ValueError:
            raise PageError(period_not_understood()) from None
        return await self._export(uow, user, period.key, extension)

    async def download(
        self, request: web.Request, uow: UnitOfWork, user: WebUser, fields: Mapping[str, str]
    ) -> Later:
        """One export file: the same workbook (or CSV) as /export and `wardbot export`."""
        key, _dot, extension = request.match_info["name"].rpartition(".")
        return await self._export(uow, user, key, extension)

    async def _export(self, uow: UnitOfWork, user: WebUser, key: str, extension: str) -> Later:
        if extension not in ("xlsx", "csv"):
            raise PageError(_("There is no such download. Pick one on the downloads page."))
        ward, tz, now = self._ward(user), self.wiring.timezone_of(user.ward_id), self._now()
        period = export_period(key, now, tz)
        data = await export_data(
            uow,
            period,
            ward_id=user.ward_id,
            ward_name=ward.ward.name,
            ward_file=ward,
            now=now,
            tz=tz,
        )
        if period.kind is PeriodKind.YEAR:  # the award register's sheet, as /export YEAR has
            data = await with_awards(uow, data, user.ward_id, period.first.year)
        await audit(
            uow,
            "web_download",
            actor=user.caller.person_id,
            ward_id=user.ward_id,
            detail=f"{period.key}.{extension}",
        )
        language = current_language()

        def write() -> web.StreamResponse:
            if extension == "xlsx":
                body = workbook_bytes(data, language)
                kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            else:
                body = csv_bytes(data, language)
                kind = "text/csv"
            return web.Response(
                body=body,
                headers={
                    **HEADERS,
                    "Content-Type": kind,
                    "Content-Disposition": f'attachment; filename="bao-cao-{period.key}.{extension}"',
                },
            )

        return write
