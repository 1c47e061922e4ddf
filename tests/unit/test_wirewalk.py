"""The judge's wire walker (harness.wirewalk), at the byte level: compression pointers,
pointer loops, truncation, OPT, malformed input."""

from __future__ import annotations

import random
import struct

import dns.edns
import dns.message
import dns.name
import dns.rrset

from harness.wirewalk import read_name, skip_name, walk


def _header(qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack("!HHHHHH", 0x1234, 0x8180, qd, an, ns, ar)


def _rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def _response() -> bytes:
    """A compressed response: answer, authority, additional and an OPT with an EDE."""
    q = dns.message.make_query("www.Example.com.", "A", use_edns=True, want_dnssec=True)
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("www.Example.com.", 300, "IN", "A", "192.0.2.1"))
    r.authority.append(dns.rrset.from_text("example.com.", 3600, "IN", "NS",
                                           "ns1.example.com.", "ns2.example.com."))
    r.additional.append(dns.rrset.from_text("ns1.example.com.", 60, "IN", "A", "192.0.2.53"))
    r.use_edns(0, 0, 1232, options=[dns.edns.EDEOption(dns.edns.EDECode.STALE_ANSWER)])
    return r.to_wire()


def test_walk_finds_every_rr_and_ttl_as_dnspython_reads_them() -> None:
    wire = _response()
    w = walk(wire)
    assert w is not None
    assert w.counts == (1, 1, 2, 2)  # the OPT is an additional record
    parsed = dns.message.from_wire(wire)
    # Owners: read through the compression pointers, one per RR, in section order.
    owners = [read_name(wire, w.owner(wire, i)) for i in range(len(w.fixed))]
    assert [o[0].lower() if o else None for o in owners] == [
        "www.example.com.", "example.com.", "example.com.", "ns1.example.com.", "."]
    assert [w.rtype(wire, i) for i in range(5)] == [1, 2, 2, 1, 41]
    # Every TTL but the OPT's, at the offsets where the TTLs really are.
    assert [int.from_bytes(wire[o:o + 4]) for o in w.ttl_offsets] == [300, 3600, 3600, 60]
    assert len(w.ttl_offsets) == 4
    start, end = w.rdata(wire, 0)
    assert wire[start:end] == bytes([192, 0, 2, 1])
    assert parsed.answer[0].ttl == 300
    # The question ends where the first RR starts.
    assert w.question_end == w.owner(wire, 0)


def test_a_pointer_ends_the_name_in_place_and_is_followed_by_read_name() -> None:
    name = b"\x03www\x07example\x03com\x00"
    wire = _header(qd=1, an=1) + name + b"\x00\x01\x00\x01" + _rr(b"\xc0\x0c", 1, 7, b"\1\2\3\4")
    w = walk(wire)
    assert w is not None
    owner = w.owner(wire, 0)
    assert owner == 12 + len(name) + 4 and w.fixed == (owner + 2,)
    assert skip_name(wire, owner) == owner + 2
    assert read_name(wire, owner) == ("www.example.com.", owner + 2)
    # A pointer into the middle of an earlier name: its suffix.
    assert read_name(wire + b"\xc0\x10", len(wire)) == ("example.com.", len(wire) + 2)


def test_pointers_that_could_loop_are_malformed() -> None:
    base = _header(qd=1) + b"\x01a\x00\x00\x01\x00\x01"
    # A pointer to itself.
    selfloop = _header(qd=1) + b"\xc0\x0c\x00\x01\x00\x01"
    assert skip_name(selfloop, 12) == -1
    assert read_name(selfloop, 12) is None
    assert walk(selfloop) is None
    # A pointer forward (to a later offset), even to a well-formed name.
    forward = _header(qd=1, an=1) + b"\xc0\x12\x00\x01\x00\x01" + _rr(b"\x01b\x00", 1, 0, b"")
    assert walk(forward) is None
    assert read_name(forward, 12) is None
    # Backward but looping: label 'a' then a pointer back to that label.
    loop = base[:12] + b"\x01a\xc0\x0c"
    assert read_name(loop, 12) is None
    # Two pointers pointing at each other, entered from a later name.
    pair = _header() + b"\xc0\x0e\xc0\x0c" + b"\xc0\x0e"
    assert read_name(pair, 16) is None


def test_every_truncation_of_a_message_is_malformed() -> None:
    wire = _response()
    for cut in range(len(wire)):
        assert walk(wire[:cut]) is None, f"cut at {cut} of {len(wire)}"


def test_trailing_bytes_and_short_rdata_are_malformed() -> None:
    wire = _response()
    assert walk(wire + b"\0") is None
    w = walk(wire)
    assert w is not None
    # RDLENGTH of the answer one larger than the bytes there: the walk runs off the end or
    # misreads the next RR; either way the total no longer adds up.
    f = w.fixed[0]
    bad = bytearray(wire)
    bad[f + 8:f + 10] = (((wire[f + 8] << 8) | wire[f + 9]) + 200).to_bytes(2)
    assert walk(bytes(bad)) is None


def test_bad_labels_are_malformed() -> None:
    for label in (b"\x40" + b"x" * 64, b"\x41x", b"\x80x"):  # > 63, 0x40 and 0x80 types
        wire = _header(qd=1) + label + b"\x00\x00\x01\x00\x01"
        assert walk(wire) is None, label[:2]
        assert read_name(wire, 12) is None
    assert walk(b"\0" * 11) is None
    assert walk(_header()) is not None  # an empty message is well formed


def test_names_over_255_octets_are_malformed() -> None:
    label = b"\x3f" + b"a" * 63
    long4 = label * 4 + b"\x00"  # 4 * 64 + 1 = 257 octets
    assert read_name(_header() + long4, 12) is None
    assert skip_name(_header() + long4, 12) == -1
    ok = label * 3 + b"\x3d" + b"a" * 61 + b"\x00"  # 3 * 64 + 62 + 1 = 255 octets
    assert read_name(_header() + ok, 12) is not None
    # Over 255 only once pointers are followed: the prefix points at a 192-octet name.
    wire = _header() + label * 3 + b"\x00" + b"\x3f" + b"b" * 63 + b"\xc0\x0c"
    assert read_name(wire, 12 + 193) is None


def test_opt_ttl_is_not_a_ttl() -> None:
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0x00008000, 0)
    wire = _header(ar=1) + opt
    w = walk(wire)
    assert w is not None
    assert w.ttl_offsets == ()
    assert w.rtype(wire, 0) == 41
    a = _rr(b"\x00", 1, 5, b"\1\2\3\4")
    w2 = walk(_header(an=1, ar=1) + a + opt)
    assert w2 is not None and w2.ttl_offsets == (12 + 1 + 4,)


def test_random_damage_never_raises() -> None:
    wire = _response()
    rng = random.Random(7)
    for _ in range(3000):
        bad = bytearray(wire)
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        w = walk(bytes(bad))
        if w is not None:
            for i in range(len(w.fixed)):
                read_name(bytes(bad), w.owner(bytes(bad), i))  # returns, never raises or loops
