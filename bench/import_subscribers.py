"""Import N subscribers from CSV: the batched import against a row-at-a-time import, side by side.

    python bench/import_subscribers.py [--rows 100000] [--json]

Both import the same file (a tenth of its addresses already known, some of those
unsubscribed) into fresh SQLite files; the row-at-a-time import is the straightforward
loop (validate, SELECT the address, INSERT or UPDATE, one row after another) that the
batched one replaced. Prints each time, rows per second, and the ratio.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from newsletter import subscribers
from newsletter.store import Store, now
from newsletter.subscribers import csvfile
from newsletter.subscribers.choices import Choices

CHOICES = Choices(("Russia", "China", "In brief"))  # the sections the file's rows choose


def make_csv(rows: int) -> str:
    """Return a CSV of ``rows`` readers, a few of them malformed."""
    lines = ["email,name,sections,status"]
    for i in range(rows):
        email = f"reader{i}@example.org" if i % 997 else f"broken-{i}"
        sections = '"Russia,China"' if i % 3 == 0 else ""
        lines.append(f"{email},Reader {i},{sections},active")
    return "\n".join(lines) + "\n"


def seed(store: Store, rows: int) -> None:
    """Make a tenth of the file's addresses known already, every other one of them unsubscribed."""
    known = [f"reader{i}@example.org" for i in range(1, rows, 10) if i % 997]
    csvfile.import_csv(store, io.StringIO("email,status\n" + "".join(
        f"{e},{'unsubscribed' if n % 2 else 'active'}\n" for n, e in enumerate(known))), choices=CHOICES)


def row_at_a_time(store: Store, text: str) -> csvfile.ImportReport:
    """Import the way the first version did: one lookup and one write per row."""
    report = csvfile.ImportReport()
    t = store.t
    moment = now()
    reader = csv.DictReader(io.StringIO(text))
    with store.begin() as conn:
        for row in reader:
            try:
                address = subscribers.normalise_email(row["email"])
                status = subscribers.check_status(row.get("status") or "active")
            except Exception as e:
                report.rejected.append((reader.line_num, str(e)))
                continue
            existing = conn.execute(sa.select(t.subscribers).where(
                t.subscribers.c.email_key == address.casefold())).mappings().first()
            if existing is None:
                conn.execute(t.subscribers.insert().values(
                    email=address, email_key=address.casefold(), name=row["name"], sections=row["sections"],
                    origin="import", created_at=moment, **subscribers.status_values(status, moment)))
                report.added += 1
            elif existing["status"] not in subscribers.SUPPRESSED and existing["name"] != row["name"]:
                conn.execute(t.subscribers.update().where(t.subscribers.c.id == existing["id"])
                             .values(name=row["name"], updated_at=moment))
                report.updated += 1
            else:
                report.skipped += 1
    return report


def measure(rows: int) -> dict[str, Any]:
    """Time both imports of the same file; return the figures."""
    text = make_csv(rows)
    results: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory() as folder:
        for name, run in [("row_at_a_time", row_at_a_time),
                          ("batched", lambda store, text: csvfile.import_csv(store, io.StringIO(text),
                                                                             choices=CHOICES))]:
            store = Store(Path(folder) / f"{name}.db")
            seed(store, rows)
            started = time.perf_counter()
            report = run(store, text)
            seconds = time.perf_counter() - started
            results[name] = {"seconds": round(seconds, 3), "rows_per_second": round(rows / seconds),
                             "added": report.added, "rejected": len(report.rejected),
                             "subscribers": subscribers.count(store)}
            store.close()
    assert results["batched"]["subscribers"] == results["row_at_a_time"]["subscribers"]
    results["speedup"] = round(results["row_at_a_time"]["seconds"] / results["batched"]["seconds"], 2)
    return results


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    results = measure(args.rows)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return
    for name in ("row_at_a_time", "batched"):
        r = results[name]
        print(f"{name:<14} {r['seconds']:8.2f} s  {r['rows_per_second']:>8} rows/s  "
              f"({r['added']} added, {r['rejected']} rejected)")
    print(f"batched import is {results['speedup']}x the row-at-a-time import on {results['rows']} rows")


if __name__ == "__main__":
    main()
