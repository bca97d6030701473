"""Benchmark gathering: this project against rss2email on the same 100 slow feeds, in one run.

100 RSS feeds of 20 items each are served from loopback by servers that wait 100 ms before
every answer (304s included) and honour ETag / If-None-Match and Last-Modified. Each
address is its own host, so the per-host politeness limit applies as it would on the
web, where feeds live on many hosts: the feeds are spread round-robin over several
loopback addresses (127.0.0.2, 127.0.0.3, …; all loopback on Linux).

Timed, each as a fresh process from an empty state: `newsletter gather` (first fetch:
everything is new) and `r2e run --no-send` (rss2email, installed into bench/.venv-r2e on
first use), taking turns for ``--rounds`` rounds (5); the medians are compared, and the
CPU time each spent (every process it started included) is shown beside. Then
`newsletter gather` again: the share of requests answered 304 is reported. The machine's own
speed (CPU seconds of plain feedparser over one feed, 20 times) is measured before and after,
since our side is bound by CPU and rss2email's by latency: the ratio follows that speed.

    .venv/bin/python bench/gather.py            # prints the ratios
    .venv/bin/python bench/gather.py --json     # one JSON document
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser

HERE = Path(__file__).resolve().parent
R2E_VENV = HERE / ".venv-r2e"
WORDS = ("Astana Tashkent Bishkek Dushanbe Ashgabat Baku Almaty pipeline grain railway customs tariff "
         "ministry minister parliament election border water dam uranium oil gas freight corridor "
         "Казахстан Узбекистан нефть граница Қазақстан экспорт 铁路 霍尔果斯").split()


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def make_feed(n: int, items: int) -> bytes:
    rng = random.Random(n)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    parts = []
    for i in range(items):
        words = [rng.choice(WORDS) for _ in range(90)]
        title = " ".join(rng.choice(WORDS) for _ in range(7)).capitalize()
        body = (f"<p>{' '.join(words[:45])}.</p><p>{' '.join(words[45:])} "
                f"<a href=\"/news/{n}/{i}/more\">more</a>.</p>")
        parts.append(
            f"<item><title>{title}</title><link>https://feed{n}.example/news/{i}</link>"
            f"<guid isPermaLink=\"false\">feed{n}-item{i}</guid>"
            f"<pubDate>{format_datetime(start + timedelta(hours=n * items + i))}</pubDate>"
            f"<description><![CDATA[{body}]]></description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {n}</title>'
            f"<link>https://feed{n}.example/</link><description>bench</description>{''.join(parts)}"
            "</channel></rss>").encode()


class Farm:
    """Slow feed servers on several loopback addresses, counting answers per phase."""

    def __init__(self, feeds: int, items: int, hosts: int, delay: float) -> None:
        self.delay = delay
        self.phase = "setup"
        self.counts: Counter[tuple[str, int]] = Counter()
        self.lock = threading.Lock()
        self.bodies = {f"/feed-{n}.xml": make_feed(n, items) for n in range(feeds)}
        self.modified = format_datetime(datetime(2026, 11, 25, tzinfo=UTC), usegmt=True)
        self.servers = []
        for h in range(hosts):
            server = ThreadingHTTPServer((f"127.0.0.{2 + h}", 0), self._handler())
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
        self.urls = [self._url(n) for n in range(feeds)]

    def _url(self, n: int) -> str:
        host, port = self.servers[n % len(self.servers)].server_address[:2]
        return f"http://{host}:{port}/feed-{n}.xml"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                time.sleep(farm.delay)
                body = farm.bodies.get(self.path)
                if body is None:
                    return self._send(404, b"")
                etag = '"' + sha256(body).hexdigest()[:20] + '"'
                if self.headers.get("If-None-Match") == etag or (
                        not self.headers.get("If-None-Match")
                        and self.headers.get("If-Modified-Since") == farm.modified):
                    return self._send(304, b"", etag)
                self._send(200, body, etag)

            def _send(self, status: int, body: bytes, etag: str = "") -> None:
                with farm.lock:
                    farm.counts[(farm.phase, status)] += 1
                self.send_response(status)
                if status == 200:
                    self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", farm.modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def share(self, phase: str, status: int) -> float:
        total = sum(c for (p, _), c in self.counts.items() if p == phase)
        return self.counts[(phase, status)] / total if total else 0.0

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def ensure_rss2email() -> Path:
    r2e = R2E_VENV / "bin" / "r2e"
    if not r2e.exists():
        log(f"installing rss2email into {R2E_VENV} (once)")
        subprocess.run([sys.executable, "-m", "venv", str(R2E_VENV)], check=True)
        subprocess.run([str(R2E_VENV / "bin" / "pip"), "install", "--quiet", "rss2email"], check=True)
    return r2e


CPU: dict[str, list[float]] = {"newsletter": [], "rss2email": []}  # CPU seconds of each first fetch


def timed(command: list[str], env: dict[str, str], cpu: str | None = None
          ) -> tuple[float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    if cpu is not None:  # the command and every process it started and waited for
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        CPU[cpu].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return seconds, result


def compiled() -> None:
    """Write the bytecode of our package, as installing it does (rss2email's was written when pip installed it).

    The project is installed in editable mode, and with PYTHONDONTWRITEBYTECODE set (as on the
    development machines) every run would compile our modules from source: some 30 ms that no
    installed copy spends.
    """
    compileall.compile_dir(HERE.parent / "newsletter", quiet=1)


def machine_speed(times: int = 20) -> float:
    """Return the CPU seconds plain ``feedparser.parse`` takes over one bench feed ``times`` times.

    The same work in every run: our side is bound by CPU and rss2email's by latency, so the
    ratio follows the machine's speed, and this figure tells a slow hour from a fast one.
    """
    feed = make_feed(0, 20)
    start = time.process_time()
    for _ in range(times):
        feedparser.parse(feed)
    return time.process_time() - start


def run(args: argparse.Namespace) -> dict[str, Any]:
    r2e = ensure_rss2email()
    compiled()
    speed = [machine_speed()]
    work = Path(tempfile.mkdtemp(prefix="bench-gather-"))
    farm = Farm(args.feeds, args.items, args.hosts, args.delay)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["XDG_RUNTIME_DIR"] = str(work)  # rss2email's lock file
    ours_runs: list[float] = []
    r2e_runs: list[float] = []
    try:
        (work / "r2e.cfg").write_text("[DEFAULT]\nto = bench@example.org\nsame-server-fetch-interval = 0\n\n" + "".join(
            f"[feed.f{n}]\nurl = {url}\n\n" for n, url in enumerate(farm.urls)), encoding="utf-8")
        for round_ in range(1, args.rounds + 1):
            # Each round starts from nothing on both sides, and the two take turns, so that
            # whatever else the machine does weighs on both alike.
            config = work / f"round{round_}" / "newsletter.toml"
            config.parent.mkdir()
            config.write_text('[storage]\nurl = "sqlite:///state.db"\n\n' + "".join(
                f'[[sources]]\nurl = "{url}"\n\n' for url in farm.urls), encoding="utf-8")
            ours = [sys.executable, "-m", "newsletter", "--config", str(config), "-q", "gather", "--json"]

            log(f"round {round_}/{args.rounds}: newsletter gather, first fetch of {args.feeds} feeds")
            farm.phase = "ours-first"
            seconds, result = timed(ours, env, cpu="newsletter")
            report = json.loads(result.stdout)
            if report["new"] != args.feeds * args.items or report["failed"]:
                raise SystemExit(f"newsletter gather stored {report['new']} items, {report['failed']} failed")
            ours_runs.append(seconds)

            log(f"round {round_}/{args.rounds}: r2e run --no-send, first fetch")
            farm.phase = "r2e-first"
            state = work / f"r2e-{round_}.json"
            seconds, result = timed([str(r2e), "-c", str(work / "r2e.cfg"), "-d", str(state), "run", "--no-send"], env,
                                    cpu="rss2email")
            if result.returncode != 0:
                raise SystemExit(f"r2e failed: {result.stderr[-2000:]}")
            seen = sum(len(f.get("seen", {})) for f in json.loads(state.read_text())["feeds"])
            if seen != args.feeds * args.items:
                raise SystemExit(f"r2e saw {seen} entries, expected {args.feeds * args.items}")
            r2e_runs.append(seconds)

        log("start-up alone: --help of each, twice, the faster kept")
        ours_startup = min(timed([sys.executable, "-m", "newsletter", "--help"], env)[0] for _ in range(2))
        r2e_startup = min(timed([str(r2e), "--help"], env)[0] for _ in range(2))

        log("newsletter gather: second fetch")
        farm.phase = "ours-second"
        ours_second, result = timed(ours, env)
        second = json.loads(result.stdout)
    finally:
        farm.close()
    speed.append(machine_speed())
    ours_first, r2e_first = statistics.median(ours_runs), statistics.median(r2e_runs)
    from newsletter.config import GatherSettings

    defaults = GatherSettings()
    return {
        "feeds": args.feeds, "items_per_feed": args.items, "delay_ms": round(args.delay * 1000),
        "hosts": args.hosts,
        "setup": (f"{args.feeds} feeds spread round-robin over {args.hosts} loopback addresses "
                  f"(127.0.0.2-127.0.0.{1 + args.hosts}), each answer delayed {args.delay * 1000:.0f} ms; "
                  f"newsletter defaults: concurrency {defaults.concurrency}, per_host {defaults.per_host}"),
        "rounds": args.rounds,
        "newsletter_first_runs_s": [round(x, 3) for x in ours_runs],
        "rss2email_first_runs_s": [round(x, 3) for x in r2e_runs],
        "newsletter_first_s": round(ours_first, 3),
        "rss2email_first_s": round(r2e_first, 3),
        "newsletter_first_cpu_s": round(statistics.median(CPU["newsletter"]), 3),
        "rss2email_first_cpu_s": round(statistics.median(CPU["rss2email"]), 3),
        "speedup": round(r2e_first / ours_first, 2),
        "newsletter_startup_s": round(ours_startup, 3),
        "rss2email_startup_s": round(r2e_startup, 3),
        "speedup_excluding_startup": round((r2e_first - r2e_startup) / max(ours_first - ours_startup, 1e-3), 2),
        "newsletter_second_s": round(ours_second, 3),
        "second_fetch_304_share": round(farm.share("ours-second", 304), 4),
        "second_fetch_new_items": second["new"],
        "goals": {"speedup": 8, "second_fetch_304_share": 0.95},
        "machine_speed_s": [round(x, 3) for x in speed],
    }


def arguments(doc: str, *, feeds: int, hosts: int) -> argparse.ArgumentParser:
    """Return the options of a benchmark over the slow feed servers: how many, how slow, the output."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=feeds)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=hosts, help="loopback addresses the feeds are spread over")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds each answer waits")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def main() -> None:
    parser = arguments(__doc__, feeds=100, hosts=25)
    parser.add_argument("--rounds", type=int, default=5, help="first fetches of each, the median compared")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(result["setup"])
    print(f"first fetch (median of {result['rounds']} rounds):  newsletter {result['newsletter_first_s']:.2f} s, "
          f"rss2email {result['rss2email_first_s']:.2f} s -> {result['speedup']:.1f}x faster (goal >= 8x)")
    print(f"  every run: newsletter {result['newsletter_first_runs_s']}, rss2email {result['rss2email_first_runs_s']}")
    print(f"  CPU time (median, all processes): newsletter {result['newsletter_first_cpu_s']:.2f} s, "
          f"rss2email {result['rss2email_first_cpu_s']:.2f} s")
    print(f"  of which process start-up (imports): newsletter {result['newsletter_startup_s']:.2f} s, "
          f"rss2email {result['rss2email_startup_s']:.2f} s; without it: {result['speedup_excluding_startup']:.1f}x")
    print(f"machine speed: feedparser over one feed 20 times took {result['machine_speed_s']} s of CPU "
          "(before, after; the same work in every run: larger on a slow hour)")
    print(f"second fetch: newsletter {result['newsletter_second_s']:.2f} s, "
          f"{result['second_fetch_304_share']:.0%} of requests answered 304 (goal >= 95%), "
          f"{result['second_fetch_new_items']} new items")


if __name__ == "__main__":
    main()
