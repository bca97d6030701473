"""The wheel carries the templates, the demo sources and config, and works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_wheel_ships_templates_and_runs_init_and_preview(tmp_path: Path) -> None:
    # No build isolation: the build backend comes from the test extra, not from the network mid-run.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("newsletter-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "newsletter/_bundled/templates/issue.mjml" in names
    assert "newsletter/_bundled/templates/issue.txt" in names
    assert "newsletter/_bundled/newsletter.toml" in names
    assert any(n.startswith("newsletter/_bundled/sources/inbox/") for n in names)
    assert "newsletter/py.typed" in names
    assert {"newsletter/starter/newsletter.toml", "newsletter/starter/inbox/welcome.md"} <= set(names)  # `init`
    assert {"newsletter/web/templates/base.html", "newsletter/web/templates/desk/preview.html",
            "newsletter/web/templates/mail/message.html"} <= set(names)  # the web app's pages
    assert {f"newsletter/locale/{language}/LC_MESSAGES/messages.{kind}"
            for language in ("en", "ru", "kk") for kind in ("po", "mo")} <= set(names)  # the compiled catalogs
    assert {"newsletter/_bundled/templates/welcome.mjml", "newsletter/_bundled/templates/notice.mjml"} <= set(names)
    code = "".join(zipfile.ZipFile(wheel).read(n).decode("utf-8") for n in names if n.endswith(".py"))
    assert "FastSink" not in code and "build_reference" not in code  # test and bench scaffolding stays in tests/
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    env = {**os.environ, "PYTHONPATH": str(target)}
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = "import newsletter, sys; print(newsletter.__file__)"
    where = subprocess.run([sys.executable, "-c", code], env=env, cwd=work, capture_output=True, text=True)
    assert where.stdout.startswith(str(target))  # the wheel's copy, not the checkout
    speaks = subprocess.run([sys.executable, "-c", "from newsletter import i18n; "
                             "print(i18n.translations('kk').gettext('View in browser'))"],
                            env=env, cwd=work, capture_output=True, text=True)
    assert speaks.stdout.strip() == "Браузерде ашу", speaks.stderr  # its catalogs load from the wheel
    init = subprocess.run([sys.executable, "-m", "newsletter", "init", "--demo", "brief"], env=env, cwd=work,
                          capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    gather = subprocess.run([sys.executable, "-m", "newsletter", "-q", "gather"], env=env, cwd=work / "brief",
                            capture_output=True, text=True, timeout=60)
    assert gather.returncode == 0, gather.stderr
    preview = subprocess.run([sys.executable, "-m", "newsletter", "preview", "--text"], env=env,
                             cwd=work / "brief", capture_output=True, text=True, timeout=60)
    assert preview.returncode == 0, preview.stderr
    assert "CENTRAL ASIA BRIEFING" in preview.stdout
    # A new newsletter, not the demo: the starter config and document ship too; the built-in templates render it.
    mine = subprocess.run([sys.executable, "-m", "newsletter", "init", "mine"], env=env, cwd=work,
                          capture_output=True, text=True, timeout=60)
    assert mine.returncode == 0, mine.stderr
    assert not (work / "mine" / "templates").exists()
    for command in (["-q", "gather"], ["preview", "--text"]):
        result = subprocess.run([sys.executable, "-m", "newsletter", *command], env=env, cwd=work / "mine",
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    assert "MY BRIEFING" in result.stdout
