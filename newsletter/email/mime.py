"""MIME by hand: quoted-printable bodies encoded in segments, and header lines.

``header`` is the one header builder for every mail we send (issues, test copies,
confirmations): unstructured text is RFC 2047-encoded when not ASCII, and a
``NamedAddress`` gets a display name that parses back as exactly that name (quoted when
it holds specials such as a comma, encoded-words when not ASCII) before an address
left as it is, UTF-8 for an internationalised one (RFC 6532; such a message needs
SMTPUTF8, see ``delivery.smtp``).

Each reader's copy of an issue differs from the next only in a few short values
(their name, address and links). ``Body`` quoted-printable-encodes a part once, in
segments around those values, so a reader's copy is a join of pre-encoded bytes
and a handful of freshly encoded short values.

Why the join is valid: every segment is encoded to end at a line boundary, either
after a hard line break (CRLF, the segment ended with a newline) or after a soft
line break (``=`` CRLF). A quoted-printable decoder removes soft line breaks and
decodes line by line, so decode(E(a) + E(b)) == decode(E(a)) + decode(E(b)) == a + b.
Within a segment, lines are at most 76 characters, ``=`` and every byte outside
printable ASCII are escaped, an escape is never split across lines, and a space or
tab before a hard line break is escaped (RFC 2045 §6.7).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

CRLF = "\r\n"
MAX_LINE = 76

# The literal form of each byte in quoted-printable: printable ASCII except "=" stays,
# space and tab stay (escaped separately when they end a line), the rest is =XX.
_QP = [chr(b) if (33 <= b <= 126 and b != 61) or b in (9, 32) else f"={b:02X}" for b in range(256)]
_PLAIN = re.compile(r"[\t -<>-~]*\Z")  # printable ASCII without "=" or newlines: nothing to escape


def quoted_printable(text: str) -> bytes:
    """Return ``text`` as quoted-printable (CRLF line breaks) ending at a line boundary.

    A text that ends with a newline ends with CRLF; any other non-empty text ends
    with a soft line break, so whatever follows starts on a fresh line.
    """
    if not text:
        return b""
    if _PLAIN.match(text):  # the common case for personal values: a name, an address, a URL
        return "".join(text[i:i + MAX_LINE - 1] + "=" + CRLF for i in range(0, len(text), MAX_LINE - 1)).encode()
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        if last and not line:
            break  # the text ended with a newline: the hard break is already written
        tokens = [_QP[b] for b in line.encode("utf-8")]
        if not last and tokens and tokens[-1] in (" ", "\t"):
            tokens[-1] = f"={ord(tokens[-1]):02X}"  # whitespace before a hard break would be stripped
        out.append(_fold("".join(tokens), soft_end=last))
        out.append("=" + CRLF if last else CRLF)
    return "".join(out).encode("ascii")


def _fold(encoded: str, *, soft_end: bool) -> str:
    """Return one encoded line with soft breaks so no line exceeds 76 characters.

    ``soft_end``: the line will end with a soft break, so its last piece has one
    character less. "=" only starts a three-character escape here, so backing up over
    an "=" in the last two places of a piece keeps every escape whole.
    """
    room = MAX_LINE - 1 if soft_end else MAX_LINE
    if len(encoded) <= room:
        return encoded
    pieces = []
    start = 0
    while len(encoded) - start > room:
        cut = start + MAX_LINE - 1  # leave room for the "=" of the soft break
        if encoded[cut - 1] == "=":
            cut -= 1
        elif encoded[cut - 2] == "=":
            cut -= 2
        pieces.append(encoded[start:cut])
        start = cut
    pieces.append(encoded[start:])
    return ("=" + CRLF).join(pieces)


class Body:
    """One text part encoded once, in segments around named placeholders.

    ``Body(text, {"email": "PLACEHOLDER-EMAIL"}).encode({"email": "a@b.org"})``
    returns the quoted-printable encoding of the text with the values filled in.
    ``transform`` prepares a value for this part (e.g. HTML escaping).
    """

    def __init__(self, text: str, placeholders: Mapping[str, str],
                 transform: Callable[[str], str] | None = None) -> None:
        by_marker = {marker: name for name, marker in placeholders.items()}
        pattern = "|".join(re.escape(m) for m in sorted(by_marker, key=len, reverse=True))
        pieces = re.split(f"({pattern})", text) if pattern else [text]
        self.chunks: list[bytes | str] = [
            by_marker[piece] if i % 2 else quoted_printable(piece) for i, piece in enumerate(pieces)
        ]
        self.chunks = [c for c in self.chunks if c != b""]
        self.names = tuple(dict.fromkeys(c for c in self.chunks if isinstance(c, str)))
        self.transform = transform or (lambda value: value)

    def encode(self, values: Mapping[str, str]) -> bytes:
        """Return the part's encoded body with ``values`` filled in."""
        return self.fill({name: quoted_printable(self.transform(values.get(name, ""))) for name in self.names})

    def fill(self, encoded: Mapping[str, bytes]) -> bytes:
        """Return the part's encoded body with values already encoded (and transformed) filled in."""
        return b"".join(c if isinstance(c, bytes) else encoded[c] for c in self.chunks)


