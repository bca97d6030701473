"""Memory stays flat: a send to ten times the readers needs no more memory (bench/send.py: 100x)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from helpers.fastsink import FastSink
from helpers.newsletters import add_readers, write_config

from newsletter.app import Newsletter
from newsletter.config import load


def peak_of_send(folder: Path, documents: Path, readers: int) -> int:
    """Return the Python heap's peak during one send to ``readers`` subscribers, in bytes."""
    folder.mkdir()
    (folder / "inbox").symlink_to(documents)
    with FastSink() as sink:
        write_config(folder, smtp_url=sink.url, sources=[{"path": "inbox"}])
        app = Newsletter(load(folder / "newsletter.toml", environ={}).replace(smtp={"max_rate": 1e9}))
        add_readers(app, readers)
        app.gather()
        tracemalloc.start()
        try:
            sent = app.send(fetch=False).issues[-1].counts.sent
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert sent == sink.count == readers
        app.store.close()
    return peak


def test_peak_memory_does_not_grow_with_the_number_of_readers(tmp_path: Path, documents: Path) -> None:
    peak_of_send(tmp_path / "warm", documents, 40)  # imports, template compilation: paid once per process
    small = peak_of_send(tmp_path / "small", documents, 400)
    large = peak_of_send(tmp_path / "large", documents, 4000)
    assert large <= small * 1.2, (small, large)
