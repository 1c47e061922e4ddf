"""harness.intake.dnstap: Frame Streams handshakes, dnstap messages, garbage and truncation.

The producer here is built from ``fstrm`` and ``dnstap_pb`` (the integration tests use real
ones: Unbound, ``fstrm_replay``, ``fstrm_capture``).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from pathlib import Path

import dns.message
import dnstap_pb
import fstrm
import pytest

from harness.config import DnstapConfig
from harness.fakes import RecordingSink
from harness.intake.dnstap import CONTENT_TYPE, DnstapIntake, control_frame, data_frame


def tap(kind: int, wire: bytes, *, client: bytes = b"\x7f\x00\x00\x07", port: int = 3333,
        when: int | None = 1_700_000_000, protocol: int = dnstap_pb.UDP) -> bytes:
    frame = dnstap_pb.Dnstap()
    frame.type = dnstap_pb.Dnstap.MESSAGE
    frame.identity = b"staging"
    message = frame.message
    message.type = kind
    message.socket_family = dnstap_pb.INET
    message.socket_protocol = protocol
    message.query_address = client
    message.query_port = port
    if when is not None:
        message.query_time_sec = when
        message.query_time_nsec = 500_000_000
    if kind == dnstap_pb.Message.CLIENT_QUERY:
        message.query_message = wire
    else:
        message.response_message = wire
    return bytes(frame.SerializeToString())


def query(name: str) -> dns.message.Message:
    return dns.message.make_query(name, "A")


def stream(payloads: list[bytes], *, start: bool = True, stop: bool = True) -> bytes:
    out = control_frame(fstrm.FSTRM_CONTROL_START) if start else b""
    out += b"".join(data_frame(p) for p in payloads)
    if stop:
        out += control_frame(fstrm.FSTRM_CONTROL_STOP, None)
    return out


async def read_control(reader: asyncio.StreamReader) -> tuple[int, list[bytes]]:
    escape, length = struct.unpack("!II", await reader.readexactly(8))
    assert escape == 0
    body = await reader.readexactly(length)
    codec = fstrm.FstrmCodec()
    assert codec.append_and_process(b"\0\0\0\0" + struct.pack("!I", length) + body)
    ctrl, types, _ = codec.decode()
    return int(ctrl), list(types)


async def wait_for(predicate: object, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def bidirectional(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        payloads: list[bytes]) -> None:
    writer.write(control_frame(fstrm.FSTRM_CONTROL_READY))
    await writer.drain()
    assert await read_control(reader) == (fstrm.FSTRM_CONTROL_ACCEPT, [CONTENT_TYPE])
    writer.write(stream(payloads))
    await writer.drain()
    assert (await read_control(reader))[0] == fstrm.FSTRM_CONTROL_FINISH
    writer.close()


async def test_unix_socket_bidirectional(tmp_path: Path) -> None:
    path = tmp_path / "dnstap.sock"
    intake = DnstapIntake(DnstapConfig(socket=path))
    sink = RecordingSink()
    await intake.start(sink)
    q = query("www.example.lab.")
    reply = dns.message.make_response(q)
    try:
        reader, writer = await asyncio.open_unix_connection(str(path))
        await bidirectional(reader, writer, [
            tap(dnstap_pb.Message.CLIENT_QUERY, q.to_wire()),
            tap(dnstap_pb.Message.CLIENT_RESPONSE, reply.to_wire()),
            tap(dnstap_pb.Message.RESOLVER_QUERY, q.to_wire()),
        ])
        await wait_for(lambda: intake.stats["stops"] == 1)
        assert len(sink.queries) == 1
        got = sink.queries[0]
        assert (got.qname, got.client, got.client_port) == ("www.example.lab.", "127.0.0.7", 3333)
        assert got.seen_at == pytest.approx(1_700_000_000.5)
        assert sink.staged == [(("127.0.0.7", 3333, q.id, "www.example.lab.", 1),
                                reply.to_wire())]
        assert intake.stats["ignored"] == 1 and intake.stats["connections"] == 1
    finally:
        await intake.close()
    assert not path.exists()


async def test_tcp_and_several_connections() -> None:
    intake = DnstapIntake(DnstapConfig(tcp=("127.0.0.1", 0)))
    sink = RecordingSink()
    await intake.start(sink)
    assert intake.address is not None
    try:
        async def client(n: int) -> None:
            reader, writer = await asyncio.open_connection(*intake.address)
            await bidirectional(reader, writer, [
                tap(dnstap_pb.Message.CLIENT_QUERY, query(f"c{n}-{i}.lab.").to_wire())
                for i in range(50)])

        await asyncio.gather(*(client(n) for n in range(4)))
        await wait_for(lambda: len(sink.queries) == 200)
        assert intake.stats["streams"] == 4 and intake.stats["queries"] == 200
    finally:
        await intake.close()


async def test_unidirectional_sender(tmp_path: Path) -> None:
    path = tmp_path / "u.sock"
    intake = DnstapIntake(DnstapConfig(socket=path))
    sink = RecordingSink()
    await intake.start(sink)
    try:
        _, writer = await asyncio.open_unix_connection(str(path))
        writer.write(stream([tap(dnstap_pb.Message.CLIENT_QUERY, query("u.lab.").to_wire())]))
        await writer.drain()
        await wait_for(lambda: intake.stats["stops"] == 1)
        writer.close()
        assert [q.qname for q in sink.queries] == ["u.lab."]
    finally:
        await intake.close()


async def test_garbage_and_truncated_frames_are_counted_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "g.sock"
    intake = DnstapIntake(DnstapConfig(socket=path, max_frame=4096))
    sink = RecordingSink()
    await intake.start(sink)
    good = tap(dnstap_pb.Message.CLIENT_QUERY, query("good.lab.").to_wire())
    try:
        # 1. garbage payloads inside a valid stream: skipped, the stream goes on
        reader, writer = await asyncio.open_unix_connection(str(path))
        await bidirectional(reader, writer, [
            b"\xff\xfe garbage",  # not protobuf
            good[: len(good) // 2],  # a cut protobuf
            tap(dnstap_pb.Message.CLIENT_QUERY, b"\x00\x01bad dns"),  # bad DNS inside
            dnstap_pb.Dnstap(type=dnstap_pb.Dnstap.MESSAGE).SerializeToString(),  # no message
            good,
        ])
        await wait_for(lambda: intake.stats["stops"] == 1)
        assert [q.qname for q in sink.queries] == ["good.lab."]
        assert intake.stats["bad_frames"] == 3 and intake.stats["malformed"] == 1
        # 2. a connection cut inside a frame
        _, writer = await asyncio.open_unix_connection(str(path))
        writer.write(stream([good], stop=False) + struct.pack("!I", 500) + b"abc")
        await writer.drain()
        writer.close()
        await wait_for(lambda: intake.stats["truncated"] == 1)
        # 3. an absurd frame length ends that connection
        _, writer = await asyncio.open_unix_connection(str(path))
        writer.write(stream([], stop=False) + struct.pack("!I", 1 << 30))
        await writer.drain()
        await wait_for(lambda: intake.stats["oversized"] == 1)
        writer.close()
        # 4. data before START, a bad control frame, wrong content type
        for junk in (data_frame(good),
                     b"\0\0\0\0" + struct.pack("!I", 3) + b"abc",
                     control_frame(fstrm.FSTRM_CONTROL_START, b"protobuf:other")):
            _, writer = await asyncio.open_unix_connection(str(path))
            writer.write(junk)
            await writer.drain()
            writer.close()
        await wait_for(lambda: intake.stats["handshake_errors"] == 3)
        # 5. and the listener still takes a good stream
        reader, writer = await asyncio.open_unix_connection(str(path))
        await bidirectional(reader, writer, [good])
        await wait_for(lambda: len(sink.queries) == 3)  # 1 + the one before the cut + this
    finally:
        await intake.close()


async def test_ready_without_dnstap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sock"
    intake = DnstapIntake(DnstapConfig(socket=path))
    await intake.start(RecordingSink())
    try:
        reader, writer = await asyncio.open_unix_connection(str(path))
        writer.write(control_frame(fstrm.FSTRM_CONTROL_READY, b"protobuf:other"))
        await writer.drain()
        assert await reader.read() == b""  # closed without ACCEPT
        writer.close()
        assert intake.stats["handshake_errors"] == 1
    finally:
        await intake.close()


async def test_dnstap_file(tmp_path: Path) -> None:
    path = tmp_path / "capture.fstrm"
    payloads = [tap(dnstap_pb.Message.CLIENT_QUERY, query(f"f{i}.lab.").to_wire())
                for i in range(30)]
    path.write_bytes(stream(payloads))
    intake = DnstapIntake(DnstapConfig(file=path))
    sink = RecordingSink()
    await intake.start(sink)
    await asyncio.wait_for(intake.wait(), 5)
    assert len(sink.queries) == 30 and intake.done == intake.total == path.stat().st_size
    assert intake.finite
    await intake.close()


async def test_truncated_and_garbage_files(tmp_path: Path) -> None:
    payloads = [tap(dnstap_pb.Message.CLIENT_QUERY, query(f"t{i}.lab.").to_wire())
                for i in range(10)]
    whole = stream(payloads)
    cut = tmp_path / "cut.fstrm"
    cut.write_bytes(whole[: len(whole) - 40])
    garbage = tmp_path / "garbage.fstrm"
    garbage.write_bytes(b"this is not frame streams at all" * 10)
    sink = RecordingSink()
    first = DnstapIntake(DnstapConfig(file=cut))
    await first.start(sink)
    await asyncio.wait_for(first.wait(), 5)
    assert first.stats["truncated"] == 1 and 8 <= len(sink.queries) <= 9
    second = DnstapIntake(DnstapConfig(file=garbage))
    await second.start(sink)
    await asyncio.wait_for(second.wait(), 5)
    assert second.stats["oversized"] + second.stats["handshake_errors"] == 1
    with pytest.raises(OSError, match="cannot read the dnstap file"):
        await DnstapIntake(DnstapConfig(file=tmp_path / "missing")).start(sink)


async def test_transport_as_it_arrived(tmp_path: Path) -> None:
    """A query the staging resolver took over TCP (or DoT, DoH) is marked for TCP replay."""
    path = tmp_path / "capture.fstrm"
    protocols = [dnstap_pb.UDP, dnstap_pb.TCP, dnstap_pb.DOT, dnstap_pb.DOH,
                 dnstap_pb.DNSCryptUDP, dnstap_pb.DNSCryptTCP]
    payloads = [tap(dnstap_pb.Message.CLIENT_QUERY, query(f"t{i}.lab.").to_wire(), protocol=p)
                for i, p in enumerate(protocols)]
    path.write_bytes(stream(payloads))
    intake = DnstapIntake(DnstapConfig(file=path))
    sink = RecordingSink()
    await intake.start(sink)
    await asyncio.wait_for(intake.wait(), 5)
    await intake.close()
    assert [q.tcp for q in sink.queries] == [False, True, True, True, False, True]


async def test_tcp_peers_outside_the_allow_list_are_refused() -> None:
    import ipaddress

    intake = DnstapIntake(DnstapConfig(tcp=("127.0.0.1", 0),
                                       allow=(ipaddress.ip_network("127.9.0.0/16"),)))
    sink = RecordingSink()
    await intake.start(sink)
    assert intake.address is not None
    try:
        reader, writer = await asyncio.open_connection(*intake.address, local_addr=("127.0.0.1", 0))
        assert await asyncio.wait_for(reader.read(), 3) == b""  # closed on us at once
        writer.close()
        allowed_reader, allowed_writer = await asyncio.open_connection(
            *intake.address, local_addr=("127.9.0.1", 0))
        await bidirectional(allowed_reader, allowed_writer, [
            tap(dnstap_pb.Message.CLIENT_QUERY, query("y.lab.").to_wire())])
        await wait_for(lambda: len(sink.queries) == 1)
        assert intake.stats["refused_peer"] == 1 and sink.queries[0].qname == "y.lab."
    finally:
        await intake.close()


async def test_tls_with_client_certificates(tls_files: dict[str, Path]) -> None:
    import ssl

    from harness.config import TlsConfig

    intake = DnstapIntake(DnstapConfig(tcp=("127.0.0.1", 0), tls=TlsConfig(
        cert=tls_files["cert"], key=tls_files["key"], client_ca=tls_files["ca"])))
    sink = RecordingSink()
    await intake.start(sink)
    assert intake.address is not None and "TLS" in intake.describe()

    def client(cert: str, key: str) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=tls_files["ca"])
        context.load_cert_chain(tls_files[cert], tls_files[key])
        return context

    try:
        reader, writer = await asyncio.open_connection(
            *intake.address, ssl=client("client_cert", "client_key"),
            server_hostname="shadow.test")
        await bidirectional(reader, writer, [
            tap(dnstap_pb.Message.CLIENT_QUERY, query(f"tls{i}.lab.").to_wire(),
                protocol=dnstap_pb.DOT) for i in range(5)])
        await wait_for(lambda: len(sink.queries) == 5)
        assert all(q.tcp for q in sink.queries)
        # a certificate from another CA, and none at all: no frame gets through
        for context in (client("intruder_cert", "intruder_key"),
                        ssl.create_default_context(cafile=tls_files["ca"])):
            with contextlib.suppress(ssl.SSLError, ConnectionError, OSError):
                reader, writer = await asyncio.open_connection(
                    *intake.address, ssl=context, server_hostname="shadow.test")
                writer.write(control_frame(fstrm.FSTRM_CONTROL_READY))
                await writer.drain()
                assert await asyncio.wait_for(reader.read(), 3) == b""
                writer.close()
        plain_reader, plain_writer = await asyncio.open_connection(*intake.address)
        plain_writer.write(control_frame(fstrm.FSTRM_CONTROL_READY))  # no TLS at all
        with contextlib.suppress(ConnectionError):
            assert await asyncio.wait_for(plain_reader.read(), 12) == b""
        plain_writer.close()
        await asyncio.sleep(0.1)
        assert len(sink.queries) == 5 and intake.stats["streams"] == 1
    finally:
        await intake.close()


def test_tls_config_is_checked(tls_files: dict[str, Path], tmp_path: Path) -> None:
    from harness.config import config_from_mapping

    def config(tls: dict[str, str]) -> object:
        return config_from_mapping({"intake": [{"kind": "dnstap", "tcp": "127.0.0.1:6000",
                                                "tls": tls}]}, source="t.yaml")

    good = config({"cert": str(tls_files["cert"]), "key": str(tls_files["key"])})
    assert good.intakes[0].tls is not None  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"t.yaml: intake\[0\].tls.key: required for TLS"):
        config({"cert": str(tls_files["cert"])})
    with pytest.raises(ValueError, match=r"intake\[0\].tls.cert: cannot load .*server.pem with "
                                         ".*client.key"):
        config({"cert": str(tls_files["cert"]), "key": str(tls_files["client_key"])})
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    with pytest.raises(ValueError, match=r"intake\[0\].tls.client_ca: cannot load"):
        config({"cert": str(tls_files["cert"]), "key": str(tls_files["key"]),
                "client_ca": str(tmp_path / "junk.pem")})
    with pytest.raises(ValueError, match=r"intake\[0\].tls: only for a dnstap tcp intake"):
        config_from_mapping({"intake": [{"kind": "dnstap", "socket": "s",
                                         "tls": {"cert": "c", "key": "k"}}]})
