"""Benchmark gathering at scale against the physical floor of the same work, measured in the same run.

2,000 RSS feeds of 20 items are served from 100 loopback addresses (127.0.0.2-127.0.0.101),
every answer delayed 100 ms (the servers of ``bench/gather.py``). ``newsletter gather``
runs once from an empty state, as a fresh process. Its time is compared with the floor
of that work, the larger of:

* the latency bound: requests / requests in flight x latency, where requests in flight
  is the smaller of ``gather.concurrency`` and hosts x ``gather.per_host``;
* the CPU bound: the CPU time of plain ``feedparser.parse`` over the same bytes (measured
  here, in this process, before the gather), divided by the cores.

Goal: a gather within 2x of the floor (1.5x the moonshot). It then says where the rest
of the time goes: process start-up, the CPU the gather spent beyond feedparser's, and
how busy the cores were.

    .venv/bin/python bench/gather_scale.py            # prints the ratios
    .venv/bin/python bench/gather_scale.py --json     # one JSON document
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gather import Farm, arguments, log  # noqa: E402 - the slow feed servers of the 100-feed benchmark

from newsletter.settings import GatherSettings  # noqa: E402


def feedparser_cpu(bodies: list[bytes]) -> float:
    """Return the CPU seconds plain ``feedparser.parse`` takes over ``bodies``, one after another."""
    start = time.process_time()
    for body in bodies:
        feedparser.parse(io.BytesIO(body))
    return time.process_time() - start


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-gather-scale-"))
    log(f"starting {args.hosts} slow servers for {args.feeds} feeds")
    farm = Farm(args.feeds, args.items, args.hosts, args.delay)
    try:
        log("timing plain feedparser.parse over the same bytes")
        parse_cpu = feedparser_cpu(list(farm.bodies.values()))
        cores = os.cpu_count() or 1
        defaults = GatherSettings()
        in_flight = min(defaults.concurrency, args.hosts * defaults.per_host)
        latency_bound = args.feeds / in_flight * args.delay
        cpu_bound = parse_cpu / cores
        floor = max(latency_bound, cpu_bound)

        config = work / "newsletter.toml"
        config.write_text('[storage]\nurl = "sqlite:///state.db"\n\n' + "".join(
            f'[[sources]]\nurl = "{url}"\n\n' for url in farm.urls), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
        log("newsletter --help: process start-up alone")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "newsletter", "--help"], env=env, capture_output=True, check=True)
        startup = time.perf_counter() - start

        log(f"newsletter gather: {args.feeds} feeds")
        farm.phase = "gather"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "newsletter", "--config", str(config), "-q", "gather",
                                 "--json"], env=env, capture_output=True, text=True, timeout=1800)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(f"newsletter gather failed: {result.stderr[-2000:]}")
        report = json.loads(result.stdout)
        if report["new"] != args.feeds * args.items or report["failed"]:
            raise SystemExit(f"newsletter gather stored {report['new']} items, {report['failed']} failed")
        gather_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    finally:
        farm.close()
    return {
        "feeds": args.feeds, "items_per_feed": args.items, "hosts": args.hosts, "delay_ms": round(args.delay * 1000),
        "cores": cores, "in_flight": in_flight,
        "latency_bound_s": round(latency_bound, 3),
        "feedparser_cpu_s": round(parse_cpu, 3),
        "cpu_bound_s": round(cpu_bound, 3),
        "floor_s": round(floor, 3),
        "gather_s": round(seconds, 3),
        "gather_cpu_s": round(gather_cpu, 3),
        "startup_s": round(startup, 3),
        "ratio_to_floor": round(seconds / floor, 2),
        "ratio_to_floor_excluding_startup": round((seconds - startup) / floor, 2),
        "ratio_to_latency_bound": round(seconds / latency_bound, 2),
        "ratio_to_cpu_bound": round(seconds / cpu_bound, 2),
        "cores_busy": round(gather_cpu / (seconds * cores), 2),
        "cpu_beyond_feedparser_s": round(gather_cpu - parse_cpu, 3),
        "goals": {"ratio_to_floor": 2.0, "moonshot": 1.5},
    }


def main() -> None:
    args = arguments(__doc__, feeds=2000, hosts=100).parse_args()
    r = run(args)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    print("\n".join([
        f"{r['feeds']} feeds x {r['items_per_feed']} items on {r['hosts']} loopback hosts, "
        f"{r['delay_ms']} ms per answer, {r['cores']} cores, {r['in_flight']} requests in flight",
        f"floor: {r['floor_s']:.2f} s = max(latency bound {r['latency_bound_s']:.2f} s, "
        f"CPU bound {r['cpu_bound_s']:.2f} s = feedparser {r['feedparser_cpu_s']:.2f} s CPU / {r['cores']} cores)",
        f"newsletter gather: {r['gather_s']:.2f} s -> {r['ratio_to_floor']:.2f}x the floor (goal <= 2x, moonshot "
        f"1.5x); without process start-up ({r['startup_s']:.2f} s): {r['ratio_to_floor_excluding_startup']:.2f}x",
        f"  against each bound: {r['ratio_to_latency_bound']:.2f}x the latency bound, "
        f"{r['ratio_to_cpu_bound']:.2f}x the CPU bound",
        f"where the rest goes: the gather spent {r['gather_cpu_s']:.2f} s of CPU, "
        f"{r['cpu_beyond_feedparser_s']:.2f} s beyond feedparser's (sanitising, text, recording, HTTP); "
        f"the cores were {r['cores_busy']:.0%} busy",
    ]))


if __name__ == "__main__":
    main()
