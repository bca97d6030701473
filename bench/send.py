"""Benchmark delivery: the full send path against a raw smtplib blast, side by side, then memory.

1. Rate: one issue of the demo newsletter to N subscribers (default 20,000) through
   the project's whole path (outbox, per-reader rendering, pool, rate limit set out
   of the way, bookkeeping in SQLite) into a fresh local SMTP sink; then the same
   number of copies of one of those messages through 4 persistent raw smtplib
   connections into another fresh sink, taking turns for ``--rate-rounds`` rounds (3).
   Goal: the full path's median rate >= 0.8 of the raw blast's.
2. Slow relay: a relay that takes 25 ms to accept each message (aiosmtpd, its
   ``handle_DATA`` awaiting the delay; or, with ``--relay fast``, the FastSink answering
   that late, which spends next to no CPU of its own), 8,000 readers over 8 connections
   with an Ed25519 DKIM key, against a raw smtplib blast of the same message unsigned
   over 8 connections into the same kind of relay, taking turns for ``--rounds`` rounds.
   Goal: the full path takes at most 1/0.9 of the blast's time. It prints where the
   time goes: the wire's floor, the CPU each side and each relay spent, how busy the
   machine was, and what building and signing one message costs. ``--rtt`` (fast relay
   only) makes the relay answer every command that much later too, as one across a
   network does: then the full path pipelines each envelope (one round trip where
   smtplib takes three), and its commit waits within that round trip.
3. Memory: the same send to 1,000 and to 100,000 subscribers, each in its own
   process; the peak resident memory of the send itself (VmHWM reset just before
   it) and the Python heap peak are printed. Goal: 100,000 within 20% of 1,000.

Each SMTP server runs in its own process (``FastSink`` from tests/helpers/fastsink.py:
asyncio, pipelining offered; or the slow aiosmtpd relay), so neither side shares the
interpreter with the server it sends to.

    python bench/send.py [--subscribers 20000] [--connections 4] [--sizes 1000,100000] [--json]
    python bench/send.py --skip-rate --sizes '' --slow-relay [--relay fast [--rtt 0.002]] [--rounds 3] [--slow-subscribers 8000]
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import resource
import smtplib
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import dkim as dkimpy
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from newsletter import archive, bundle, delivery
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.edit import issue
from newsletter.email.dkim import HEADERS
from newsletter.email.message import Composer, Recipient
from newsletter.store import now

# The sink is test and benchmark scaffolding: it lives with the tests, not in the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.fastsink import FastSink
from helpers.relays import RemoteSink


def newsletter(folder: Path, subscribers: int, smtp_url: str, connections: int, pipelining: bool = True,
               dkim: bool = False) -> Newsletter:
    """Scaffold the demo newsletter in ``folder`` with ``subscribers`` active readers, items gathered.

    With ``dkim`` every message is signed with a new Ed25519 key.
    """
    bundle.scaffold(folder, demo=True)
    signing = {}
    if dkim:
        seed = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        (folder / "dkim.key").write_bytes(base64.b64encode(seed) + b"\n")
        signing = {"selector": "bench", "domain": "example.org", "key_file": "dkim.key"}
    config = load(folder / "newsletter.toml", environ={}).replace(
        smtp={"url": smtp_url, "max_rate": 1e9, "connections": connections, "pipelining": pipelining},
        storage={"url": f"sqlite:///{folder / 'bench.db'}"}, dkim=signing,
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


def last_composer(app: Newsletter) -> Composer:
    """Return the message builder of the last issue, rebuilt from the store as a resume does."""
    sent = issue.latest(app.store)  # the items are consumed now: rebuilt from the store, as a resume does
    assert sent is not None
    renderer = archive.Archive(app.config, app.store).renderer(sent)
    return Composer(app.config, number=sent.number, subject=sent.subject, rendered=renderer,
                    signer=app.signer(), date=sent.created_at)


def one_message(app: Newsletter, *, signed: bool = True) -> bytes:
    """Return the first reader's message of the last issue, as the full path sent it (``signed``: with DKIM)."""
    composer = last_composer(app)
    with app.store.begin() as conn:
        first = conn.execute(sa.select(app.store.t.subscribers).order_by(app.store.t.subscribers.c.id)
                             .limit(1)).mappings().one()
    stamp = app.stamp(composer) if signed else delivery.stamper(composer, None)
    return stamp(composer.build(Recipient(first["id"], first["email"], first["name"])))


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


