"""Multi-step flows, one module per flow; their state lives in the database (see router.py)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, BaseHandler

from conversations import campaign, report

FLOWS = (report, campaign)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every flow's entry points and buttons."""
    flow_handlers: list[BaseHandler[Any, Any, Any]] = []
    for flow in FLOWS:
        flow_handlers.extend(flow.HANDLERS)
    application.add_handlers(flow_handlers)
