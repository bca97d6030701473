"""Delivery status notifications (RFC 3464) and ARF feedback reports (RFC 5965) read from mail.

``parse`` turns one message into a ``ParsedReport``: the kind of report, one ``Finding``
per recipient block (a hard bounce, a soft one, a complaint, or something to ignore
and why), and what the report returned of the original (its Message-ID, the tokens
of its List-Unsubscribe link). Nothing here touches the store; ``bounces`` applies.

A hard bounce is a permanent failure (``Action: failed``, status 5.x.x, or a bare
550/551/553; Exim's 5.0.0 is read from its diagnostic). Those that say the address
is gone (``GONE``: 5.1.1 no such user, 5.1.10 null MX, 5.1.2 and 5.4.4 no such
domain) are marked ``suppress``: the reader is bounced at once, as large senders
advise. The others count towards ``bounce_limit``. Policy refusals (5.7.x: spam,
blocked sender) and refusals of our own sender address (5.1.7, 5.1.8) say nothing
about the reader's address and count nothing. Delays and 4.x.x failures are soft.
Only ARF ``abuse`` is a complaint; other feedback types are ignored.

Bounded, whatever the bytes: a message over ``LIMIT`` bytes (1 MiB) is refused
unread (relays return the original's headers, or the message cut to some 100 KB);
every header field is cut to ``FIELD`` characters as it is read; a report naming
more than ``RECIPIENTS`` recipients is refused. Header fields are read with the
email package's ``compat32`` policy: the modern one's header parser took minutes
over 1 MiB of ``Content-Type`` parameters, and even ``compat32`` splits parameters in
quadratic time, which the cut keeps to milliseconds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.policy import Compat32
from typing import Any

from newsletter.error import BounceError

BOUNCE, SOFT, COMPLAINT, IGNORED = "bounce", "soft", "complaint", "ignored"
DSN, ARF, OTHER = "delivery report", "feedback report", "not a report"
_TOKEN = re.compile(r"/unsubscribe/([A-Za-z0-9_.\-]+)")
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LIMIT = 1 << 20  # bytes: a larger message is refused unread
FIELD = 16 << 10  # characters of a header field kept: real ones are a few hundred
RECIPIENTS = 100  # recipient blocks in one report, at most
GONE = ("5.1.1", "5.1.10", "5.1.2", "5.4.4")  # no such user, null MX, no such domain (twice): suppress at once
_SENDER = ("5.1.7", "5.1.8")  # our sender address refused: nothing to do with the reader


@dataclass(frozen=True)
class Finding:
    """What a report says about one recipient: bounce, soft, complaint or ignored, and why."""

    kind: str
    email: str = ""  # the Final-Recipient (or ARF Original-Rcpt-To); may be empty or redacted
    original: str = ""  # the Original-Recipient, when the relay kept it
    status: str = ""  # enhanced status code, or the ARF feedback type
    diagnostic: str = ""
    reason: str = ""
    suppress: bool = False  # a hard bounce saying the address is gone (``GONE``): no need to wait for the limit


@dataclass(frozen=True)
class ParsedReport:
    """One message read: what kind of report it is, its findings, what it says of the original."""

    kind: str
    key: str  # the report's own Message-ID, else a digest of its bytes
    findings: list[Finding] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # of the returned original, then References
    tokens: list[str] = field(default_factory=list)  # unsubscribe tokens in its List-Unsubscribe
    reason: str = ""  # why it is not a report


class _Bounded(Compat32):
    """The ``compat32`` policy with every header field cut to ``FIELD`` characters as the parser reads it."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        """Return the field's name and its value, cut to ``FIELD`` characters."""
        name, value = super().header_source_parse(sourcelines)
        return name, value[:FIELD]


_POLICY = _Bounded()


