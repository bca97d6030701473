"""Benchmark the editorial quality figures and the time to draft an issue, beside the previous algorithm.

In one run, on the same inputs, the clustering and placement of today's ``newsletter/edit``
against those of the commit before this work (``BEFORE``: its ``cluster.py`` and
``sections.py``, and the ``keywords.py`` and ``minhash.py`` they use, read with ``git show``
into a temporary folder):

* clustering: recall and precision of duplicate pairs on the labelled stories
  (tests/fixtures/editorial/stories), for the tuning part, the held-out part and all;
* placement: the share of labelled briefing paragraphs and feed stories placed as an
  editor would (tests/fixtures/editorial), both parts;
* time to draft an issue from 10,000 waiting items stored in SQLite: loading, clustering,
  placing and arranging the stories, both ways (each twice, alternating, the faster kept);
  and today's whole ``issue.draft``. Two
  kinds of items: news-like ones made from the labelled stories (names and figures
  replaced from a pool of made-up ones, a third of the words swapped, so they repeat as
  news does: some names often, most rarely; a story told by several sources and
  languages), and bench/cluster.py's random words.

    .venv/bin/python bench/editorial.py               # the figures
    .venv/bin/python bench/editorial.py --json        # one JSON document
    .venv/bin/python bench/editorial.py --items 2000  # a quicker run
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE)]

from cluster import make_items  # bench/cluster.py: the random-word items
from helpers.editorial import (
    Labelled,
    briefings,
    held_out,
    pair_scores,
    place_briefing,
    sections_settings,
    stories,
)

from newsletter.config import Config, parse
from newsletter.edit import cluster, issue
from newsletter.edit.issue import brief
from newsletter.edit.names import language
from newsletter.edit.sections import Placed, Sorter
from newsletter.item import Item, summarise
from newsletter.store import Store, to_db

BEFORE = "51e1c03"  # the commit whose newsletter/edit this work changed
_SYLLABLES = [("ka", "ка"), ("ra", "ра"), ("bek", "бек"), ("tu", "ту"), ("ly", "лы"), ("sa", "са"), ("mat", "мат"),
              ("nur", "нур"), ("zhan", "жан"), ("ol", "ол"), ("dar", "дар"), ("bay", "бай"), ("ko", "ко"),
              ("shi", "ши"), ("ren", "рен"), ("ta", "та"), ("gul", "гул"), ("er", "ер"), ("mu", "му"), ("pin", "пин")]
_NAME = re.compile(r"(?<=[a-zа-яёәғқңөұүһі,;] )[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][\w-]{3,}")
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"\b[a-zа-яёәғқңөұүһі]{4,}\b")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def before(folder: Path) -> tuple[ModuleType, ModuleType]:
    """Return the previous ``cluster`` and ``sections`` modules, read from git at ``BEFORE``.

    The modules of ``newsletter/edit`` they import (the keyword matcher, MinHash) are read from
    ``BEFORE`` too, so the previous way is timed as it was, not with today's shared parts.
    """
    modules: dict[str, ModuleType] = {}
    for name in ("keywords", "minhash", "cluster", "sections"):
        source = subprocess.run(["git", "show", f"{BEFORE}:newsletter/edit/{name}.py"], cwd=HERE.parent,
                                check=True, capture_output=True, text=True).stdout
        for shared in modules:
            source = source.replace(f"from newsletter.edit.{shared} import", f"from before_{shared} import")
            source = source.replace(f"from newsletter.edit import {shared}\n", f"import before_{shared} as {shared}\n")
        assert not re.search(r"^(?:from|import) newsletter\.edit\b", source, re.MULTILINE), f"{name} imports today's code"
        path = folder / f"before_{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"before_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there; the later modules import it
        spec.loader.exec_module(module)
        modules[name] = module
    return modules["cluster"], modules["sections"]


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


# --- quality -------------------------------------------------------------------------------------------

def cluster_figures(labelled: list[Labelled], find: Callable[[list[Item]], list[Any]]) -> dict[str, float]:
    clusters = [{i.id for i in c.items} for c in find([x.item for x in labelled])]
    figures = {}
    for part, name in ((False, "tuning"), (True, "held_out"), (None, "all")):
        scores = pair_scores(labelled, clusters, part=part)
        figures[f"{name}_recall"] = round(scores.recall, 3)
        figures[f"{name}_precision"] = round(scores.precision, 3)
    return figures


def story_placement(labelled: list[Labelled], stories_: list[Any], place: Callable[[Any], str]) -> dict[str, float]:
    """Return the share of story items placed as labelled, per part, each story placed by ``place``."""
    by_id = {x.item.id: x for x in labelled}
    right = {False: [0, 0], True: [0, 0]}
    for story in stories_:
        section = place(story)
        for i in story.items:
            part = right[by_id[i.id].held_out]
            part[0] += section == by_id[i.id].section
            part[1] += 1
    return {f"{'held_out' if p else 'tuning'}": round(r / n, 3) for p, (r, n) in right.items()}


def briefing_placement(folder: Path, old_sections: ModuleType, config: Config) -> dict[str, dict[str, float]]:
    """Return the share of briefing paragraphs placed as labelled, today's way (a real draft) and before."""
    old = old_sections.Sorter(config)
    counts: dict[str, dict[bool, list[int]]] = {"now": {False: [0, 0], True: [0, 0]},
                                                 "before": {False: [0, 0], True: [0, 0]}}
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    for n, b in enumerate(briefings()):
        placed_now = place_briefing(folder / f"b{n}", b)
        for k, ((expected, heading, text), now) in enumerate(zip(b.paragraphs, placed_now, strict=True)):
            item = Item(id=k, source_id=1, source_name="Editors", uid=f"{b.name}#{k}", title=heading or summarise(text, 90),
                        body=text, summary=text, link=None, label=heading, published_at=moment, gathered_at=moment)
            then = "lead" if k == 0 and not heading else old.place(item).section  # the lead rule was there before
            for way, got in (("now", now), ("before", then)):
                counts[way][b.held_out][0] += got == expected
                counts[way][b.held_out][1] += 1
    return {way: {("held_out" if p else "tuning"): round(r / n, 3) for p, (r, n) in parts.items()}
            for way, parts in counts.items()}


