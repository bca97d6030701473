"""`newsletter serve` and `newsletter demo --serve` as real processes on free ports, stopped by a signal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ADMIN = "serve-test-token-0123456789"


@pytest.fixture
def scaffold(tmp_path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "newsletter", "init", "--demo", "brief"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    return tmp_path / "brief"


def start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return subprocess.Popen([sys.executable, "-m", "newsletter", *args], cwd=cwd, env={**environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_until(process: subprocess.Popen[str], pattern: str) -> tuple[re.Match[str], list[str]]:
    """Read stdout line by line until ``pattern`` matches (the process prints it when it is ready)."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found, seen
    raise AssertionError(f"process ended first: {''.join(seen)} {process.stderr.read() if process.stderr else ''}")


def mail_listed(url: str, count: int, timeout: float = 60) -> list[str]:
    """Return the mail view's links once it lists ``count`` messages (or ``timeout`` passed).

    A sign-up is answered before its confirmation is mailed (the answer must not depend on
    the address's state), so the mail view is read again until that mail has arrived.
    """
    deadline = time.monotonic() + timeout
    while True:
        links = re.findall(r'<a href="/mail/\d+">', httpx.get(url + "/mail/").text)
        if len(links) >= count or time.monotonic() > deadline:
            return links
        time.sleep(0.05)


def stop(process: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    """Signal the process, wait for it to end; return its exit status and what it wrote to stderr."""
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    return process.returncode, stderr


def test_serve_runs_the_web_app_until_stopped(scaffold: Path) -> None:
    process = start("serve", "--port", "0", cwd=scaffold, env={"NEWSLETTER_ADMIN_TOKEN": ADMIN})
    try:
        found, _ = read_until(process, r"at (http://127\.0\.0\.1:\d+)/ ")
        url = found.group(1)
        assert "Subscribe to Central Asia Briefing" in httpx.get(url + "/").text
        assert httpx.get(url + "/api/openapi.json").json()["paths"]["/api/subscribe"]
        login = httpx.post(url + "/desk/login", data={"token": ADMIN})
        assert login.status_code == 303 and login.headers["location"] == "/desk/"
        assert httpx.get(url + "/api/subscribers", headers={"Authorization": f"Bearer {ADMIN}"}).json()["total"] == 0
    finally:
        code, _ = stop(process, signal.SIGTERM)
    assert code == -signal.SIGTERM  # uvicorn finishes its requests, then ends by the signal it got


def test_serve_reports_a_busy_port_in_one_line(scaffold: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "newsletter", "serve", "--port", str(port)], cwd=scaffold,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith(f"error: cannot listen on 127.0.0.1:{port}")


def test_demo_serve_keeps_the_sink_and_shows_the_mail(scaffold: Path) -> None:
    process = start("demo", "--serve", "--port", "0", "--out", "demo", cwd=scaffold)
    try:
        found, lines = read_until(process, r"mail view: (http://127\.0\.0\.1:\d+)/mail/ .*admin token: (\S+)\)")
        url, token = found.group(1), found.group(2)
        assert any("issue 1 sent: 3 sent" in line for line in lines)
        mail = httpx.get(url + "/mail/")
        assert mail.status_code == 200 and len(re.findall(r'<a href="/mail/\d+">', mail.text)) == 3
        first = httpx.get(url + "/mail/1")
        assert "Central Asia Briefing" in first.text and 'src="/mail/1.html"' in first.text
        html = httpx.get(url + "/mail/1.html").text
        unsubscribe = re.search(rf'href="{re.escape(url)}(/unsubscribe/[^"]+)"', html)
        assert unsubscribe, "the demo's links point at the demo's web app"
        assert httpx.get(url + unsubscribe.group(1)).status_code == 200
        assert httpx.post(url + "/subscribe", data={"email": "visitor@example.org"}).status_code == 200
        assert len(mail_listed(url, 4)) == 4  # the confirmation went to the sink
        assert httpx.post(url + "/desk/login", data={"token": token}).status_code == 303
    finally:
        code, stderr = stop(process, signal.SIGINT)
    assert code == 130 and stderr.rstrip().endswith("interrupted")  # Ctrl-C, as on a terminal
    assert len(list((scaffold / "demo" / "mail").glob("*.eml"))) == 4
