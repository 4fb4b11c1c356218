"""Multi-step flows, one module per flow; their state lives in the database (see router.py)."""

from __future__ import annotations

from conversations import assessment, campaign, report

FLOWS = (report, campaign, assessment)
