"""resolver/dnsfast.py: the fast ``Name`` paths give exactly dnspython's bytes and answers."""

from __future__ import annotations

import contextlib
import inspect
import io
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dns.edns
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.wire
import pytest

from resolver import dnsfast


@pytest.fixture(autouse=True, scope="module")
def _fast_paths() -> Iterator[None]:
    """The fast paths for this module's tests only: elsewhere (the harness, the differ, the
    other tests) dnspython stays as it is, as in a process that only imports the resolver."""
    was = dnsfast.installed()
    dnsfast.install()
    yield
    if not was:
        dnsfast.uninstall()


@contextlib.contextmanager
def dnspythons_own() -> Iterator[None]:
    """dnspython's own methods for the block (the fast ones back after)."""
    dnsfast.uninstall()
    try:
        yield
    finally:
        dnsfast.install()


NAMES = [".", "Example.COM.", "a.b.c.d.e.f.", r"\000.x\.y.\255.", "*.Wild.example.", "rel.ative"]


def _bytes(name: dns.name.Name, **kw: object) -> bytes:
    f = io.BytesIO()
    try:
        name.to_wire(f, **kw)  # type: ignore[arg-type]
    except dns.name.NeedAbsoluteNameOrOrigin:
        return b"<relative>"
    return f.getvalue()


@pytest.mark.parametrize("text", NAMES)
@pytest.mark.parametrize("canonicalize", [False, True])
@pytest.mark.parametrize("origin", [None, "Org.example."])
def test_same_bytes_as_dnspython(text: str, canonicalize: bool, origin: str | None) -> None:
    name = dns.name.from_text(text, origin=None)
    kw = {"canonicalize": canonicalize,
          "origin": None if origin is None else dns.name.from_text(origin)}
    assert dnsfast.installed()
    fast = _bytes(name, **kw)
    with dnspythons_own():
        slow = _bytes(name, **kw)
    assert fast == slow


def test_compression_and_digests_unchanged() -> None:
    """With a compression table dnspython's own code runs; canonical RDATA is the same."""
    soa = dns.rdata.from_text("IN", "SOA", "NS1.Example.com. Host.Example.com. 1 2 3 4 5")
    rrset = dns.rrset.from_rdata("www.Example.com.", 300, soa)
    msg = dns.message.make_response(dns.message.make_query("www.example.com.", "SOA"))
    msg.answer.append(rrset)

    def forms() -> tuple[bytes, bytes, bytes]:
        f = io.BytesIO()
        rrset.to_wire(f)
        return soa.to_digestable(), msg.to_wire(), f.getvalue()

    fast = forms()
    with dnspythons_own():
        slow = forms()
    assert fast == slow
    assert fast[0] == b"\x03ns1\x07example\x03com\x00\x04host\x07example\x03com\x00" \
        + bytes.fromhex("0000000100000002000000030000000400000005")