def clean(value: str) -> str:
    """Return a header value on one line: no CR, LF or other controls can inject headers."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", value).split())


@dataclass(frozen=True)
class NamedAddress:
    """A display name and an address: ``header("To", NamedAddress("Ann, Lee", "ann@example.org"))``."""

    name: str
    address: str

    def __str__(self) -> str:
        """Return the mailbox as it goes in a header (the address cleaned of line breaks too)."""
        shown = phrase(self.name)
        address = clean(self.address)
        return f"{shown} <{address}>" if shown else address


# Words made of atoms (RFC 5322 atext) and single spaces go in as they are.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def phrase(name: str) -> str:
    """Return a display name as it goes before ``<address>``: parsed back, it is ``clean(name)``.

    Each run of words that are not ASCII (or could be read as an encoded-word, ``=?``)
    becomes RFC 2047 encoded-words; each run of ASCII words stays as atoms, or becomes one
    quoted string when it holds specials (``,`` ``"`` ``<`` ``@`` …), so a comma in a name
    never separates addresses. Encoding only what needs it keeps encoded-words next to
    each other only in long runs: there RFC 2047 readers drop the space between them,
    while Python's email parser (up to 3.13, CPython gh-128110) shows one.
    """
    runs: list[tuple[bool, list[str]]] = []  # (encoded, words)
    for word in clean(name).split():
        encode = not word.isascii() or "=?" in word
        if runs and runs[-1][0] == encode:
            runs[-1][1].append(word)
        else:
            runs.append((encode, [word]))
    return " ".join(_run(" ".join(words), encode) for encode, words in runs)


def _run(text: str, encode: bool) -> str:
    if encode:
        return encoded_words(text)
    if _ATOMS.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header(name: str, value: str | NamedAddress) -> bytes:
    """Return one header line, folded at spaces near 78 columns.

    Text is RFC 2047-encoded if not ASCII. The email package would turn a long URL into
    encoded-words, which breaks List-Unsubscribe; ASCII text is therefore folded by hand
    and never encoded. A ``NamedAddress`` keeps its address as it is: UTF-8 when not ASCII.
    """
    if isinstance(value, NamedAddress):
        text = str(value)
    else:
        text = clean(value)
        if not text.isascii():
            text = encoded_words(text)
    lines: list[str] = []
    line = f"{name}:"
    for word in text.split(" "):
        if len(line) + 1 + len(word) > 78 and line.strip() and not line.endswith(":"):
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return (CRLF.join(lines) + CRLF).encode("utf-8")


def encoded_words(text: str, limit: int = 36) -> str:
    """Return ``text`` as RFC 2047 base64 encoded-words of at most 60 characters each.

    Whole characters only go into each word (``limit`` UTF-8 bytes, 48 base64
    characters), so every word decodes on its own; words are separated by spaces,
    which a decoder drops between adjacent encoded-words.
    """
    words: list[str] = []
    chunk = b""
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > limit:
            words.append(chunk.decode("utf-8"))
            chunk = b""
        chunk += data
    if chunk:
        words.append(chunk.decode("utf-8"))
    return " ".join(f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)
