"""Progress of long work: a Rich bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Protocol, Self, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

log = logging.getLogger("newsletter")


class Progress(Protocol):
    """What long-running library calls report to."""

    def start(self, label: str, total: int) -> None:
        """Begin a stage of ``total`` steps."""

    def advance(self, note: str = "") -> None:
        """Mark one step done."""


class _Undisplayed:
    """A report with no live display: entering and leaving it (``with progress:``) does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


class Silent(_Undisplayed):
    """Report nothing."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, note: str = "") -> None:
        pass


class LogLines(_Undisplayed):
    """Report each step as a log line, for cron jobs, pipes and CI."""

    def __init__(self, every: int = 1) -> None:
        self.every = every
        self.label = ""
        self.total = 0
        self.done = 0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        log.info("%s: %d to do", label, total)

    def advance(self, note: str = "") -> None:
        self.done += 1
        if note or self.done % self.every == 0 or self.done == self.total:
            log.info("%s: %d/%d%s", self.label, self.done, self.total, f" {note}" if note else "")


class Bar:
    """Report with a Rich progress bar on stderr."""

    def __init__(self, stream: TextIO | None = None) -> None:

        self._rich = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=Console(file=stream or sys.stderr), transient=True,
        )
        self._task: int | None = None

    def start(self, label: str, total: int) -> None:
        if self._task is not None:
            self._rich.remove_task(self._task)  # type: ignore[arg-type]
        self._task = self._rich.add_task(label, total=total)

    def advance(self, note: str = "") -> None:
        if self._task is not None:
            self._rich.advance(self._task)  # type: ignore[arg-type]

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Take the bar off the terminal while the user is asked something, then bring it back."""
        self._rich.stop()  # else the live display redraws over the question and eats its [y/N] as markup
        try:
            yield
        finally:
            self._rich.start()

    def __enter__(self) -> Self:
        self._rich.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._rich.stop()


def for_terminal(quiet: bool = False) -> Bar | LogLines | Silent:
    """Return a bar when stderr is a terminal, log lines when it is not, nothing when quiet.

    Use it as ``with for_terminal() as progress:``: the bar shows only inside the block.
    """
    if quiet:
        return Silent()
    if sys.stderr.isatty():
        return Bar()
    return LogLines(every=100)