def test_only_the_serving_process_installs_it() -> None:
    """Importing the resolver, the harness and the differ leaves dnspython alone (the judge
    never runs code of the judged); `resolver serve` and `bench profile-cold` install it."""
    code = ("import resolver.app, resolver.conductor, harness.differ, harness.pipeline, "
            "deckard.runner; from resolver import dnsfast; print(dnsfast.installed())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
    import resolver.cli
    import shadowdns.bench.profile

    for entry in (resolver.cli.serve, shadowdns.bench.profile.run):
        assert "dnsfast.install()" in inspect.getsource(entry)


def _random_names(rng: random.Random, n: int) -> list[dns.name.Name]:
    names = [dns.name.root, dns.name.empty, dns.name.Name([b"a" * 63] * 3 + [b"b" * 61, b""])]
    while len(names) < n:
        labels = [bytes(rng.choice(b"aAbBzZ09-*\x00\xc3\xff") for _ in range(rng.randint(1, 9)))
                  for _ in range(rng.randint(0, 4))]
        names.append(dns.name.Name(labels + ([b""] if rng.random() < 0.8 else [])))
    return names


def test_equality_as_dnspython() -> None:
    """Equal, not equal and subdomain as fullcompare says, across case, label splits and
    relativity; the same text."""
    rng = random.Random(7)
    names = _random_names(rng, 3000)
    pairs = [(rng.choice(names), rng.choice(names)) for _ in range(3000)]
    pairs += [(a, dns.name.Name([x.swapcase() for x in a.labels])) for a in names[:1000]]
    pairs += [(dns.name.from_text("ab.c."), dns.name.from_text("a.bc.")),
              (dns.name.from_text("a.b"), dns.name.from_text("a.b."))]
    pairs += [(a, dns.name.Name([x.swapcase() for x in a.labels[rng.randint(0, len(a)):]]))
              for a in names[:1000]]  # suffixes: subdomains, relative and absolute
    fast = [(a == b, a != b, a == a.to_text(), a.is_subdomain(b), str(a), str(b))
            for a, b in pairs for _ in range(2)]  # (the second str from the memo)
    hashes = [hash(a) for a in names]
    with dnspythons_own():
        slow = [(a == b, a != b, a == a.to_text(), a.is_subdomain(b), str(a), str(b))
                for a, b in pairs for _ in range(2)]
        assert [hash(a) for a in names] == hashes
    assert fast == slow
    assert sum(t[0] for t in fast) >= 2000  # the swapped-case copies at least
    assert sum(t[3] for t in fast) >= 3000


def test_set_add_keeps_the_first_of_equal_items() -> None:
    """One hash instead of two; the same members, order and first-added objects."""
    def fill() -> tuple[list[tuple[int, str]], int]:
        rds = [dns.rdata.from_text("IN", "NS", t)
               for t in ("a.example.", "B.example.", "A.EXAMPLE.", "c.example.", "b.example.")]
        rrset = dns.rrset.RRset(dns.name.from_text("example."), 1, 2)
        for rd in rds:
            rrset.add(rd, 300)
        return [(rds.index(next(r for r in rds if r is x)), x.to_text()) for x in rrset], \
            len(rrset)

    fast = fill()
    with dnspythons_own():
        slow = fill()
    assert fast == slow == ([(0, "a.example."), (1, "B.example."), (3, "c.example.")], 3)


def _response() -> bytes:
    """An answer with compressed names in RDATA (NS, SOA) and uncompressed ones (RRSIG
    signer, NSEC3 next), records after records of the same bytes."""
    q = dns.message.make_query("www.example.com.", "A", want_dnssec=True)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("www.example.com.", 60, "IN", "A", "192.0.2.1"))
    r.authority.append(dns.rrset.from_text("example.com.", 60, "IN", "NS",
                                           "ns1.example.com.", "ns2.Example.com."))
    r.authority.append(dns.rrset.from_text(
        "example.com.", 60, "IN", "SOA", "ns1.example.com. h.example.com. 1 2 3 4 5"))
    r.authority.append(dns.rrset.from_text(
        "example.com.", 60, "IN", "RRSIG",
        "SOA 8 2 60 20300101000000 20200101000000 1234 example.com. AAAA"))
    r.additional.append(dns.rrset.from_text("ns1.example.com.", 60, "IN", "A", "192.0.2.1"))
    r.additional.append(dns.rrset.from_text("ns2.example.com.", 60, "IN", "A", "192.0.2.1"))
    return r.to_wire()


def test_rdata_memo_parses_as_dnspython() -> None:
    """The same messages, record for record, parsed with the memo (twice: the second time
    from it) and without; compressed RDATA is kept only by its uncompressed bytes."""
    wire = _response()
    first = dns.message.from_wire(wire)
    second = dns.message.from_wire(wire)
    kept = {(int(k[1]), k[2]) for k in dnsfast._rdatas}
    with dnspythons_own():
        own = dns.message.from_wire(wire)
    for msg in (first, second):
        assert msg == own
        assert [[(r.name, r.ttl, sorted(rd.to_text() for rd in r)) for r in s]
                for s in msg.sections] == \
            [[(r.name, r.ttl, sorted(rd.to_text() for rd in r)) for r in s]
             for s in own.sections]
    assert first.answer[0][0] is second.answer[0][0]  # the A record: from the memo
    assert first.authority[2][0] is second.authority[2][0]  # the RRSIG: from the memo
    # compressed NS and SOA: parsed each time, then known by their uncompressed bytes
    assert first.authority[0][0] is second.authority[0][0]
    assert first.authority[1][0] is second.authority[1][0]
    for rdtype, data in kept:  # every key's bytes stand alone and parse to what they key
        assert dns.rdata.from_wire(1, rdtype, data, 0, len(data)).to_wire() == data
    assert any(t == 6 for t, _ in kept)