def rate(subscribers: int, connections: int, pipelining: bool, rounds: int) -> dict[str, Any]:
    """Take turns for ``rounds`` rounds, each side into its own fresh sink; compare the median rates."""
    runs = [_rate_round(subscribers, connections, pipelining) for _ in range(rounds)]
    full_rate, raw_rate = (statistics.median(run[side] for run in runs) for side in (0, 1))
    return {"subscribers": subscribers, "connections": connections, "pipelining": pipelining,
            "message_bytes": runs[0][2], "rounds": [[round(full), round(raw)] for full, raw, _ in runs],
            "full_path_per_s": round(full_rate), "raw_smtplib_per_s": round(raw_rate),
            "ratio": round(full_rate / raw_rate, 3), "goal": 0.8}


def _rate_round(subscribers: int, connections: int, pipelining: bool) -> tuple[float, float, int]:
    """Return the full path's and the raw blast's messages per second, and the message's size."""
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
    return subscribers / full_seconds, subscribers / raw_seconds, len(message)


def _machine() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of the whole machine since boot, every core added up."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(ticks[:8])  # guest time is already counted in user time
    return (total - ticks[3] - ticks[4]) / 100, total / 100  # idle and iowait are not busy


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)  # children that ended within the block (the signer)
    return used.ru_utime + used.ru_stime


class Meter:
    """Wall time, CPU time (this process's threads, and its children that ended) and the machine's busy share."""

    def __enter__(self) -> Meter:
        self._wall, self._cpu, self._machine = time.perf_counter(), time.process_time(), _machine()
        self._children = _children_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.children = _children_cpu() - self._children
        self.cpu = time.process_time() - self._cpu + self.children
        busy, total = (after - before for after, before in zip(_machine(), self._machine, strict=True))
        self.busy = busy / total if total else 0.0


def costs(app: Newsletter, readers: int = 400) -> dict[str, float]:
    """Return the CPU milliseconds one message costs to build, to sign (ours and dkimpy's) and to send unsigned."""
    composer = last_composer(app)
    assert app.dkim is not None
    recipients = [Recipient(i, f"reader{i}@example.org", f"Reader {i}") for i in range(1, readers + 1)]
    feedback = delivery.stamper(composer, None)
    started = time.process_time()
    built = [feedback(composer.build(r)) for r in recipients]
    build = time.process_time() - started
    started = time.process_time()
    for message in built:
        app.dkim.sign(message)
    sign = time.process_time() - started
    started = time.process_time()
    for message in built[:100]:  # the library the signer replaced, for the record
        dkimpy.sign(message, b"bench", b"example.org", app.dkim.key, canonicalize=(b"relaxed", b"relaxed"),
                    signature_algorithm=app.dkim.algorithm.encode(),
                    include_headers=[h.lower().encode() for h in HEADERS])
    dkimpy_sign = time.process_time() - started
    return {"build_ms": round(build / readers * 1000, 3), "sign_ms": round(sign / readers * 1000, 3),
            "dkimpy_sign_ms": round(dkimpy_sign / 100 * 1000, 3)}


def slow_relay_round(subscribers: int, connections: int, delay: float, kind: str, rtt: float) -> dict[str, Any]:
    """One round: the full path signed with Ed25519 into a slow relay, then the raw blast unsigned into another."""
    with tempfile.TemporaryDirectory() as tmp:
        relay = RemoteSink(delay, kind, rtt)
        app = newsletter(Path(tmp) / "full", subscribers, relay.url, connections, dkim=True)
        with Meter() as full:
            report = app.send(fetch=False)
        received = relay.stop()
        sent = sum(i.counts.sent for i in report.issues)
        assert sent == received == subscribers, (sent, received)
        message = one_message(app, signed=False)
        per_message = costs(app)
        app.store.close()
    relay_full = relay.cpu
    relay = RemoteSink(delay, kind, rtt)
    with Meter() as raw:
        raw_blast(relay.url, message, subscribers, connections)
    assert relay.stop() == subscribers
    cores = os.cpu_count() or 1
    return {"full_s": round(full.seconds, 2), "raw_s": round(raw.seconds, 2),
            "ratio": round(raw.seconds / full.seconds, 3),
            # What bounds each side besides the wire: the relay's one thread, or every core together.
            "full_cpu_floor_s": round(max(relay_full, (full.cpu + relay_full) / cores), 2),
            "raw_cpu_floor_s": round(max(relay.cpu, (raw.cpu + relay.cpu) / cores), 2),
            "full_cpu_s": round(full.cpu, 2), "full_signer_cpu_s": round(full.children, 2),
            "raw_cpu_s": round(raw.cpu, 2),
            "full_relay_cpu_s": round(relay_full, 2), "raw_relay_cpu_s": round(relay.cpu, 2),
            "full_machine_busy": round(full.busy, 3), "raw_machine_busy": round(raw.busy, 3),
            "message_bytes": len(message), **per_message}


