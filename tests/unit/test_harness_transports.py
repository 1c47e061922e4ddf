"""Harness targets asked over udp, tcp, dot and doh: the candidate's real listeners on loopback.

The server side is the candidate's own server (UDP, TCP, DoT, DoH listeners, queue, workers)
with a fake answerer; the client side is harness.exchange as the harness uses it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import dns.message
import pytest

from harness import cli as harness_cli
from harness.config import ConfigError, config_from_mapping
from harness.exchange import TRANSPORTS, Transport
from harness.records import Query
from harness.targets import AddressTarget
from resolver.frames import FrameQueue
from resolver.server import Listeners
from resolver.server.tls import ALPN_DOH, ALPN_DOT, server_context
from resolver.workers import Workers
from tests.unit.test_server import DelayAnswerer
from tests.unit.test_server_tls import PAIR

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def candidate(answerer: DelayAnswerer, **options: Any
                    ) -> AsyncIterator[dict[Transport, int]]:
    """The candidate's listeners; the port of each transport."""
    queue = FrameQueue()
    workers = Workers(queue, answerer, n=8)
    listeners = Listeners(queue, HOST, 0, dot_port=0, doh_port=0,
                          dot_tls=server_context(ALPN_DOT, pair=PAIR),
                          doh_tls=server_context(ALPN_DOH, pair=PAIR), **options)
    workers.start()
    try:
        _, port = await listeners.start()
        assert listeners.dot is not None and listeners.doh is not None
        yield {"udp": port, "tcp": port, "dot": listeners.dot.address[1],
               "doh": listeners.doh.address[1]}
    finally:
        await listeners.close()
        await workers.stop()


def query(name: str, qid: int) -> Query:
    message = dns.message.make_query(name, "A")
    message.id = qid
    return Query(qname=name, qtype=1, wire=message.to_wire())


async def test_every_transport_gets_the_same_answers_pipelined_on_one_connection() -> None:
    answerer = DelayAnswerer({f"s{i}": 0.05 * (i % 4) for i in range(30)})
    async with candidate(answerer) as ports:
        answers: dict[str, list[str]] = {}
        for transport in TRANSPORTS:
            target = AddressTarget(transport, HOST, ports[transport], timeout=5,
                                   transport=transport)
            await target.start()
            try:
                got = await asyncio.gather(*(target.ask(query(f"S{i}.example.", 1000 + i))
                                             for i in range(30)))
            finally:
                await target.stop()
            assert all(a.error is None and a.wire is not None for a in got), \
                [a.error for a in got]
            replies = [dns.message.from_wire(a.wire or b"") for a in got]
            assert [r.id for r in replies] == [1000 + i for i in range(30)]  # IDs given back
            answers[transport] = [r.question[0].name.to_text() + " " + r.answer[0][0].to_text()
                                  for r in replies]
            if transport != "udp":  # pipelined on one connection (HTTP/2 streams for doh)
                assert target.exchange.stats["connections"] == 1, transport
        assert answers["tcp"] == answers["udp"] == answers["dot"] == answers["doh"]
        assert answers["udp"][3] == "S3.example. 192.0.2.1"


async def test_a_closed_connection_is_opened_again_and_http_errors_are_reported() -> None:
    async with candidate(DelayAnswerer(), idle_timeout=0.2) as ports:
        for transport in ("tcp", "dot", "doh"):
            target = AddressTarget(transport, HOST, ports[transport], timeout=5,
                                   transport=transport)
            await target.start()
            try:
                assert (await target.ask(query("one.example.", 1))).error is None
                await asyncio.sleep(0.6)  # the server closes the idle connection
                assert (await target.ask(query("two.example.", 2))).error is None
                assert target.exchange.stats["connections"] == 2, transport
            finally:
                await target.stop()
        wrong = AddressTarget("doh", HOST, ports["doh"], timeout=5, transport="doh",
                              doh_path="/elsewhere")
        await wrong.start()
        try:
            assert (await wrong.ask(query("x.example.", 3))).error == "network: doh: HTTP 404"
        finally:
            await wrong.stop()


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    harness_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["run", *argv])


def test_transport_from_yaml_keys_and_the_flag() -> None:
    config = config_from_mapping({
        "candidate": {"address": "127.0.0.12:8853", "transport": "dot"},
        "references": [{"name": "doh", "kind": "address", "listen": "127.0.0.1:8443",
                        "transport": "doh", "doh_path": "/q"},
                       {"kind": "unbound", "listen": "127.55.0.1:5053", "transport": "tcp"}]})
    assert config.candidate.transport == "dot"
    assert [(r.transport, r.doh_path) for r in config.references] == [
        ("doh", "/q"), ("tcp", "/dns-query")]
    config = harness_cli.config_from_args(_args(
        "--candidate", "127.0.0.12:8443", "--transport", "candidate=doh",
        "--reference", "mine=address@127.0.0.1:853", "--transport", "mine=dot",
        "--reference", "unbound@127.55.0.1:5053", "--transport", "unbound=tcp"))
    assert config.candidate.transport == "doh"
    assert [r.transport for r in config.references] == ["dot", "tcp"]


@pytest.mark.parametrize(("data", "message"), [
    ({"candidate": {"transport": "dot"}},
     "candidate.transport: dot: the in-process candidate (give candidate.address) is asked "
     "over udp or tcp only"),
    ({"references": [{"kind": "kresd", "listen": "127.55.0.2:5053", "transport": "doh"}]},
     "references[0].transport: doh: a managed kresd is asked over udp or tcp only"),
    ({"candidate": {"address": "127.0.0.12:53", "transport": "quic"}},
     "candidate.transport: 'quic' is not one of udp, tcp, dot, doh"),
    ({"candidate": {"address": "127.0.0.12:53", "doh_path": "dns"}},
     "candidate.doh_path: 'dns': expected /PATH without a query"),
])
def test_bad_transport_keys_are_named(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        config_from_mapping(data)
    assert message in str(e.value)


def test_transport_flag_errors_name_the_flag() -> None:
    for argv, message in ((("--transport", "nobody=dot"), "--transport: no target named "
                           "'nobody' (targets: candidate)"),
                          (("--transport", "dot"), "--transport: 'dot' is not NAME=TRANSPORT")):
        with pytest.raises(ConfigError) as e:
            harness_cli.config_from_args(_args(*argv))
        assert message in str(e.value)