def test_compressed_rendering_as_dnspython() -> None:
    """Whole messages with names to compress (mixed case, relative names made absolute by
    an origin, truncation dropping table entries) come out byte for byte as dnspython's."""
    origin = dns.name.from_text("Example.COM.")
    r = dns.message.make_response(dns.message.make_query("www.example.com.", "MX"))
    r.answer.append(dns.rrset.from_text("WWW.example.com.", 60, "IN", "MX",
                                        "10 mail.EXAMPLE.com.", "20 mail2.example.org."))
    r.authority.append(dns.rrset.from_text("example.com.", 60, "IN", "NS",
                                           *(f"ns{i}.example.com." for i in range(40))))
    r.authority.append(dns.rrset.from_text(
        "example.com.", 60, "IN", "SOA", "ns1.example.com. h.Example.com. 1 2 3 4 5"))
    r.additional.append(dns.rrset.from_text("ns1.example.com.", 60, "IN", "A", "192.0.2.1"))
    rel = dns.message.make_response(dns.message.make_query("www.example.com.", "CNAME"))
    rel.answer.append(dns.rrset.RRset(dns.name.from_text("www", origin=None), 1, 5))
    rel.answer[0].add(dns.rdata.from_text("IN", "CNAME", "web", origin=None,
                                          relativize=False), 60)

    def forms() -> list[bytes]:
        return [r.to_wire(want_shuffle=False), r.to_wire(max_size=512, prefer_truncation=True,
                                                         want_shuffle=False),
                rel.to_wire(origin=origin), dns.name.from_text("a.b", origin=None).to_wire(
                    origin=origin) or b""]

    fast = forms()
    with dnspythons_own():
        slow = forms()
    assert fast == slow
    assert len(fast[1]) <= 512 < len(fast[0])
    with pytest.raises(dns.name.NeedAbsoluteNameOrOrigin):
        dns.name.from_text("rel", origin=None).to_wire(io.BytesIO(), {})


def test_canonical_forms_remembered_by_object_are_dnspythons() -> None:
    """Twice (the second time remembered) the same bytes as dnspython's, for absolute and
    relative names, hashes and order included."""
    rds = [dns.rdata.from_text("IN", "SOA", "NS1.Example.com. h.example.com. 1 2 3 4 5"),
           dns.rdata.from_text("IN", "NS", "Web", origin=None, relativize=False),
           dns.rdata.from_text("IN", "A", "192.0.2.1"),
           dns.rdata.from_text("IN", "MX", "10 mail.example.")]
    other = dns.name.from_text("Other.")

    def forms() -> list[object]:
        out: list[object] = []
        for rd in rds * 2:
            for origin in (None, dns.name.root, other):
                try:
                    out.append(rd.to_digestable(origin))
                except dns.name.NeedAbsoluteNameOrOrigin:
                    out.append("relative")
            out.append(hash(rd))
        out.append(sorted([rds[2], dns.rdata.from_text("IN", "A", "192.0.2.0"), rds[2]]))
        return out

    fast = forms()
    with dnspythons_own():
        slow = forms()
    assert fast == slow
    assert fast.count("relative") == 2
    assert fast[0] == b"\x03ns1\x07example\x03com\x00\x01h\x07example\x03com\x00" \
        + bytes.fromhex("0000000100000002000000030000000400000005")


def test_canonical_and_parent_names_as_dnspython() -> None:
    """The same labels (and the same refusal at the top) as dnspython's own methods."""
    names = _random_names(random.Random(11), 2000)

    def forms() -> list[object]:
        out: list[object] = []
        for a in names:
            c = a.canonicalize()
            out.append((type(c), c.labels))
            try:
                p = a.parent()
                out.append((type(p), p.labels, p == a.parent(), hash(p)))
            except dns.name.NoParent:
                out.append("no parent")
        return out

    fast = forms()
    with dnspythons_own():
        slow = forms()
    assert fast == slow
    assert "no parent" in fast


