"""Delivery status notifications (RFC 3464) and ARF feedback reports (RFC 5965) read from mail.

``parse`` turns one message into a ``Parsed``: the kind of report, one ``Finding``
per recipient block (a hard bounce, a soft one, a complaint, or something to ignore
and why), and what the report returned of the original (its Message-ID, the tokens
of its List-Unsubscribe link). Nothing here touches the store; ``bounces`` applies.

A hard bounce is what ``smtp.Refused.mailbox`` calls one at send time: a failure
with status 5.1.x or 5.2.x (and 5.4.4, no such domain), or a bare 550/551/553;
Exim's 5.0.0 is read from its diagnostic. Policy refusals (5.7.x …) say nothing
about the address. Delays and 4.x.x failures are soft. Only ARF ``abuse`` is a
complaint; other feedback types are ignored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from typing import Any

from newsletter.error import BounceError

BOUNCE, SOFT, COMPLAINT, IGNORED = "bounce", "soft", "complaint", "ignored"
DSN, ARF, OTHER = "delivery report", "feedback report", "not a report"
_TOKEN = re.compile(r"/unsubscribe/([A-Za-z0-9_.\-]+)")
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class Finding:
    """What a report says about one recipient: bounce, soft, complaint or ignored, and why."""

    kind: str
    email: str = ""  # the Final-Recipient (or ARF Original-Rcpt-To); may be empty or redacted
    original: str = ""  # the Original-Recipient, when the relay kept it
    status: str = ""  # enhanced status code, or the ARF feedback type
    diagnostic: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Parsed:
    """One message read: what kind of report it is, its findings, what it says of the original."""

    kind: str
    key: str  # the report's own Message-ID, else a digest of its bytes
    findings: list[Finding] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # of the returned original, then References
    tokens: list[str] = field(default_factory=list)  # unsubscribe tokens in its List-Unsubscribe
    reason: str = ""  # why it is not a report


def parse(data: bytes) -> Parsed:
    """Read one message into a Parsed, or raise BounceError saying why it cannot be read."""
    if not data.strip():
        raise BounceError("empty message")
    try:
        msg = message_from_bytes(data, policy=policy.default)
        if not msg.keys():
            raise BounceError("not an email message: no header lines")
        key = _ids(msg.get("Message-ID", ""))[:1] or [f"sha256:{hashlib.sha256(data).hexdigest()[:24]}"]
        report_type = (msg.get_param("report-type", header="content-type") or "")
        if msg.get_content_type() != "multipart/report" or report_type not in ("delivery-status", "feedback-report"):
            return Parsed(OTHER, key[0], reason=_not_a_report(msg, str(report_type)))
        parts = list(msg.iter_parts())
        original = _original(parts)
        ids = _ids(original.get("Message-ID", "")) + _ids(msg.get("In-Reply-To", "")) + _ids(msg.get("References", ""))
        tokens = _TOKEN.findall(str(original.get("List-Unsubscribe", "")))
        if report_type == "delivery-status":
            return Parsed(DSN, key[0], _delivery(parts), ids, tokens)
        return Parsed(ARF, key[0], _feedback(parts), ids, tokens)
    except BounceError:
        raise
    except Exception as e:  # noqa: BLE001 - the email package's own failures on hostile input: one line, never a traceback
        raise BounceError(f"cannot read the message: {type(e).__name__}: {e}") from None


def _not_a_report(msg: Message, report_type: str) -> str:
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no" or msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return "an automatic reply"
    if report_type:
        return f"a report of type {report_type}"
    return f"plain mail ({msg.get_content_type()})"


def _ids(value: Any) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value))


def _original(parts: list[Any]) -> Any:
    """Return the headers of the returned original (an empty message when the report left it out)."""
    for part in parts:
        kind = part.get_content_type()
        payload = part.get_payload()
        if kind == "message/rfc822" and isinstance(payload, list) and payload:
            return payload[0]
        if kind == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            return HeaderParser(policy=policy.default).parsestr(text.decode("utf-8", "replace").lstrip())
    return Message()


def _blocks(parts: list[Any], kinds: tuple[str, ...]) -> list[Any]:
    """Return the field blocks of the first part of one of ``kinds`` (each block a header-only message)."""
    part = next((p for p in parts if p.get_content_type() in kinds), None)
    if part is None:
        raise BounceError(f"a {kinds[0].split('/')[1]} report without its {kinds[0]} part")
    payload = part.get_payload()
    texts: list[str] = []
    blocks: list[Any] = []
    if isinstance(payload, list):  # parsed by the email package: blocks, the last one's body may hold more
        for block in payload:
            blocks.append(block)
            if isinstance(block.get_payload(), str):
                texts.append(block.get_payload())
    else:
        texts.append((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
    parser = HeaderParser(policy=policy.default)
    for text in texts:
        blocks += [parser.parsestr(chunk.strip() + "\n") for chunk in re.split(r"\n[ \t]*\n", text) if chunk.strip()]
    return [b for b in blocks if b.keys()]


def _address(value: Any) -> str:
    """Return the address of a ``type; address`` field (``rfc822; a@b``), without angle brackets."""
    text = str(value or "").split(";", 1)[-1].strip()
    return text.strip("<>").strip()


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _delivery(parts: list[Any]) -> list[Finding]:
    blocks = _blocks(parts, ("message/delivery-status", "message/global-delivery-status"))
    recipients = [b for b in blocks if b.get("Final-Recipient") or b.get("Action")]
    if not recipients:
        raise BounceError("a delivery report with no recipient in it (no Final-Recipient or Action field)")
    return [_classify(b) for b in recipients]


def _classify(block: Any) -> Finding:
    """Return what one per-recipient block says: a hard bounce, a soft one, or nothing to count."""
    action = _text(block.get("Action")).lower()
    diagnostic = _text(block.get("Diagnostic-Code")).split(";", 1)[-1].strip()
    found = _ENHANCED.search(_text(block.get("Status")))
    status = found.group(0) if found else ""
    if status in ("", "5.0.0") and (in_diagnostic := _ENHANCED.search(diagnostic)):
        status = in_diagnostic.group(0)  # Exim says 5.0.0 and leaves the detail to the diagnostic
    email, original = _address(block.get("Final-Recipient")), _address(block.get("Original-Recipient"))
    finding = Finding(SOFT, email, original, status, diagnostic)
    bare = re.match(r"\s*([245])\d\d\b", diagnostic)
    if action == "delayed" or status.startswith("4") or (not status and bare and bare.group(1) == "4"):
        return finding
    if action != "failed":
        return Finding(IGNORED, email, original, status, diagnostic, f"action {action or 'missing'}")
    if _mailbox(status, bare.group(0).strip() if bare else ""):
        return Finding(BOUNCE, email, original, status or "5.0.0", diagnostic)
    return Finding(IGNORED, email, original, status, diagnostic,
                   "a refusal of the message or the sender, not of the address: not counted")


def _mailbox(status: str, code: str) -> bool:
    """Return whether a permanent failure says the address is bad (as ``smtp.Refused.mailbox`` does)."""
    if status and status != "5.0.0":
        subject = status.split(".")[1]
        return status.startswith("5.") and (subject in ("1", "2") or status == "5.4.4")  # 5.4.4: no such domain
    return not code or code in ("550", "551", "553")


def _feedback(parts: list[Any]) -> list[Finding]:
    blocks = _blocks(parts, ("message/feedback-report",))
    fields = blocks[0] if blocks else Message()
    kind = _text(fields.get("Feedback-Type")).lower()
    if not kind:
        raise BounceError("a feedback report without a Feedback-Type field")
    email = _address(fields.get("Original-Rcpt-To") or fields.get("Removal-Recipient"))
    agent = _text(fields.get("User-Agent"))
    if kind != "abuse":
        return [Finding(IGNORED, email, "", kind, agent, f"feedback type {kind}: not a complaint")]
    return [Finding(COMPLAINT, email, "", kind, agent)]
