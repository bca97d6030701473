"""Gather's memory stays bounded over feeds built to exhaust it (issue 13): under 400 MB at its peak.

The attack that found the leak: a 0.18 MB feed whose entity became 200 M characters
took ``gather`` to 1.2 GB. Here every such feed, and the other shapes that make a
parser keep much, is served by a real server to ``python -m newsletter gather`` in a
child process, whose peak resident size (its reader processes included) is measured
by the process that waited for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from helpers.hostile import write_corpus
from helpers.http import serve_folder

from newsletter.item import HTML_LIMIT, LINK_LIMIT, TEXT_LIMIT, TITLE_LIMIT, UID_LIMIT
from newsletter.store import Store

LIMIT_MB = 400
# Runs the command given after it and reports, as JSON, its exit status, its output and the
# largest resident size among it and the children it waited for (RUSAGE_CHILDREN of this process).
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=300)
print(json.dumps({"status": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""
REFUSED = {
    "long-comment": "declares XML entities",
    "root-in-comment": "declares XML entities",
    "billion-laughs": "declares XML entities",
    "quadratic-blowup": "declares XML entities",
    "many-attributes": "too many attributes",
    "deep-xml": "nests elements more than 1,000 deep",
    "many-items": "items (limit 10,000)",
    "many-namespaces": "namespace prefixes (limit 256)",
}
CUT = ["long-text", "long-title", "deep-html"]  # read, with a warning that says what was cut


def test_gather_over_hostile_feeds_stays_under_400_mb(tmp_path: Path) -> None:
    names = write_corpus(tmp_path / "feeds")
    with serve_folder(tmp_path / "feeds") as server:
        urls = {name: server.feed(f"{name}.xml") for name in names}
        sources = "".join(f'\n[[sources]]\nurl = "{url}"\n' for url in urls.values())
        (tmp_path / "newsletter.toml").write_text(
            f'[storage]\nurl = "sqlite:///state.db"\n\n[gather]\ntimeout = 60\n{sources}', encoding="utf-8")
        done = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "newsletter", "gather", "--json"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=360, check=True)
    result = json.loads(done.stdout)
    assert "Traceback" not in result["stderr"], result["stderr"]
    peak_mb = result["peak_kb"] / 1024
    print(f"gather peak over the hostile corpus: {peak_mb:.0f} MB")
    assert peak_mb < LIMIT_MB, f"gather peaked at {peak_mb:.0f} MB"

    report = {s["key"]: s for s in json.loads(result["stdout"])["sources"]}
    by_name = {name: report[url] for name, url in urls.items()}
    for name, reason in REFUSED.items():
        source = by_name[name]
        assert source["status"] == "error" and reason in source["error"], (name, source["error"])
        assert source["error"].startswith("refused: ") and "\n" not in source["error"]
    for name in CUT:
        source = by_name[name]
        assert source["status"] == "ok" and "cut to the size limits" in (source["warning"] or ""), (name, source)
        assert "\n" not in source["warning"]
    assert by_name["huge-attribute"]["status"] == "ok"  # its 9.9 MB enclosure address is nowhere stored

    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    with store.begin() as conn:
        items = [dict(r) for r in conn.execute(sa.select(store.t.items)).mappings()]
    store.close()
    assert {i["uid"] for i in items} == {"attr-1", "long-1", "long-2", "deep-2"}
    for item in items:
        assert len(item["title"]) <= TITLE_LIMIT and len(item["uid"]) <= UID_LIMIT
        assert len(item["body"]) <= TEXT_LIMIT and len(item["summary"]) <= TEXT_LIMIT
        assert len(item["content_html"] or "") <= HTML_LIMIT and len(item["link"] or "") <= LINK_LIMIT
    assert max(len(i["body"]) for i in items) > TEXT_LIMIT * 0.9  # cut at the limit, not dropped
