"""Benchmark near-duplicate clustering and drafting an issue at 10,000 waiting items, in one run.

Side by side on the same items: ``cluster.find`` (MinHash LSH: each item meets only the
items that share a hash band with it) against the quadratic way (exact Jaccard of every
pair), on as many items as the quadratic way can do in reasonable time; then
``cluster.find`` alone at the full size, and a whole draft (load from SQLite, cluster,
editorial choices, place by keywords in three languages, order and limit) at the full size.

    .venv/bin/python bench/cluster.py               # 10,000 items, prints the figures
    .venv/bin/python bench/cluster.py --json        # one JSON document
    .venv/bin/python bench/cluster.py --items 2000  # a quicker run
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from newsletter.config import parse
from newsletter.edit import cluster, issue
from newsletter.edit.sections import Sorter
from newsletter.item import Item
from newsletter.store import Store, to_db

HERE = Path(__file__).resolve().parent
SECTIONS = HERE.parent / "tests" / "fixtures" / "labelled" / "sections.toml"
TOPICS = ["Astana", "Tashkent", "Bishkek", "Dushanbe", "Ashgabat", "Almaty", "Moscow", "Beijing", "Kremlin",
          "pipeline", "oil", "gas", "uranium", "tenge", "budget", "parliament", "election", "border", "army",
          "summit", "tariff", "freight", "Россия", "Москва", "нефть", "газа", "выборы", "границе", "Қазақстан",
          "мұнай", "сайлау", "шекара"]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def make_items(count: int, seed: int = 7) -> tuple[list[Item], int]:
    """Return ``count`` items from five wires, about 4% of them edited copies of another wire's story."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(6000)] + list(TOPICS)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like, as words in news are
    start = datetime(2026, 11, 1, tzinfo=UTC)
    items: list[Item] = []
    copies = 0
    for n in range(count):
        moment = start + timedelta(minutes=n)
        if items and rng.random() < 0.04:
            original = rng.choice(items)
            words = original.body.split()
            for _ in range(3):
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            body, title, source = " ".join(words) + " Reporting by staff.", original.title, (original.source_id % 5) + 1
            copies += 1
        else:
            body = " ".join(rng.choices(vocabulary, weights, k=rng.randint(60, 200)))
            title = " ".join(rng.choices(vocabulary, weights, k=8))
            source = rng.randint(1, 5)
        items.append(Item(id=n + 1, source_id=source, source_name=f"Wire {source}", uid=f"wire{source}-{n}",
                          title=title, body=body, summary=body[:300], link=f"https://wire{source}.example/{n}",
                          label=None, published_at=moment, gathered_at=moment))
    return items, copies


def quadratic(items: list[Item], threshold: float = cluster.THRESHOLD) -> int:
    """Return how many pairs of different sources are nearly the same text, comparing every pair."""
    shingled = [(i, cluster.pairs(i)) for i in items]
    return sum(1 for (a, x), (b, y) in combinations(shingled, 2)
               if a.source_id != b.source_id and x and len(x & y) / len(x | y) >= threshold)


def timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def draft_at_scale(items: list[Item], folder: Path) -> dict[str, float]:
    """Store ``items`` as waiting items in SQLite and time a whole draft and its parts."""
    settings = tomllib.loads(SECTIONS.read_text(encoding="utf-8"))
    settings["sources"] = [{"url": f"https://wire{n}.example/feed"} for n in range(1, 6)]
    settings["storage"] = {"url": "sqlite:///bench.db"}
    config = parse(settings, root=folder, environ={})
    store = Store(folder / "bench.db")
    t = store.t
    with store.begin() as conn:
        for n in range(1, 6):
            conn.execute(t.sources.insert().values(id=n, key=f"https://wire{n}.example/feed", kind="rss",
                                                   name=f"Wire {n}", created_at=datetime(2026, 11, 1)))
        conn.execute(t.items.insert(), [
            {"id": i.id, "source_id": i.source_id, "uid": i.uid, "title": i.title, "body": i.body,
             "summary": i.summary, "link": i.link, "published_at": to_db(i.published_at),
             "gathered_at": to_db(i.gathered_at)} for i in items])
    loaded, load_s = timed(lambda: issue.waiting(config, store))
    _, cluster_s = timed(lambda: cluster.find(loaded))
    sorter = Sorter(config)
    _, place_s = timed(lambda: [sorter.place(i) for i in loaded])
    draft, draft_s = timed(lambda: issue.draft(config, store))
    store.close()
    return {"load_s": load_s, "cluster_s": cluster_s, "place_s": place_s, "draft_s": draft_s,
            "shown": len(draft.items), "planned": len(draft.plan)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="Waiting items at full size.")
    parser.add_argument("--side-by-side", type=int, default=2_000, help="Items both ways are timed on.")
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()

    items, copies = make_items(args.items)
    subset = items[:args.side_by_side]
    log(f"side by side on {len(subset)} items")
    stories, lsh_small = timed(lambda: cluster.find(subset))
    merged_small = len(subset) - len(stories)
    pairs, quad_small = timed(lambda: quadratic(subset))
    log(f"full size: {len(items)} items")
    stories, lsh_full = timed(lambda: cluster.find(items))
    merged_full = len(items) - len(stories)
    with tempfile.TemporaryDirectory() as folder:
        drafted = draft_at_scale(items, Path(folder))
    scale = (len(items) / len(subset)) ** 2
    result = {
        "side_by_side_items": len(subset), "lsh_s": round(lsh_small, 3), "quadratic_s": round(quad_small, 3),
        "speedup": round(quad_small / lsh_small, 1), "lsh_merged": merged_small, "quadratic_pairs": pairs,
        "items": len(items), "copies_made": copies, "merged": merged_full, "cluster_s": round(lsh_full, 3),
        "quadratic_estimate_s": round(quad_small * scale, 1),
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in drafted.items()},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"clustering {len(subset)} items: LSH {lsh_small:.2f} s, every pair {quad_small:.2f} s "
          f"→ {result['speedup']}× faster (LSH merged {merged_small} copies, every-pair found {pairs} pairs)")
    print(f"clustering {len(items)} items: LSH {lsh_full:.2f} s, merged {merged_full} of {copies} copies made "
          f"(every pair would take about {result['quadratic_estimate_s']:.0f} s)")
    print(f"draft of {len(items)} waiting items: {drafted['draft_s']:.2f} s in all — load "
          f"{drafted['load_s']:.2f} s, cluster {drafted['cluster_s']:.2f} s, place {drafted['place_s']:.2f} s; "
          f"{drafted['shown']} items shown, {drafted['planned']} planned")


if __name__ == "__main__":
    main()
