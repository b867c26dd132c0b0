"""Real servers on 127.0.0.1 for probe tests: an aiohttp app, raw misbehaving TCP servers, TLS, DNS."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import trustme
from aiohttp import web


async def start_app(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, shutdown_timeout=0.5)  # handlers that hang on purpose must not hold teardown
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    return runner, runner.addresses[0][1]


@contextlib.asynccontextmanager
async def raw_server(handler):
    """A plain asyncio TCP server with the given ``async handler(reader, writer)``."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        # Handlers may still be hanging on purpose; do not wait for them.


async def never_answers(reader, writer):
    await asyncio.sleep(3600)


async def answers_garbage(reader, writer):
    await reader.read(1024)
    writer.write(b"\x00\x17 this is not HTTP at all \xff\xfe\r\n\r\n")
    await writer.drain()
    writer.close()


async def closes_mid_body(reader, writer):
    await reader.read(1024)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nonly ten b")
    await writer.drain()
    writer.close()


class Certificates:
    """A private CA with a valid, an expiring (5 days left) and an expired certificate for 127.0.0.1/localhost."""

    def __init__(self, tmp_path):
        self.ca = trustme.CA()
        self.ca_file = str(tmp_path / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        now = dt.datetime.now(dt.timezone.utc)
        self.valid = self.ca.issue_cert("127.0.0.1", "localhost", not_after=now + dt.timedelta(days=90))
        self.soon = self.ca.issue_cert("127.0.0.1", "localhost", not_after=now + dt.timedelta(days=5))
        self.expired = self.ca.issue_cert("127.0.0.1", "localhost", not_before=now - dt.timedelta(days=30),
                                          not_after=now - dt.timedelta(days=3))

    def server_context(self, leaf) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        return context


class DnsStub(asyncio.DatagramProtocol):
    """Answers A queries from a dict; no records (NOERROR) for another type of a known name, as a
    resolver asking A and AAAA expects; NXDOMAIN for the rest."""

    def __init__(self, records: dict[str, list[str]]):
        self.records = records

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text()
        if name in self.records and question.rdtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text_list(name, 60, "IN", "A", self.records[name]))
        elif name not in self.records:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(reply.to_wire(), addr)


@contextlib.asynccontextmanager
async def dns_stub(records: dict[str, list[str]]):
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: DnsStub(records), local_addr=("127.0.0.1", 0))
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()
