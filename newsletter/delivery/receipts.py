"""Receipts of the reports already applied: a mailbox message's digest, an ESP event's id, kept by key.

A report is applied first and its receipt kept after, so a crash in between leaves no
receipt and the report is read again: the rules in ``bounces`` count each bounce once
per issue and reader (or once per report) whatever reads it twice, so the second
reading changes nothing. With the receipt kept, a message still in the mailbox (the
move to the processed folder did not happen) or an event posted again is not even
applied: it is listed as ``already applied``.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from newsletter.store import Store, now

KEY = 100  # characters of a key kept; a longer one is kept as its digest


def key(origin: str, value: str) -> str:
    """Return the receipt key of ``value`` from ``origin`` (``imap``, ``ses``…), a digest when it is long."""
    text = f"{origin}:{value}"
    if len(text) <= KEY:
        return text
    return f"{origin}:sha256:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"


def seen(store: Store, keys: list[str]) -> set[str]:
    """Return which of ``keys`` belong to reports applied already."""
    t = store.t.report_receipts
    found: set[str] = set()
    with store.begin() as conn:
        for chunk in _chunks(keys):
            found.update(conn.execute(sa.select(t.c.key).where(t.c.key.in_(chunk))).scalars())
    return found


def keep(store: Store, keys: list[str], origin: str) -> None:
    """Record that the reports with these keys were applied (again is harmless), in one transaction."""
    t = store.t.report_receipts
    keys, moment = list(dict.fromkeys(keys)), now()
    try:
        with store.begin() as conn:
            for chunk in _chunks(keys):
                there = set(conn.execute(sa.select(t.c.key).where(t.c.key.in_(chunk))).scalars())
                rows = [{"key": k, "origin": origin[:20], "received_at": moment} for k in chunk if k not in there]
                if rows:
                    conn.execute(t.insert(), rows)
    except sa.exc.IntegrityError:  # another reader kept some of them meanwhile: the rest one by one
        for key in keys:
            try:
                with store.begin() as conn:
                    conn.execute(t.insert().values(key=key, origin=origin[:20], received_at=moment))
            except sa.exc.IntegrityError:
                pass


def _chunks(keys: list[str], size: int = 500) -> list[list[str]]:
    return [keys[i:i + size] for i in range(0, len(keys), size)]