def slow_relay(subscribers: int, connections: int, delay: float, rounds: int, kind: str,
               rtt: float = 0.0) -> dict[str, Any]:
    """Take turns for ``rounds`` rounds; return every round and the median ratio (raw time / full time)."""
    runs = [slow_relay_round(subscribers, connections, delay, kind, rtt) for _ in range(rounds)]
    ratios = [r["ratio"] for r in runs]
    return {"relay": kind, "subscribers": subscribers, "connections": connections, "delay_ms": delay * 1000,
            "rtt_ms": rtt * 1000,  # the floor: a round trip for the envelope, one for the message
            "floor_s": round(subscribers / connections * (delay + 2 * rtt), 2), "runs": runs,
            "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "goal": 0.9}


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
    parser.add_argument("--rate-rounds", type=int, default=3, help="Rate rounds, each side once a round; medians compared.")
    parser.add_argument("--slow-relay", action="store_true",
                        help="Also run the slow-relay case (about a minute a round).")
    parser.add_argument("--slow-subscribers", type=int, default=8000)
    parser.add_argument("--slow-connections", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.025, help="Seconds the slow relay takes to accept a message.")
    parser.add_argument("--rounds", type=int, default=3, help="Slow-relay rounds, each side once a round.")
    parser.add_argument("--relay", choices=["aiosmtpd", "fast"], default="aiosmtpd",
                        help="The slow relay: aiosmtpd (4 ms of CPU a message itself) or the FastSink, answering late.")
    parser.add_argument("--rtt", type=float, default=0.0,
                        help="Seconds the fast relay also takes to answer every command, as across a network.")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.child:
        print(json.dumps(child(args.child, args.heap)))
        return
    result: dict[str, Any] = {}
    if not args.skip_rate:
        result["rate"] = rate(args.subscribers, args.connections, not args.no_pipelining, args.rate_rounds)
    if args.slow_relay:
        if args.rtt and args.relay != "fast":
            parser.error("--rtt needs --relay fast")
        result["slow_relay"] = slow_relay(args.slow_subscribers, args.slow_connections, args.delay, args.rounds,
                                          args.relay, args.rtt)
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
        print(f"  ratio {r['ratio']} of the medians of {len(r['rounds'])} rounds (goal >= {r['goal']}); "
              f"every round (full, raw): {r['rounds']}")
    if "slow_relay" in result:
        _print_slow(result["slow_relay"])
    if "memory" in result:
        m = result["memory"]
        for run in m["runs"]:
            heap = f", Python heap peak {run['peak_python_heap_kb']} KiB" if args.heap else ""
            print(f"send to {run['subscribers']:>7}: {run['seconds']:>6} s, peak RSS {run['peak_rss_kb']} KiB "
                  f"(+{run['send_rss_growth_kb']} KiB during the send){heap}")
        print(f"  peak RSS ratio {m['peak_rss_ratio']} (goal <= {m['goal']}); "
              f"growth during the send, ratio {m['send_growth_ratio']}"
              + (f", heap ratio {m['peak_heap_ratio']}" if args.heap else ""))


def _print_slow(s: dict[str, Any]) -> None:
    rtt = f", every answer {s['rtt_ms']:g} ms late" if s["rtt_ms"] else ""
    print(f"slow relay ({s['relay']}, {s['delay_ms']:g} ms a message{rtt}): {s['subscribers']} readers over "
          f"{s['connections']} connections, "
          f"Ed25519 DKIM; the wire's floor {s['floor_s']} s")
    for r in s["runs"]:
        print(f"  full path {r['full_s']:>6} s (CPU {r['full_cpu_s']} s of which signing process "
              f"{r['full_signer_cpu_s']} s, relay {r['full_relay_cpu_s']} s, "
              f"CPU floor {r['full_cpu_floor_s']} s, machine {r['full_machine_busy']:.0%} busy) | "
              f"raw blast {r['raw_s']:>6} s (CPU {r['raw_cpu_s']} s, relay {r['raw_relay_cpu_s']} s, "
              f"CPU floor {r['raw_cpu_floor_s']} s, machine {r['raw_machine_busy']:.0%} busy) | ratio {r['ratio']}")
    r = s["runs"][-1]
    print(f"  one message ({r['message_bytes']} bytes): built in {r['build_ms']} ms, signed in {r['sign_ms']} ms "
          f"(dkimpy: {r['dkimpy_sign_ms']} ms)")
    print(f"  ratio median {s['ratio_median']} (range {s['ratio_min']}-{s['ratio_max']}; goal >= {s['goal']})")
    print("  (CPU floor: the larger of the relay's CPU time, which its one thread must spend, and the CPU time "
          "of both processes spread over every core; a side cannot finish before it, nor before the wire's floor)")


if __name__ == "__main__":
    main()
