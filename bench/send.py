"""Benchmark delivery: the full send path against a raw smtplib blast, side by side, then memory.

1. Rate: one issue of the demo newsletter to N subscribers (default 20,000) through
   the project's whole path (outbox, per-reader rendering, pool, rate limit set out
   of the way, bookkeeping in SQLite) into a fresh local SMTP sink; then the same
   number of copies of one of those messages through 4 persistent raw smtplib
   connections into another fresh sink. Goal: full path >= 0.8 of the raw rate.
2. Memory: the same send to 1,000 and to 100,000 subscribers, each in its own
   process; the peak resident memory of the send itself (VmHWM reset just before
   it) and the Python heap peak are printed. Goal: 100,000 within 20% of 1,000.

Each sink runs in its own process (``FastSink`` from tests/helpers/fastsink.py: asyncio,
pipelining offered), so neither side shares the interpreter with the server it sends to.

    python bench/send.py [--subscribers 20000] [--connections 4] [--sizes 1000,100000] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import smtplib
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from newsletter import archive, bundle
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.edit import issue
from newsletter.email.message import Composer, Recipient
from newsletter.sink import free_port
from newsletter.store import now

# The sink is test and benchmark scaffolding: it lives with the tests, not in the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.fastsink import FastSink


def _serve(port: int, pipe: Any) -> None:
    with FastSink(port=port) as sink:
        pipe.send("ready")
        pipe.recv()
        pipe.send(sink.count)


class RemoteSink:
    """A FastSink in a child process; ``stop`` returns how many messages it accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._pipe, child = mp.Pipe()
        self._process = mp.Process(target=_serve, args=(self.port, child), daemon=True)
        self._process.start()
        assert self._pipe.recv() == "ready"

    def stop(self) -> int:
        self._pipe.send("stop")
        count: int = self._pipe.recv()
        self._process.join()
        return count


def newsletter(folder: Path, subscribers: int, smtp_url: str, connections: int, pipelining: bool = True) -> Newsletter:
    """Scaffold the demo newsletter in ``folder`` with ``subscribers`` active readers, items gathered."""
    bundle.scaffold(folder, demo=True)
    config = load(folder / "newsletter.toml", environ={}).replace(
        smtp={"url": smtp_url, "max_rate": 1e9, "connections": connections, "pipelining": pipelining},
        storage={"url": f"sqlite:///{folder / 'bench.db'}"},
    )
    app = Newsletter(config)
    app.gather()
    t = app.store.t.subscribers
    moment = now()
    for start in range(0, subscribers, 5000):
        rows = [dict(email=f"reader{i}@example.org", email_key=f"reader{i}@example.org", name=f"Reader {i}",
                     status="active", sections="", origin="bench", created_at=moment, updated_at=moment)
                for i in range(start, min(subscribers, start + 5000))]
        with app.store.begin() as conn:
            conn.execute(t.insert(), rows)
    return app


def full_path(app: Newsletter) -> tuple[float, int]:
    """Send the next issue; return (seconds, messages sent)."""
    started = time.perf_counter()
    report = app.send(fetch=False)
    elapsed = time.perf_counter() - started
    return elapsed, sum(i.counts.sent for i in report.issues)


def one_message(app: Newsletter) -> bytes:
    """Return the first reader's message of the last issue, exactly as the full path sent it."""
    sent = issue.latest(app.store)  # the items are consumed now: rebuilt from the store, as a resume does
    assert sent is not None
    renderer = archive.Archive(app.config, app.store).renderer(sent)
    composer = Composer(app.config, number=sent.number, subject=sent.subject, rendered=renderer,
                        signer=app.signer(), date=sent.created_at)
    with app.store.begin() as conn:
        first = conn.execute(sa.select(app.store.t.subscribers).order_by(app.store.t.subscribers.c.id)
                             .limit(1)).mappings().one()
    return app.stamp(composer)(composer.build(Recipient(first["id"], first["email"], first["name"])))


