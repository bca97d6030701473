"""``newsletter doctor``: every check against a real DNS server on loopback and a real SMTP server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.asgi import InProcess, log_in
from helpers.cli import one_line_error, run
from helpers.dnsserver import serve_dns
from helpers.domains import configure, ed25519_key, rsa_key, txt, zones
from helpers.newsletters import ADMIN_TOKEN
from helpers.smtp import Script, serve_script
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import doctor
from newsletter.app import Newsletter
from newsletter.config import load
from newsletter.daemon import Daemon
from newsletter.doctor import records
from newsletter.doctor.records import RecordError
from newsletter.email.dkim import Dkim
from newsletter.sink import free_port
from newsletter.web import create_app


@pytest.fixture
def relay() -> Iterator[str]:
    with serve_script() as server:
        yield server.url


def diagnose(folder: Path, zone: dict[str, str], smtp_url: str, *, key: Path | None,
             **options: str) -> dict[str, dict[str, object]]:
    with serve_dns(zone) as nameserver:
        configure(folder, smtp_url, nameserver, key=key, **options)
        result = run("doctor", "--json", cwd=folder)
    report = json.loads(result.stdout)
    assert result.returncode == (0 if report["ok"] else 1), result.stderr
    assert [c["name"] for c in report["checks"]] == list(doctor.NAMES)
    return {c["name"]: c for c in report["checks"]}


@pytest.mark.parametrize("make_key", [rsa_key, ed25519_key], ids=["rsa", "ed25519"])
def test_a_well_run_domain_passes_every_check(tmp_path: Path, relay: str, make_key) -> None:
    key = make_key(tmp_path)
    dkim = Dkim.load("brief", "example.org", key)
    with serve_dns(zones(dkim)) as nameserver:
        configure(tmp_path, relay, nameserver, key=key)
        result = run("doctor", cwd=tmp_path)
        as_json = json.loads(run("doctor", "--json", cwd=tmp_path).stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"✓ {name}" for name in doctor.NAMES]
    assert as_json["ok"] is True and all(check["ok"] for check in as_json["checks"])
    assert "(1 DNS lookup, ends in ~all)" in lines[1]
    assert f"({dkim.algorithm.split('-')[0]})" in lines[2]


FAULTS = {
    "no SPF": ("spf", {"spf": ""}, "no SPF record at example.org"),
    "two SPF": ("spf", {"other": 'example.org. IN TXT "v=spf1 -all"'}, "has 2 SPF records"),
    "open SPF": ("spf", {"spf": 'example.org. IN TXT "v=spf1 a mx ?all"'}, "ends in ?all"),
    "no all": ("spf", {"spf": 'example.org. IN TXT "v=spf1 a mx"'}, "ends in no all"),
    "bad SPF": ("spf", {"spf": 'example.org. IN TXT "v=spf1 a mx foo:bar -all"'}, "unknown term 'foo:bar'"),
    "too many lookups": ("spf", {"spf": 'example.org. IN TXT "v=spf1 a mx ptr exists:x.example.org '
                                        'a:b.example.org mx:c.example.org a mx ptr a include:_spf.relay.example.net '
                                        '-all"'}, "needs 11 DNS lookups"),
    "missing include": ("spf", {"spf": 'example.org. IN TXT "v=spf1 include:gone.example.org -all"'},
                        "names gone.example.org"),
    "no DKIM key": ("dkim", {"dkim": ""}, "no DKIM key at brief._domainkey.example.org: publish"),
    "revoked DKIM": ("dkim", {"dkim": 'brief._domainkey.example.org. IN TXT "v=DKIM1; p="'}, "key is revoked"),
    "no DMARC": ("dmarc", {"dmarc": ""}, "no DMARC record at _dmarc.example.org"),
    "bad DMARC": ("dmarc", {"dmarc": '_dmarc.example.org. IN TXT "v=DMARC1; p=maybe"'}, "p='maybe'"),
    "no MX": ("mx", {"mx": ""}, "example.org has no MX record: bounces to briefing@example.org"),
    "null MX": ("mx", {"mx": "example.org. IN MX 0 ."}, "null MX"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_each_dns_fault_fails_its_check_with_the_fix(tmp_path: Path, relay: str, fault: str) -> None:
    name, change, words = FAULTS[fault]
    key = ed25519_key(tmp_path)
    checks = diagnose(tmp_path, zones(Dkim.load("brief", "example.org", key), **change), relay, key=key)
    assert not checks[name]["ok"]
    assert words in str(checks[name]["detail"])
    assert all(check["ok"] for other, check in checks.items() if other != name), checks


def test_a_published_key_that_is_not_ours_fails(tmp_path: Path, relay: str) -> None:
    key, other = rsa_key(tmp_path), rsa_key(tmp_path, "other.pem")
    published = Dkim.load("brief", "example.org", other)
    checks = diagnose(tmp_path, zones(published), relay, key=key)
    assert not checks["dkim"]["ok"]
    assert "is not the public half of dkim.key_file" in str(checks["dkim"]["detail"])


def test_dkim_off_and_a_misaligned_signing_domain_are_named(tmp_path: Path, relay: str) -> None:
    key = ed25519_key(tmp_path)
    signer = Dkim.load("brief", "example.org", key)
    off = diagnose(tmp_path, zones(signer), relay, key=None)
    assert not off["dkim"]["ok"] and "DKIM is off" in str(off["dkim"]["detail"])
    assert off["dmarc"]["ok"] and "only SPF can align" in str(off["dmarc"]["detail"])
    zone = zones(signer)
    zone["other.net."] = f"brief._domainkey.other.net. IN TXT {txt(signer.public)}"
    misaligned = diagnose(tmp_path, zone, relay, key=key, dkim_domain="other.net")
    assert misaligned["dkim"]["ok"]
    assert not misaligned["dmarc"]["ok"]
    assert "DKIM d=other.net is not aligned with From example.org" in str(misaligned["dmarc"]["detail"])


def test_relay_faults_and_plain_http_unsubscribe_fail(tmp_path: Path) -> None:
    key = ed25519_key(tmp_path)
    zone = zones(Dkim.load("brief", "example.org", key))
    closed = diagnose(tmp_path, zone, f"smtp://127.0.0.1:{free_port()}", key=key,
                      base_url="http://news.example.org")
    assert not closed["relay"]["ok"] and "127.0.0.1" in str(closed["relay"]["detail"])
    assert not closed["unsubscribe"]["ok"] and "https" in str(closed["unsubscribe"]["detail"])
    with serve_script(Script(mail="553 5.7.1 Sender address rejected: not owned by user")) as server:
        refused = diagnose(tmp_path, zone, server.url, key=key, base_url="http://127.0.0.1:8000")
    assert not refused["relay"]["ok"]
    assert str(refused["relay"]["detail"]) == (
        f"{server.url} refused the sender briefing@example.org: 553 5.7.1 Sender address rejected: not owned by "
        "user; set newsletter.from to an address this relay lets its login send as")
    assert refused["unsubscribe"]["ok"] and "trying out" in str(refused["unsubscribe"]["detail"])


def test_a_dns_server_that_does_not_answer_fails_the_dns_checks(tmp_path: Path, relay: str) -> None:
    key = ed25519_key(tmp_path)
    configure(tmp_path, relay, f"127.0.0.1:{free_port()}", key=key)
    text = (tmp_path / "newsletter.toml").read_text().replace("timeout = 2\n", "timeout = 0.5\n")
    (tmp_path / "newsletter.toml").write_text(text)
    result = run("doctor", cwd=tmp_path)
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert [line.split(":")[0] for line in failed] == ["✗ spf", "✗ dkim", "✗ dmarc", "✗ mx"]
    assert all("127.0.0.1:" in line for line in failed)


def test_the_nameserver_may_be_a_host_name(tmp_path: Path, relay: str) -> None:
    key = ed25519_key(tmp_path)
    with serve_dns(zones(Dkim.load("brief", "example.org", key))) as nameserver:
        port = nameserver.rsplit(":", 1)[1]
        configure(tmp_path, relay, f"localhost:{port}", key=key)  # resolved once by the system, to 127.0.0.1
        result = run("doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line[:1] for line in result.stdout.splitlines()] == ["✓"] * len(doctor.NAMES)


UNRESOLVED = ("dns.nameserver: cannot resolve 'ns!.example.org' (Name or service not known); "
              "give its IP address or a name this machine can resolve")


def test_a_nameserver_that_does_not_resolve_fails_only_the_dns_checks(tmp_path: Path, relay: str) -> None:
    # The "!" makes the system's resolver refuse the name itself: no DNS question leaves this machine.
    configure(tmp_path, relay, "ns!.example.org:53", key=ed25519_key(tmp_path))
    result = run("doctor", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["✓ relay", "✗ spf", "✗ dkim", "✗ dmarc", "✗ mx",
                                                       "✓ unsubscribe"], lines
    assert lines[0].startswith(f"✓ relay: {relay} answered")
    assert lines[1:5] == [f"✗ {name}: {UNRESOLVED}" for name in ("spf", "dkim", "dmarc", "mx")]


def test_a_malformed_nameserver_is_one_line(tmp_path: Path, relay: str) -> None:
    configure(tmp_path, relay, "127.0.0.1:port", key=None)
    assert one_line_error(run("doctor", cwd=tmp_path)) == (
        "error: dns.nameserver: expected a host name or IP address with an optional :port, got '127.0.0.1:port'")


def test_spf_lookups_count_includes_and_redirects() -> None:
    spf = records.parse_spf("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a:mail.example.org/24 mx include:x.org "
                            "exists:%{i}.x.org ptr redirect=_spf.example.org exp=explain.example.org")
    assert spf.lookups == 6
    assert spf.includes == ["x.org"] and spf.redirect == "_spf.example.org"
    assert records.parse_spf("v=spf1 -all").ending == "-all"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_record_parsers_take_any_text(text: str) -> None:
    for parse in (records.parse_spf, records.parse_dkim, records.parse_dmarc):
        try:
            parse(text)
        except RecordError as e:
            assert "\n" not in str(e)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["v=spf1", "a", "mx", "-all", "include:x.org", "ip4:1.2.3.4", "redirect=y.org",
                                  "v=DMARC1;", "p=reject;", "adkim=s;", "k=ed25519;", "p=AAAA;", "=", ";", ":"]),
                max_size=40))
def test_record_parsers_take_any_arrangement_of_real_terms(words: list[str]) -> None:
    text = " ".join(words)
    for parse in (records.parse_spf, records.parse_dkim, records.parse_dmarc):
        try:
            parse(text)
        except RecordError:
            pass


def test_records_are_bounded_in_size_and_time() -> None:
    huge = "v=spf1 " + "a " * 100_000 + "-all"
    started = time.perf_counter()
    for parse in (records.parse_spf, records.parse_dkim, records.parse_dmarc):
        with pytest.raises(RecordError, match="refused above 4096"):
            parse(huge)
    worst = "v=DMARC1; " + "x=" + ";" * (records.LIMIT - 20)
    with pytest.raises(RecordError):
        records.parse_dmarc(worst)
    assert time.perf_counter() - started < 1.0


def test_the_desk_shows_each_check(tmp_path: Path, relay: str) -> None:
    key = ed25519_key(tmp_path)
    with serve_dns(zones(Dkim.load("brief", "example.org", key), dmarc="")) as nameserver:
        configure(tmp_path, relay, nameserver, key=key)
        app = Newsletter(load(tmp_path / "newsletter.toml", environ={"NEWSLETTER_ADMIN_TOKEN": ADMIN_TOKEN}))
        client = InProcess(create_app(app))
        assert client.get("/desk/doctor", follow_redirects=False).headers["location"] == "/desk/login"
        log_in(client)
        page = client.get("/desk/doctor").text
        app.close()
    assert "Some checks failed" in page
    assert page.count("<td>✓</td>") == 5 and page.count("<td>✗</td>") == 1
    assert "no DMARC record at _dmarc.example.org" in page


def test_the_daemon_logs_the_checks_before_its_first_send(tmp_path: Path, relay: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    key = ed25519_key(tmp_path)
    with serve_dns(zones(Dkim.load("brief", "example.org", key), mx="")) as nameserver:
        configure(tmp_path, relay, nameserver, key=key)
        app = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
        with caplog.at_level("INFO", logger="newsletter.daemon"):
            assert Daemon(app).examine() is False
        app.close()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("doctor:")]
    assert len(lines) == len(doctor.NAMES)
    assert [r.levelname for r in caplog.records if "✗" in r.getMessage()] == ["WARNING"]
    assert "doctor: ✗ mx: example.org has no MX record" in lines[4]
    assert app.config.schedule.doctor is True  # on unless turned off


def test_the_daemon_warns_and_goes_on_when_the_nameserver_does_not_resolve(tmp_path: Path, relay: str,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    configure(tmp_path, relay, "ns!.example.org:53", key=ed25519_key(tmp_path))  # refused by the system itself
    app = Newsletter(load(tmp_path / "newsletter.toml", environ={}))
    with caplog.at_level("INFO", logger="newsletter.daemon"):
        assert Daemon(app).examine() is False  # warnings, not an exception that stops `newsletter run`
    app.close()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.getMessage().startswith("doctor:")]
    assert [level for level, _ in lines] == ["INFO", "WARNING", "WARNING", "WARNING", "WARNING", "INFO"]
    assert lines[0][1].startswith("doctor: ✓ relay: ") and lines[5][1].startswith("doctor: ✓ unsubscribe: ")
    assert [message for _, message in lines[1:5]] == [f"doctor: ✗ {name}: {UNRESOLVED}"
                                                      for name in ("spf", "dkim", "dmarc", "mx")]