def _parse_name(parse: object, wire: bytes, pos: int, end: int | None,
                decompress: bool) -> tuple[object, int, int, int]:
    parser = dns.wire.Parser(wire, pos)
    if end is not None:
        parser.end = end
    try:
        result: object = parse(parser, decompress).labels  # type: ignore[operator]
    except Exception as e:  # noqa: BLE001 (the exception's type is compared)
        result = type(e)
    return result, parser.current, parser.furthest, parser.end


def test_name_parser_as_dnspython() -> None:
    """Names read from damaged messages (labels, pointers, bytes inserted anywhere, a
    restricted end, decompression forbidden) give dnspython's labels or exception and
    leave the parser where dnspython's does."""
    rng = random.Random(5)
    base = dns.message.make_response(
        dns.message.make_query("www.Example.com.", "A")).to_wire()
    parsed = 0
    for _ in range(20000):
        wire = bytearray(base)
        for _ in range(rng.randint(0, 6)):
            wire.insert(rng.randint(0, len(wire)),
                        rng.choice([0, 1, 3, 63, 64, 100, 192, 193, rng.randrange(256)]))
        wire += bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
        pos = rng.randrange(len(wire))
        end = rng.choice([None, rng.randint(pos, len(wire))])
        decompress = rng.random() < 0.8
        own = _parse_name(dnsfast._ORIGINAL_NAME_PARSER, bytes(wire), pos, end, decompress)
        assert _parse_name(dnsfast._name_from_wire, bytes(wire), pos, end, decompress) == own
        parsed += isinstance(own[0], tuple)
    assert parsed > 1000  # not only errors
    long = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00"  # 257 bytes: too long
    assert _parse_name(dnsfast._name_from_wire, long, 0, None, True)[0] is dns.name.NameTooLong


