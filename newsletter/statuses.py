"""The statuses a subscriber can have: light enough for the command line to load without the store."""

from __future__ import annotations

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
SUPPRESSED = ("unsubscribed", "bounced", "complained")  # an import never lifts these
