"""A real DNS server on loopback (UDP and TCP) that answers from zones a test writes, via dnspython."""

from __future__ import annotations

import errno
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone


class Zones:
    """Zones in text form, e.g. ``{"example.org": "@ 300 IN TXT \\"v=spf1 -all\\""}``; answers authoritatively."""

    def __init__(self, zones: dict[str, str]) -> None:
        self.zones = {
            dns.name.from_text(origin): dns.zone.from_text(f"$TTL 300\n{text}", origin, relativize=False,
                                                            check_origin=False)
            for origin, text in zones.items()
        }

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        zone = next((z for origin, z in self.zones.items() if question.name.is_subdomain(origin)), None)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        node = zone.get_node(question.name)
        if node is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response.to_wire()
        found = node.get_rdataset(dns.rdataclass.IN, question.rdtype)
        if found is not None:
            response.answer.append(dns.rrset.from_rdata_list(question.name, found.ttl, list(found)))
        return response.to_wire()


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(self.server.zones.answer(data), self.client_address)  # type: ignore[attr-defined]


class _Tcp(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        size = int.from_bytes(self.rfile.read(2), "big")
        reply = self.server.zones.answer(self.rfile.read(size))  # type: ignore[attr-defined]
        self.wfile.write(len(reply).to_bytes(2, "big") + reply)


def _bound(attempts: int = 50) -> tuple[socketserver.ThreadingUDPServer, socketserver.ThreadingTCPServer, int]:
    """Bind UDP to a free port and TCP to the same one; when TCP's is taken (a busy machine's
    outgoing connection may hold it), close both and try another."""
    for _ in range(attempts):
        udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), _Udp)
        port = udp.server_address[1]
        tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Tcp, bind_and_activate=False)
        tcp.allow_reuse_address = True
        try:
            tcp.server_bind()
        except OSError as e:
            tcp.server_close()
            udp.server_close()
            if e.errno != errno.EADDRINUSE:
                raise
            continue
        tcp.server_activate()
        return udp, tcp, port
    raise OSError(errno.EADDRINUSE, f"no port free for both UDP and TCP after {attempts} tries")


@contextmanager
def serve_dns(zones: dict[str, str]) -> Iterator[str]:
    """Serve ``zones`` on 127.0.0.1 (UDP and TCP, one free port) and yield ``"127.0.0.1:port"``."""
    udp, tcp, port = _bound()
    for server in (udp, tcp):
        server.zones = Zones(zones)  # type: ignore[attr-defined]
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for server in (udp, tcp):
            server.shutdown()
            server.server_close()


__all__ = ["Zones", "serve_dns"]
