"""The editor's own words for the next issue: a subject line for every reader, and an intro.

They are kept by issue number (``issue_words``): the desk writes them for the issue that
comes next, ``issue.draft`` reads them, and once that issue is made it keeps them, so a
resumed send and the archive page show the same words. An empty subject leaves each
reader's copy its own subject (``edit.subject``); an empty intro shows none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from newsletter.error import EditorialError
from newsletter.store import Store, now, to_db

SUBJECT_LIMIT = 200  # characters: a subject line, not a paragraph
INTRO_LIMIT = 2000  # characters: a few short paragraphs at the top of the issue


@dataclass(frozen=True)
class Words:
    """An issue's subject and intro as the editor wrote them (empty: none)."""

    subject: str = ""
    intro: str = ""


def get(store: Store, number: int) -> Words:
    """Return the editor's words for issue ``number`` (empty when none were written)."""
    t = store.t.issue_words
    with store.begin() as conn:
        row = conn.execute(sa.select(t.c.subject, t.c.intro).where(t.c.number == number)).first()
    return Words(row.subject, row.intro) if row else Words()


def write(store: Store, number: int, *, subject: str, intro: str, moment: datetime | None = None) -> Words:
    """Set the subject and intro of issue ``number``, which must not be made yet; raise EditorialError otherwise.

    The subject is kept on one line; the intro keeps its paragraphs (blank lines between them).
    """
    subject = " ".join(subject.split())
    intro = "\n\n".join(" ".join(p.split()) for p in intro.replace("\r\n", "\n").split("\n\n") if p.strip())
    if len(subject) > SUBJECT_LIMIT:
        raise EditorialError(f"the subject is {len(subject)} characters long; at most {SUBJECT_LIMIT} fit a subject line")
    if len(intro) > INTRO_LIMIT:
        raise EditorialError(f"the intro is {len(intro)} characters long; at most {INTRO_LIMIT} are allowed")
    t, issues = store.t.issue_words, store.t.issues
    values = {"subject": subject, "intro": intro, "updated_at": to_db(moment or now())}
    with store.begin() as conn:
        if conn.execute(sa.select(issues.c.id).where(issues.c.number == number)).first() is not None:
            raise EditorialError(f"issue {number} is already made: its words can no longer change")
        if conn.execute(t.update().where(t.c.number == number).values(**values)).rowcount == 0:
            conn.execute(t.insert().values(number=number, **values))
    return Words(subject, intro)