def parse(data: bytes) -> ParsedReport:
    """Read one message into a ParsedReport, or raise BounceError saying why it cannot be read."""
    if len(data) > LIMIT:
        raise BounceError(f"too large: over {LIMIT} bytes (1 MiB), the most a report may have")
    if not data.strip():
        raise BounceError("empty message")
    try:
        msg = message_from_bytes(data, policy=_POLICY)
        if not msg.keys():
            raise BounceError("not an email message: no header lines")
        key = [i for i in _ids(msg.get("Message-ID", ""))[:1] if len(i) <= 250]  # a longer one could not be kept
        key = key or [f"sha256:{hashlib.sha256(data).hexdigest()[:24]}"]
        report_type = _text(msg.get_param("report-type", header="content-type") or "")
        if msg.get_content_type() != "multipart/report" or report_type not in ("delivery-status", "feedback-report"):
            return ParsedReport(OTHER, key[0], reason=_not_a_report(msg, report_type))
        parts: list[Any] = list(msg.get_payload()) if msg.is_multipart() else []
        original = _original(parts)
        ids = _ids(original.get("Message-ID", "")) + _ids(msg.get("In-Reply-To", "")) + _ids(msg.get("References", ""))
        ids = ids[:50]  # a real report names its original once or twice; this many is already plenty
        tokens = _TOKEN.findall(str(original.get("List-Unsubscribe", "")))
        if report_type == "delivery-status":
            return ParsedReport(DSN, key[0], _delivery(parts), ids, tokens)
        return ParsedReport(ARF, key[0], _feedback(parts), ids, tokens)
    except BounceError:
        raise
    except Exception as e:  # noqa: BLE001 - the email package's own failures on hostile input: one line, never a traceback
        raise BounceError(f"cannot read the message: {type(e).__name__}: {_text(e)[:300]}") from None


def _not_a_report(msg: Message, report_type: str) -> str:
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no" or msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return "an automatic reply"
    if report_type:
        return f"a report of type {report_type[:100]}"
    return f"plain mail ({_text(msg.get_content_type())[:100]})"


def _ids(value: Any) -> list[str]:
    return re.findall(r"<[^<>\s]+>", _text(value))


def message_ids(value: Any) -> list[str]:
    """Return the ``<…>`` Message-IDs in a header's value (References may hold several), at most 50."""
    return _ids(str(value or "")[:FIELD])[:50]


def tokens(list_unsubscribe: Any) -> list[str]:
    """Return the unsubscribe tokens of the links in a List-Unsubscribe value."""
    return _TOKEN.findall(str(list_unsubscribe or "")[:FIELD])[:10]


def _original(parts: list[Any]) -> Any:
    """Return the headers of the returned original (an empty message when the report left it out)."""
    for part in parts:
        kind = part.get_content_type()
        payload = part.get_payload()
        if kind == "message/rfc822" and isinstance(payload, list) and payload:
            return payload[0]
        if kind == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            return HeaderParser(policy=_POLICY).parsestr(text.decode("utf-8", "replace").lstrip())
    return Message()