def _made(value: object) -> object:
    try:
        return dns.rdatatype.RdataType.make(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as e:
        return type(e)


def test_enum_make_as_dnspython() -> None:
    """Types made from ints (known, unknown, out of range, twice: the second from the memo)
    and from text are dnspython's; uninstalling restores the classmethod for every enum."""
    unknown = dns.rdatatype.RdataType.make(65280)
    for value in (1, 46, 65280, 0, 65536, -1, "A", "TYPE999", True, dns.rdatatype.NSEC3,
                  dns.rdataclass.CH, unknown):
        with dnspythons_own():
            own = _made(value)
            assert dns.rdataclass.RdataClass.make(1) is dns.rdataclass.IN
        for _ in range(2):
            fast = _made(value)
            assert fast == own and type(fast) is type(own) and str(fast) == str(own)


def _read(wire: bytes) -> object:
    """A message's every part dnspython keeps (or the exception's type)."""
    try:
        msg = dns.message.from_wire(wire)
    except Exception as e:  # noqa: BLE001 (the exception's type is compared)
        return type(e)
    return (type(msg), msg.id, msg.flags, msg.opt, msg.tsig,
            [[(r.name.labels, r.rdclass, r.rdtype, r.covers, r.ttl, r.deleting,
               type(r.rdtype), type(r.covers), [rd.to_wire() for rd in r]) for r in s]
             for s in msg.sections], sorted(map(repr, msg.index)))


def test_message_reader_as_dnspython() -> None:
    """Whole messages (records of many types, an OPT, two OPTs, TTLs above 2^31, equal
    records, an update, a TSIG) and damaged copies of them (bytes changed, cut or added)
    read as dnspython reads them, exception for exception."""
    import dns.rdtypes.ANY.OPT
    import dns.tsigkeyring
    import dns.update
    r = dns.message.from_wire(_response())
    r.authority.append(dns.rrset.from_text("x.example.com.", 60, "IN", "TXT", '"a"', '"a"'))
    wires = [_response(), r.to_wire(), bytearray(r.to_wire())]
    wires[2][-15] = 0xFF  # the TTL of a record: above 2^31
    two_opts = dns.message.from_wire(_response())
    two_opts.additional.append(dns.rrset.from_rdata(
        dns.name.root, 0, dns.rdtypes.ANY.OPT.OPT(4096, dns.rdatatype.OPT, ())))
    update = dns.update.UpdateMessage("example.com.")
    update.add("a.example.com.", 60, "A", "192.0.2.1")
    signed = dns.message.make_query("www.example.com.", "A")
    signed.use_tsig(dns.tsigkeyring.from_text({"k.": "MTIzNA=="}))
    wires += [two_opts.to_wire(), update.to_wire(), signed.to_wire()]
    rng = random.Random(7)
    for wire in list(wires):
        for _ in range(300):
            damaged = bytearray(wire)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(max(1, len(damaged)))
                what = rng.random()
                if what < 0.6:
                    damaged[at:at + 1] = bytes([rng.randrange(256)])
                elif what < 0.8:
                    del damaged[at:]
                else:
                    damaged.insert(at, rng.randrange(256))
            wires.append(damaged)
    fast = [_read(bytes(w)) for w in wires]
    with dnspythons_own():
        own = [_read(bytes(w)) for w in wires]
    assert fast == own
    assert sum(not isinstance(x, type) for x in own) > 100  # not only errors


def test_rendering_position_free_types_as_dnspython() -> None:
    """Replies with signed NSEC3, NSEC, DNSKEY, DS and A RRsets beside compressed names
    (shuffled in the same order under the same seed, truncated at the same record) come out
    byte for byte as dnspython renders them, the second time from the memo too."""
    q = dns.message.make_query("x.example.com.", "A", want_dnssec=True)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("x.example.com.", 60, "IN", "A",
                                        *(f"192.0.2.{i}" for i in range(1, 9))))
    r.authority.append(dns.rrset.from_text(
        "example.com.", 60, "IN", "SOA", "ns1.example.com. h.Example.com. 1 2 3 4 5"))
    r.authority.append(dns.rrset.from_text(
        "example.com.", 60, "IN", "RRSIG",
        "SOA 8 2 60 20300101000000 20200101000000 1234 Example.com. AAAA"))
    r.authority.append(dns.rrset.from_text(
        "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.com.", 60, "IN", "NSEC3",
        "1 1 10 c0ffee 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG"))
    r.authority.append(dns.rrset.from_text("a.example.com.", 60, "IN", "NSEC",
                                           "C.example.com. A NSEC RRSIG"))
    r.additional.append(dns.rrset.from_text("example.com.", 60, "IN", "DNSKEY",
                                            "257 3 8 AwEAAaz/tAm8yTn4Mfeh"))
    r.additional.append(dns.rrset.from_text("sub.example.com.", 60, "IN", "DS",
                                            "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"))

    def render() -> list[bytes]:
        random.seed(11)
        return [r.to_wire(), r.to_wire(), r.to_wire(max_size=200), r.to_wire()]

    fast = render()
    with dnspythons_own():
        own = render()
    assert fast == own
    assert len(set(own)) > 2  # the A records shuffled differently


def test_edns_as_dnspython() -> None:
    """Queries and replies with EDNS (payloads, flags, DO set after, options) render and
    compare as dnspython's; setting DO on one message leaves the others alone."""
    def made() -> list[object]:
        msgs = [dns.message.make_query("a.example.", "A", use_edns=0, payload=p,
                                       want_dnssec=d, id=1)
                for p in (512, 1232, 4096) for d in (False, True)]
        msgs.append(dns.message.make_query("a.example.", "A", use_edns=0, id=2,
                                           options=[dns.edns.ECSOption("192.0.2.0", 24)]))
        msgs.append(dns.message.make_response(msgs[3], our_payload=1232))
        msgs.append(dns.message.make_query("b.example.", "A", use_edns=0, payload=512, id=3))
        msgs[0].want_dnssec(True)  # the TTL of its OPT alone
        return [m.to_wire() for m in msgs] + [m.ednsflags for m in msgs]

    fast = made()
    with dnspythons_own():
        own = made()
    assert fast == own
    flags = fast[len(fast) // 2:]
    assert flags[0] == flags[1] != flags[-1] == 0  # DO set on the first, its twin untouched