def raw_blast(url: str, message: bytes, count: int, connections: int) -> float:
    """Send ``count`` copies of ``message`` over persistent smtplib connections; return seconds."""
    port = int(url.rsplit(":", 1)[1])
    shares = [count // connections + (1 if i < count % connections else 0) for i in range(connections)]

    def blast(n: int) -> None:
        smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="bench")
        for i in range(n):
            smtp.sendmail("briefing@example.org", [f"reader{i}@example.org"], message)
        smtp.quit()

    threads = [threading.Thread(target=blast, args=(n,)) for n in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def rate(subscribers: int, connections: int, pipelining: bool) -> dict[str, Any]:
    """Measure both sides, one after the other, each into its own fresh sink."""
    with tempfile.TemporaryDirectory() as tmp:
        sink = RemoteSink()
        app = newsletter(Path(tmp) / "full", subscribers, sink.url, connections, pipelining)
        full_seconds, sent = full_path(app)
        received = sink.stop()
        assert sent == received == subscribers, (sent, received)
        message = one_message(app)
        app.store.close()
    sink = RemoteSink()
    raw_seconds = raw_blast(sink.url, message, subscribers, connections)
    assert sink.stop() == subscribers
    full_rate, raw_rate = subscribers / full_seconds, subscribers / raw_seconds
    return {"subscribers": subscribers, "connections": connections, "pipelining": pipelining,
            "message_bytes": len(message),
            "full_path_per_s": round(full_rate), "raw_smtplib_per_s": round(raw_rate),
            "ratio": round(full_rate / raw_rate, 3), "goal": 0.8}


def _peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child(subscribers: int, heap: bool) -> dict[str, Any]:
    """Run in a fresh process: set up, then measure the peak memory of the send alone."""
    with tempfile.TemporaryDirectory() as tmp:
        with FastSink() as sink:
            app = newsletter(Path(tmp) / "nl", subscribers, sink.url, 4)
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident size
            base = _peak_rss_kb()
            if heap:
                tracemalloc.start()
            seconds, sent = full_path(app)
            peak_heap = tracemalloc.get_traced_memory()[1] if heap else 0
            tracemalloc.stop()
            peak = _peak_rss_kb()
            assert sent == sink.count == subscribers
    return {"subscribers": subscribers, "seconds": round(seconds, 1), "rss_before_kb": base,
            "peak_rss_kb": peak, "send_rss_growth_kb": peak - base, "peak_python_heap_kb": peak_heap // 1024}


def memory(sizes: list[int], heap: bool) -> dict[str, Any]:
    """Measure each size in its own process and compare the largest with the smallest."""
    import subprocess

    runs = []
    for n in sizes:
        args = [sys.executable, __file__, "--child", str(n)] + (["--heap"] if heap else [])
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out))
    small, large = runs[0], runs[-1]
    result: dict[str, Any] = {"runs": runs,
                              "peak_rss_ratio": round(large["peak_rss_kb"] / small["peak_rss_kb"], 3),
                              # what the send itself added, without the interpreter and libraries
                              "send_growth_ratio": round(large["send_rss_growth_kb"]
                                                         / max(1, small["send_rss_growth_kb"]), 3)}
    if heap:
        result["peak_heap_ratio"] = round(large["peak_python_heap_kb"] / max(1, small["peak_python_heap_kb"]), 3)
    result["goal"] = 1.2
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-pipelining", action="store_true",
                        help="Full path without PIPELINING (the raw blast never pipelines: smtplib cannot).")
    parser.add_argument("--sizes", default="1000,100000", help="Subscriber counts for the memory runs ('' skips).")
    parser.add_argument("--heap", action="store_true", help="Also trace the Python heap (slower).")
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.child:
        print(json.dumps(child(args.child, args.heap)))
        return
    result: dict[str, Any] = {}
    if not args.skip_rate:
        result["rate"] = rate(args.subscribers, args.connections, not args.no_pipelining)
    if args.sizes:
        result["memory"] = memory([int(n) for n in args.sizes.split(",")], args.heap)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    if "rate" in result:
        r = result["rate"]
        print(f"{r['subscribers']} messages of {r['message_bytes']} bytes over {r['connections']} connections"
              f" (full path pipelining: {'on' if r['pipelining'] else 'off'})")
        print(f"  full path (outbox, rendering, pool, bookkeeping): {r['full_path_per_s']:>6} msg/s")
        print(f"  raw smtplib blast of one message:                 {r['raw_smtplib_per_s']:>6} msg/s")
        print(f"  ratio {r['ratio']} (goal >= {r['goal']})")
    if "memory" in result:
        m = result["memory"]
        for run in m["runs"]:
            heap = f", Python heap peak {run['peak_python_heap_kb']} KiB" if args.heap else ""
            print(f"send to {run['subscribers']:>7}: {run['seconds']:>6} s, peak RSS {run['peak_rss_kb']} KiB "
                  f"(+{run['send_rss_growth_kb']} KiB during the send){heap}")
        print(f"  peak RSS ratio {m['peak_rss_ratio']} (goal <= {m['goal']}); "
              f"growth during the send, ratio {m['send_growth_ratio']}"
              + (f", heap ratio {m['peak_heap_ratio']}" if args.heap else ""))


if __name__ == "__main__":
    main()
