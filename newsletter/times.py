"""Times as people read them: in the newsletter's zone, to the minute, ``6 Dec 2026 07:00 +05``.

Machines get ISO 8601 (``--json``, the API); every time printed for a person goes through
``shown``, so a status screen never mixes zones, offsets and microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # not the locale's


def shown(moment: datetime | str | None, zone: tzinfo) -> str:
    """Return ``moment`` in ``zone`` as ``6 Dec 2026 07:00 +05`` (``+05:30`` off the hour); '' for None.

    A string is read as ISO 8601; a time without a zone is taken as UTC, as the store keeps it.
    """
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return (f"{local.day} {MONTHS[local.month - 1]} {local:%Y %H:%M} {sign}{hours:02d}"
            + (f":{rest:02d}" if rest else ""))
