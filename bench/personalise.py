"""Benchmark personalisation: ready-to-send bytes per second, fast path against the straightforward one.

One issue of the demo newsletter (this repository's sources, gathered into a
temporary database, offered in English, Russian and Kazakh) is built for N readers
(default 10,000) with a mix of names (ASCII, Cyrillic, none) spread over 3 languages x
4 section choices x 3 time zones, on one core:

* fast path: ``Composer.build``: MJML compiled once per distinct copy (language, section
  selection: 12 here, whatever the zones), the MIME body encoded once per copy, only the
  personal parts per reader (the one-time rendering is inside the timed run);
* straightforward path: ``build_reference`` (tests/helpers/reference.py): an
  ``email.message.EmailMessage`` per reader, filled and serialised (rendering already
  done, so it only pays for MIME).

Then every reader's fast message is parsed back and compared with the straightforward
one: same headers (decoded), same parts (type, charset, decoded content). Goal: the
fast path at least 50x the straightforward one. CPU time of this process is measured,
so other work on the machine does not count.

    python bench/personalise.py [--subscribers 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from newsletter import bundle
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.email import htmlmail
from newsletter.email.message import Composer, Recipient
from newsletter.email.render import Renderer
from newsletter.progress import LogLines, Progress, Silent

# The oracle lives with the tests, not in the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.reference import build_reference

NAMES = ["", "Aigerim Sadykova", "Oliver Grant", "Бекзат Нурланов", "Zhanna Ömirzaq", "Lee, Ann", "李小龙"]
LANGUAGES = ["en", "ru", "kk"]
ZONES = ["Asia/Almaty", "Europe/Moscow", "America/New_York"]  # delivery waves; the copy is the same in each
GOAL = 50.0


def readers(count: int, sections: tuple[str, ...]) -> list[tuple[Recipient, str]]:
    """Return ``count`` readers with their zones: 3 languages x 4 section choices x 3 zones, mixed names."""
    rng = random.Random(7)
    choices = [(), sections[:2], sections[1:4], sections[-1:]]
    return [(Recipient(i, f"reader{i}@example.org", rng.choice(NAMES), rng.choice(choices),
                       rng.choice(LANGUAGES)), rng.choice(ZONES)) for i in range(1, count + 1)]


def _parsed(raw: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str | None, str]]]:
    message = message_from_bytes(raw, policy=policy.default)
    # Stripped: the email package reads a subject folded right after "Subject:" back with a leading space.
    return ([(k, str(v).strip()) for k, v in message.items()],
            [(p.get_content_type(), p.get_content_charset(), p.get_content()) for p in message.iter_parts()])


def run(count: int, progress: Progress) -> dict[str, Any]:
    """Gather the demo issue, time both paths for ``count`` readers, verify; return the figures."""
    with tempfile.TemporaryDirectory() as folder:
        config = load(bundle.path("newsletter.toml"), environ={}).replace(
            storage={"url": f"sqlite:///{Path(folder) / 'bench.db'}"}, newsletter={"languages": LANGUAGES})
        app = Newsletter(config)
        app.gather()
        draft = app.draft()
        signer = app.signer()
        app.store.close()
    names = tuple(s.name for s in draft.sections)
    mixed = readers(count, names)
    people = [r for r, _ in mixed]
    kinds = {(r.language, r.sections, zone) for r, zone in mixed}

    def composer() -> tuple[Composer, Renderer]:
        renderer = Renderer(config, draft)
        return Composer(config, number=draft.number, subject=draft.subject, rendered=renderer,
                        signer=signer, date=draft.date), renderer

    fast, renderer = composer()
    progress.start("fast path", 1)
    started = time.process_time()
    fast_bytes = sum(len(fast.build(r)) for r in people)
    fast_seconds = time.process_time() - started
    progress.advance()

    simple, _ = composer()
    for choice, language in {(r.sections, r.language) for r in people}:  # rendering up front: it pays for MIME only
        simple.rendered_for(Recipient(0, "x@example.org", sections=choice, language=language))
    progress.start("straightforward path", 1)
    started = time.process_time()
    simple_bytes = sum(len(build_reference(simple, r)) for r in people)
    simple_seconds = time.process_time() - started
    progress.advance()

    progress.start("verify", len(people))
    mismatches = []
    for r in people:
        if _parsed(fast.build(r)) != _parsed(build_reference(simple, r)):
            mismatches.append(r.email)
        progress.advance()

    selections = {renderer.selection(r.sections) for r in people}
    copies = {renderer.key(r.sections, r.language) for r in people}
    sizes = {}
    for selection in sorted(selections, key=len, reverse=True):
        html = renderer.render(selection).html
        placeholders = sum(html.count(p) for p in renderer.placeholders.values())
        sizes[", ".join(selection) or "(none)"] = {
            "html_bytes": len(html.encode("utf-8")), "sent_bytes": htmlmail.sent_size(html, placeholders),
            "trimmed_items": renderer.render(selection).trimmed}
    fast_rate, simple_rate = count / fast_seconds, count / simple_seconds
    return {
        "subscribers": count, "items": len(draft.items), "selections": len(selections), "copies": len(copies),
        "reader_kinds": len(kinds), "mjml_compiles": renderer.compiled,
        "fast": {"seconds": round(fast_seconds, 3), "messages_per_second": round(fast_rate),
                 "megabytes_per_second": round(fast_bytes / fast_seconds / 1e6, 1)},
        "straightforward": {"seconds": round(simple_seconds, 3), "messages_per_second": round(simple_rate),
                            "megabytes_per_second": round(simple_bytes / simple_seconds / 1e6, 1)},
        "ratio": round(fast_rate / simple_rate, 1), "goal": GOAL, "goal_met": fast_rate / simple_rate >= GOAL,
        "verified": count - len(mismatches), "mismatches": mismatches[:10],
        "html": sizes, "gmail_clip": htmlmail.GMAIL_CLIP,
    }


def main() -> int:
    """Run the benchmark and print the figures; exit 1 if any message differs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if args.json else logging.INFO, format="%(message)s")
    logging.getLogger("newsletter.gather").setLevel(logging.WARNING)
    result = run(args.subscribers, Silent() if args.json else LogLines(every=2_000))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        f, s = result["fast"], result["straightforward"]
        print(f"{result['subscribers']} readers of {result['reader_kinds']} kinds (language x sections x zone), "
              f"{result['items']} items, {result['copies']} copies (language x {result['selections']} section "
              f"selections), {result['mjml_compiles']} MJML compilations")
        print(f"fast path:            {f['messages_per_second']:>8} messages/s  {f['megabytes_per_second']:>6} MB/s  "
              f"({f['seconds']} s CPU, rendering included)")
        print(f"straightforward path: {s['messages_per_second']:>8} messages/s  {s['megabytes_per_second']:>6} MB/s  "
              f"({s['seconds']} s CPU)")
        print(f"ratio: {result['ratio']}x (goal {GOAL:g}x: {'met' if result['goal_met'] else 'NOT met'})")
        print(f"verified: {result['verified']} of {result['subscribers']} fast messages parse back identical")
        for selection, size in result["html"].items():
            print(f"HTML for [{selection}]: {size['html_bytes']} bytes, {size['sent_bytes']} as sent with room for "
                  f"personal parts (Gmail clips past {result['gmail_clip']}), {size['trimmed_items']} items trimmed")
    return 1 if result["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