def _blocks(parts: list[Any], kinds: tuple[str, ...], limit: int) -> list[Any]:
    """Return the first ``limit`` field blocks of the first part of one of ``kinds`` (each a header-only message)."""
    part = next((p for p in parts if p.get_content_type() in kinds), None)
    if part is None:
        raise BounceError(f"a {kinds[0].split('/')[1]} report without its {kinds[0]} part")
    payload = part.get_payload()
    texts: list[str] = []
    blocks: list[Any] = []
    if isinstance(payload, list):  # parsed by the email package: blocks, the last one's body may hold more
        for block in payload[:limit]:
            blocks.append(block)
            if isinstance(block.get_payload(), str):
                texts.append(block.get_payload())
    else:
        texts.append((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
    parser = HeaderParser(policy=_POLICY)
    for text in texts:
        for chunk in re.split(r"\n[ \t]*\n", text):
            if len(blocks) >= limit:
                break
            if chunk.strip():
                blocks.append(parser.parsestr(chunk.strip() + "\n"))
    return [b for b in blocks if b.keys()]


def _address(value: Any) -> str:
    """Return the address of a ``type; address`` field (``rfc822; a@b``), without angle brackets."""
    text = _text(value).split(";", 1)[-1].strip().strip("<>").strip()
    return text if len(text) <= 320 else ""  # no address is longer (RFC 5321: 64 + 1 + 255)


def _text(value: Any) -> str:
    """Return a field as one line of text fit to store: no control characters, no undecodable bytes."""
    text = str(value or "").encode("utf-8", "replace").decode("utf-8")  # lone surrogates of 8-bit headers: "?"
    return " ".join(_CONTROL.sub(" ", text).split())


def _delivery(parts: list[Any]) -> list[Finding]:
    # One block about the message, then one per recipient: read one more than may be, to tell.
    blocks = _blocks(parts, ("message/delivery-status", "message/global-delivery-status"), RECIPIENTS + 2)
    recipients = [b for b in blocks if b.get("Final-Recipient") or b.get("Action")]
    if not recipients:
        raise BounceError("a delivery report with no recipient in it (no Final-Recipient or Action field)")
    if len(recipients) > RECIPIENTS:  # each of ours goes to one reader: a report naming hundreds is not about it
        raise BounceError(f"a delivery report naming more than {RECIPIENTS} recipients: not about one of our "
                          "messages, which each have one")
    return [_classify(b) for b in recipients]


def _classify(block: Any) -> Finding:
    """Return what one per-recipient block says: a hard bounce, a soft one, or nothing to count."""
    return classify(block.get("Action"), block.get("Status"), block.get("Diagnostic-Code"),
                    block.get("Final-Recipient"), block.get("Original-Recipient"))


def classify(action: Any, status: Any, diagnostic: Any, email: Any, original: Any = "") -> Finding:
    """Return what a recipient's action, status and diagnostic say: a hard bounce, a soft one, or nothing to count.

    The one rule for reports and for ESPs' events alike: each field is cut and cleaned
    here, whoever wrote it; an address may come as ``rfc822; a@b``.
    """
    action = _text(action).lower()[:100]
    diagnostic = _text(diagnostic).split(";", 1)[-1].strip()[:1000]
    found = _ENHANCED.search(_text(status)[:1000])
    status = found.group(0) if found else ""
    if status in ("", "5.0.0") and (in_diagnostic := _ENHANCED.search(diagnostic)):
        status = in_diagnostic.group(0)  # Exim says 5.0.0 and leaves the detail to the diagnostic
    email, original = _address(email), _address(original)
    finding = Finding(SOFT, email, original, status, diagnostic)
    bare = re.match(r"\s*([245])\d\d\b", diagnostic)
    if action == "delayed" or status.startswith("4") or (not status and bare and bare.group(1) == "4"):
        return finding
    if action != "failed":
        return Finding(IGNORED, email, original, status, diagnostic, f"action {action or 'missing'}")
    if _mailbox(status, bare.group(0).strip() if bare else ""):
        return Finding(BOUNCE, email, original, status or "5.0.0", diagnostic, suppress=status in GONE)
    return Finding(IGNORED, email, original, status, diagnostic,
                   "a refusal of the message or the sender, not of the address: not counted")


def _mailbox(status: str, code: str) -> bool:
    """Return whether a permanent failure is a refusal of the address (policy and sender refusals are not)."""
    if status and status != "5.0.0":
        return status.startswith("5.") and not status.startswith("5.7.") and status not in _SENDER
    return not code or code in ("550", "551", "553")


def _feedback(parts: list[Any]) -> list[Finding]:
    blocks = _blocks(parts, ("message/feedback-report",), 2)
    fields = blocks[0] if blocks else Message()
    kind = _text(fields.get("Feedback-Type")).lower()[:100]
    if not kind:
        raise BounceError("a feedback report without a Feedback-Type field")
    email = _address(fields.get("Original-Rcpt-To") or fields.get("Removal-Recipient"))
    agent = _text(fields.get("User-Agent"))[:1000]
    if kind != "abuse":
        return [Finding(IGNORED, email, "", kind, agent, f"feedback type {kind}: not a complaint")]
    return [Finding(COMPLAINT, email, "", kind, agent)]