# --- drafting at scale -----------------------------------------------------------------------------------

def pseudonyms(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Return ``count`` made-up names, each in Latin and Cyrillic letters that transliterate alike."""
    names: set[tuple[str, str]] = set()
    while len(names) < count:
        parts = rng.sample(_SYLLABLES, rng.randint(2, 3)) + [rng.choice([("ov", "ов"), ("in", "ин"), ("", "")])]
        names.add(("".join(p[0] for p in parts).capitalize(), "".join(p[1] for p in parts).capitalize()))
    return sorted(names)


def news_like(count: int, seed: int = 11) -> list[Item]:
    """Return ``count`` news-like items made from the labelled stories (see the module's docstring)."""
    rng = random.Random(seed)
    templates = [[x for x in stories() if x.story == s] for s in dict.fromkeys(x.story for x in stories())]
    pool = pseudonyms(rng, 4000)
    weights = [1 / (rank + 1) for rank in range(len(pool))]  # some names in much of the news, most rarely
    vocabulary = {lang: sorted({w for t in templates for x in t for w in _WORD.findall(x.item.body)
                                if language(x.item.body) == lang}) for lang in ("en", "ru", "kk")}
    start = datetime(2026, 11, 1, tzinfo=UTC)
    sources: dict[str, int] = {}
    items: list[Item] = []
    while len(items) < count:
        template = rng.choice(templates)
        names: dict[str, tuple[str, str]] = {}  # this story's names and figures, the same in each telling
        digits: dict[str, str] = {}
        moment = start + timedelta(minutes=rng.randrange(14 * 24 * 60))
        for x in template:
            cyrillic = language(x.item.body) != "en"

            def name(m: re.Match[str], cyrillic: bool = cyrillic, names: dict[str, tuple[str, str]] = names) -> str:
                chosen = names.setdefault(m.group()[:4].casefold(), rng.choices(pool, weights)[0])
                return chosen[1] if cyrillic else chosen[0]

            def figure(m: re.Match[str], digits: dict[str, str] = digits) -> str:
                return digits.setdefault(m.group(), "".join(rng.choice("123456789") for _ in m.group()))

            def word(m: re.Match[str], lang: str = language(x.item.body)) -> str:
                return rng.choice(vocabulary[lang]) if rng.random() < 0.33 else m.group()

            title, body = (_WORD.sub(word, _DIGITS.sub(figure, _NAME.sub(name, t))) for t in (x.item.title, x.item.body))
            source = sources.setdefault(x.item.source_name, len(sources) + 1)
            n = len(items) + 1
            uid = f"{x.item.uid.partition('#')[0]}-{n}#{n}" if "#" in x.item.uid else f"wire{source}-{n}"
            items.append(Item(id=n, source_id=source, source_name=x.item.source_name, uid=uid, title=title, body=body,
                              summary=body[:300], link=None if "#" in uid else f"https://wire{source}.example/{n}",
                              label=x.item.label, published_at=moment, gathered_at=moment))
    return items[:count]


def stored(items: list[Item], folder: Path) -> tuple[Config, Store]:
    """Store ``items`` as waiting items of a newsletter in ``folder``; return its config and store."""
    source_ids = sorted({i.source_id for i in items})
    settings = sections_settings()
    settings["sources"] = [{"url": f"https://wire{n}.example/feed"} for n in source_ids]
    settings["storage"] = {"url": "sqlite:///bench.db"}
    config = parse(settings, root=folder, environ={})
    store = Store(folder / "bench.db")
    t = store.t
    with store.begin() as conn:
        for n in source_ids:
            conn.execute(t.sources.insert().values(id=n, key=f"https://wire{n}.example/feed", kind="rss",
                                                   name=f"Wire {n}", created_at=datetime(2026, 11, 1)))
        conn.execute(t.items.insert(), [
            {"id": i.id, "source_id": i.source_id, "uid": i.uid, "title": i.title, "body": i.body, "label": i.label,
             "summary": i.summary, "link": i.link, "published_at": to_db(i.published_at),
             "gathered_at": to_db(i.gathered_at)} for i in items])
    return config, store


def draft_times(items: list[Item], folder: Path, old_cluster: ModuleType, old_sections: ModuleType) -> dict[str, Any]:
    """Time drafting from ``items`` both ways, and today's whole ``issue.draft``."""
    config, store = stored(items, folder)
    limit = config.newsletter.summary_length

    def draft_before() -> int:
        waiting = issue.waiting(config, store)
        sorter = old_sections.Sorter(config)
        found = old_cluster.find(waiting)
        placed = [old_sections.Placed((first := brief(s.first, limit)), sorter.place(first), s.items[1:])
                  for s in found]
        return len(sorter.arrange(placed).sections)

    def draft_now() -> int:
        waiting = issue.waiting(config, store)
        sorter = Sorter(config)
        found = cluster.find(waiting, language=config.newsletter.language)
        placed = [Placed((first := brief(s.first, limit)), sorter.place(first, also=s.items[1:]), s.items[1:])
                  for s in found]
        return len(sorter.arrange(placed).sections)

    # Each way twice, alternating, and the faster of the two: other work on the machine costs neither.
    before_s = now_s = whole_s = float("inf")
    for _ in range(2):
        before_s = min(before_s, timed(draft_before)[1])
        now_s = min(now_s, timed(draft_now)[1])
        whole, took = timed(lambda: issue.draft(config, store))
        whole_s = min(whole_s, took)
    stories_before = len(old_cluster.find(items))
    stories_now = len(cluster.find(items, language="en"))
    store.close()
    return {"before_s": round(before_s, 2), "now_s": round(now_s, 2), "ratio": round(now_s / before_s, 2),
            "draft_s": round(whole_s, 2), "stories_before": stories_before, "stories_now": stories_now,
            "shown": len(whole.items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="Waiting items to draft from.")
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        old_cluster, old_sections = before(folder)
        labelled = stories()
        config = parse(sections_settings(), root=folder, environ={})
        log("clustering the labelled stories")
        result["clusters_now"] = cluster_figures(labelled, lambda items: cluster.find(items, language="en"))
        result["clusters_before"] = cluster_figures(labelled, old_cluster.find)
        log("placing the labelled stories and briefings")
        sorter, old = Sorter(config), old_sections.Sorter(config)
        result["stories_now"] = story_placement(labelled, cluster.find([x.item for x in labelled], language="en"),
                                                lambda s: sorter.place(brief(s.first, 300), also=s.items[1:]).section)
        result["stories_before"] = story_placement(labelled, old_cluster.find([x.item for x in labelled]),
                                                   lambda s: old.place(brief(s.first, 300)).section)
        placed = briefing_placement(folder, old_sections, config)
        result["briefings_now"], result["briefings_before"] = placed["now"], placed["before"]
        result["held_out_share"] = round(sum(held_out(x.story) for x in labelled) / len(labelled), 2)
        for kind, items in (("news_like", news_like(args.items)), ("random_words", make_items(args.items)[0])):
            log(f"drafting from {len(items)} {kind.replace('_', '-')} items")
            sub = folder / kind
            sub.mkdir()
            result[f"draft_{kind}"] = draft_times(items, sub, old_cluster, old_sections)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name in ("clusters", "stories", "briefings"):
        print(f"{name:9}  now: {result[f'{name}_now']}\n{'':9}  before: {result[f'{name}_before']}")
        if name == "clusters" and not result["clusters_before"]["all_recall"]:
            print(f"{'':9}  (before, no pair of the set merged: it caught only the same link, the same headline "
                  "or near-verbatim text, and the set's copies are paraphrases, translations and retellings)")
    for kind in ("news_like", "random_words"):
        d = result[f"draft_{kind}"]
        print(f"draft from {args.items} {kind.replace('_', '-')} items: load+cluster+place+arrange {d['now_s']:.2f} s "
              f"now, {d['before_s']:.2f} s before ({d['ratio']}x); whole draft {d['draft_s']:.2f} s; "
              f"{d['stories_now']} stories now, {d['stories_before']} before")


if __name__ == "__main__":
    main()
