"""Local zones (resolver/localzone.py): every documented local-zone type of unbound.conf(5),
Unbound's default zones, the implicit zone of local-data, their errors, the wiring (the
answerer, the workers' drop, the command line, the testbound dialect), and the own
testbound scenarios of tests/scenarios/testbound/local_zone (held-out split, issue 16)."""

from __future__ import annotations

import time
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from deckard.runner import RunOptions, run_file
from deckard.text import ScenarioError
from deckard.unboundconf import parse_unbound_conf
from resolver.app import ResolverAnswerer
from resolver.frames import FrameQueue
from resolver.localzone import (
    ZONE_TYPES,
    LocalConfig,
    LocalView,
    LocalZoneError,
    LocalZones,
    NoReply,
    parse_ptr,
    parse_record,
    parse_zone,
    read_file,
)
from resolver.localzone_defaults import DEFAULT_ZONES
from resolver.model import Frame, Request
from resolver.recursor import Resolution
from resolver.workers import Workers
from tests.unit.test_cli_errors import one_line_error, shadowdns

NXDOMAIN, NOERROR, REFUSED = dns.rcode.NXDOMAIN, dns.rcode.NOERROR, dns.rcode.REFUSED
A, AAAA, MX, TXT = dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.MX, dns.rdatatype.TXT
SOA = "z.example. 3600 IN SOA ns.z.example. admin.z.example. 1 3600 1200 604800 60"
SCENARIOS = Path(__file__).parents[1] / "scenarios" / "testbound" / "local_zone"


def zones(kind: str, *data: str, defaults: bool = False) -> LocalZones:
    return LocalConfig((("z.example.", kind),), data, defaults=defaults).build()


def ask(z: LocalZones, name: str, rdtype: int = A,
        rdclass: int = dns.rdataclass.IN) -> tuple[int, list[str], list[str]] | None:
    """(rcode, answer texts, authority texts), None when resolved normally."""
    got = z.answer(dns.name.from_text(name), rdtype, rdclass)
    if got is None:
        return None
    return (got.rcode, [r.to_text() for r in got.answer], [r.to_text() for r in got.authority])


HOST = "h.z.example. 600 IN A 192.0.2.1"
NEG_SOA = "z.example. 60 IN SOA ns.z.example. admin.z.example. 1 3600 1200 604800 60"
WITH_DATA = (SOA, HOST, "a.b.z.example. TXT hello")

# (type, question, expected): expected None = resolved normally, "drop" = no reply
CASES: list[tuple[str, str, int, object]] = [
    ("static", "h.z.example.", A, (NOERROR, [HOST], [])),
    ("static", "h.z.example.", AAAA, (NOERROR, [], [NEG_SOA])),
    ("static", "b.z.example.", A, (NOERROR, [], [NEG_SOA])),  # an empty non-terminal
    ("static", "x.z.example.", A, (NXDOMAIN, [], [NEG_SOA])),
    ("transparent", "h.z.example.", A, (NOERROR, [HOST], [])),
    ("transparent", "h.z.example.", AAAA, (NOERROR, [], [NEG_SOA])),
    ("transparent", "x.z.example.", A, None),
    ("transparent", "b.z.example.", A, None),  # no data of its own: resolved
    ("typetransparent", "h.z.example.", A, (NOERROR, [HOST], [])),
    ("typetransparent", "h.z.example.", AAAA, None),
    ("typetransparent", "x.z.example.", A, None),
    ("inform", "h.z.example.", A, (NOERROR, [HOST], [])),
    ("inform", "x.z.example.", A, None),
    ("deny", "h.z.example.", A, (NOERROR, [HOST], [])),
    ("deny", "x.z.example.", A, "drop"),
    ("inform_deny", "x.z.example.", A, "drop"),
    ("refuse", "h.z.example.", A, (NOERROR, [HOST], [])),
    ("refuse", "x.z.example.", A, (REFUSED, [], [])),
    ("always_transparent", "h.z.example.", A, None),
    ("always_refuse", "h.z.example.", A, (REFUSED, [], [])),
    ("always_nxdomain", "h.z.example.", A, (NXDOMAIN, [], [NEG_SOA])),
    ("always_nodata", "h.z.example.", A, (NOERROR, [], [NEG_SOA])),
    ("always_nodata", "x.z.example.", A, (NOERROR, [], [NEG_SOA])),
    ("always_deny", "h.z.example.", A, "drop"),
    ("always_null", "h.z.example.", A, (NOERROR, ["h.z.example. 3600 IN A 0.0.0.0"], [])),
    ("always_null", "x.y.z.example.", AAAA, (NOERROR, ["x.y.z.example. 3600 IN AAAA ::"], [])),
    ("always_null", "x.z.example.", MX, (NOERROR, [], [NEG_SOA])),
    ("noview", "h.z.example.", A, (NOERROR, [HOST], [])),
    ("noview", "h.z.example.", AAAA, (NOERROR, [], [NEG_SOA])),
    ("noview", "x.z.example.", A, None),
]


@pytest.mark.parametrize(("kind", "name", "rdtype", "expected"), CASES,
                         ids=[f"{k}-{n}-{dns.rdatatype.to_text(t)}" for k, n, t, _ in CASES])
def test_zone_types(kind: str, name: str, rdtype: int, expected: object) -> None:
    z = zones(kind, *WITH_DATA)
    if expected == "drop":
        with pytest.raises(NoReply):
            ask(z, name, rdtype)
    else:
        assert ask(z, name, rdtype) == expected


@pytest.mark.parametrize("kind", ["redirect", "inform_redirect"])
def test_redirect_answers_the_apex_data_for_every_name(kind: str) -> None:
    z = zones(kind, "z.example. 120 IN A 192.0.2.53")
    assert ask(z, "a.b.z.example.") == (NOERROR, ["a.b.z.example. 120 IN A 192.0.2.53"], [])
    assert ask(z, "z.example.") == (NOERROR, ["z.example. 120 IN A 192.0.2.53"], [])
    assert ask(z, "a.z.example.", AAAA) == (NOERROR, [], [])
    with pytest.raises(LocalZoneError, match="must be at its apex"):
        zones(kind, "below.z.example. A 192.0.2.1")


def test_every_documented_type_is_known_and_tested() -> None:
    tested = {k for k, *_ in CASES} | {"redirect", "inform_redirect", "nodefault"}
    assert tested == ZONE_TYPES


def test_nodefault_makes_no_zone() -> None:
    z = LocalConfig((("z.example.", "nodefault"),), defaults=False).build()
    assert ask(z, "x.z.example.") is None
    assert not z


def test_the_deepest_zone_decides_and_classes_are_apart() -> None:
    z = LocalConfig((("z.example.", "static"), ("in.z.example.", "transparent")),
                    defaults=False).build()
    assert ask(z, "x.z.example.") == (NXDOMAIN, [], [])
    assert ask(z, "x.in.z.example.") is None
    assert ask(z, "x.z.example.", A, dns.rdataclass.CH) is None


def test_local_cname_answers_alone_and_is_an_alias_in_redirect_zones() -> None:
    cname = "www.z.example. 300 IN CNAME target.example."
    z = zones("static", cname)
    assert ask(z, "www.z.example.") == (NOERROR, [cname], [])
    assert ask(z, "www.z.example.", dns.rdatatype.CNAME) == (NOERROR, [cname], [])
    redirect = zones("redirect", "z.example. 300 CNAME target.example.")
    got = redirect.answer(dns.name.from_text("a.z.example."), A)
    assert got is not None and got.alias is not None and not got.answer
    assert got.alias.to_text() == "a.z.example. 300 IN CNAME target.example."


def test_ds_belongs_to_the_parent_side() -> None:
    z = LocalConfig((("z.example.", "static"),), defaults=False).build()
    assert ask(z, "z.example.", dns.rdatatype.DS) is None  # example. has no local zone
    assert ask(z, "z.example.", A) == (NXDOMAIN, [], [])  # no data: not even the apex
    assert ask(z, "c.z.example.", dns.rdatatype.DS) == (NXDOMAIN, [], [])


def test_implicit_zone_is_transparent_at_the_common_ancestor() -> None:
    z = LocalConfig(data=("a.lan.example. A 192.0.2.1", "b.c.lan.example. A 192.0.2.2",
                          "id.server. CH TXT \"x\""), defaults=False).build()
    zone = z.lookup(dns.name.from_text("zzz.lan.example."))
    assert zone is not None and zone.kind == "transparent"
    assert zone.name == dns.name.from_text("lan.example.")
    assert ask(z, "a.lan.example.", TXT) == (NOERROR, [], [])
    assert ask(z, "zzz.lan.example.") is None
    assert ask(z, "id.server.", TXT, dns.rdataclass.CH) == (
        NOERROR, ['id.server. 3600 CH TXT "x"'], [])
    assert ask(z, "id.server.", TXT) is None  # class IN: no zone


def test_default_zones() -> None:
    z = LocalConfig().build()
    assert ask(z, "localhost.") == (NOERROR, ["localhost. 10800 IN A 127.0.0.1"], [])
    assert ask(z, "a.b.localhost.", AAAA) == (NOERROR, ["a.b.localhost. 10800 IN AAAA ::1"], [])
    assert ask(z, "1.0.0.127.in-addr.arpa.", dns.rdatatype.PTR) == (
        NOERROR, ["1.0.0.127.in-addr.arpa. 10800 IN PTR localhost."], [])
    soa = "10.in-addr.arpa. 10800 IN SOA localhost. nobody.invalid. 1 3600 1200 604800 10800"
    assert ask(z, "4.3.2.10.in-addr.arpa.", dns.rdatatype.PTR) == (NXDOMAIN, [], [soa])
    for name in ("x.onion.", "x.test.", "x.invalid.", "x.home.arpa.", "1.31.172.in-addr.arpa.",
                 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa."):
        got = ask(z, name)
        assert got is not None and got[0] == NXDOMAIN, name
    assert ask(z, "www.example.com.") is None
    assert ask(z, "1.16.172.in-addr.arpa.") is not None
    assert ask(z, "1.32.172.in-addr.arpa.") is None  # 172.32/16 is not private
    assert all(rfc.startswith("RFC") for _, _, rfc, _, _ in DEFAULT_ZONES)


def test_defaults_turned_off() -> None:
    unblocked = LocalConfig(unblock_lan=True).build()
    assert ask(unblocked, "1.0.10.in-addr.arpa.") is None
    assert ask(unblocked, "localhost.") is not None  # loopback zones stay
    assert ask(unblocked, "x.onion.") is not None
    nodefault = LocalConfig((("localhost.", "nodefault"),)).build()
    assert ask(nodefault, "localhost.") is None
    replaced = LocalConfig((("localhost.", "static"),), ("localhost. A 127.0.0.2",)).build()
    assert ask(replaced, "localhost.") == (NOERROR, ["localhost. 3600 IN A 127.0.0.2"], [])
    assert ask(replaced, "x.localhost.") == (NXDOMAIN, [], [])
    assert not LocalConfig(defaults=False).build()


def test_data_in_a_default_zone_stays_in_its_resolver() -> None:
    mine = LocalConfig(data=("2.0.0.127.in-addr.arpa. PTR two.example.",)).build()
    assert ask(mine, "2.0.0.127.in-addr.arpa.", dns.rdatatype.PTR) == (
        NOERROR, ["2.0.0.127.in-addr.arpa. 3600 IN PTR two.example."], [])
    other = LocalConfig().build()
    assert ask(other, "2.0.0.127.in-addr.arpa.", dns.rdatatype.PTR)[0] == NXDOMAIN  # type: ignore[index]


def test_describe() -> None:
    assert LocalConfig().describe().startswith("local zones: Unbound's default zones on (")
    assert LocalConfig((("a.", "static"),), ("a. A 192.0.2.1",), ("192.0.2.1 a.",),
                       defaults=False).describe() == (
        "local zones: Unbound's default zones off; 1 configured, 2 local records")


def views(first: bool, *zones: tuple[str, str], data: tuple[str, ...] = ()) -> LocalZones:
    view = LocalView("v", LocalConfig(zones, data, defaults=False), first, ("127.0.0.0/8",))
    return LocalConfig(data=("g.example. A 192.0.2.9",), defaults=False,
                       views=(view,)).build()


def ask_from(z: LocalZones, client: str, name: str) -> object:
    got = z.answer(dns.name.from_text(name), A, client=(client, 53))
    return None if got is None else (got.rcode, [r.to_text() for r in got.answer])


def test_views_answer_their_clients_first() -> None:
    z = views(False, ("v.example.", "static"), data=("h.v.example. A 192.0.2.1",))
    assert ask_from(z, "127.0.0.1", "h.v.example.") == (
        NOERROR, ["h.v.example. 3600 IN A 192.0.2.1"])
    assert ask_from(z, "127.0.0.1", "x.v.example.") == (NXDOMAIN, [])
    assert ask_from(z, "127.0.0.1", "g.example.") is None  # view-first no: resolved
    assert ask_from(z, "192.0.2.77", "g.example.") == (NOERROR, ["g.example. 3600 IN A 192.0.2.9"])
    assert ask_from(z, "192.0.2.77", "x.v.example.") is None  # not a client of the view
    first = views(True, ("v.example.", "static"))
    assert ask_from(first, "127.0.0.1", "g.example.") == (
        NOERROR, ["g.example. 3600 IN A 192.0.2.9"])


@pytest.mark.parametrize("kind", ["noview", "transparent", "typetransparent",
                                  "always_transparent"])
def test_a_view_zone_that_does_not_cover_falls_to_the_global_zones(kind: str) -> None:
    z = views(True, ("example.", kind))
    assert ask_from(z, "127.0.0.1", "g.example.") == (
        NOERROR, ["g.example. 3600 IN A 192.0.2.9"])


def test_view_errors() -> None:
    with pytest.raises(LocalZoneError, match="view v:"):
        LocalConfig(views=(LocalView("v", networks=("not-a-net",)),)).build()


def test_duplicate_zone_keeps_the_first() -> None:
    z = LocalConfig((("z.example.", "refuse"), ("z.example.", "static")),
                    defaults=False).build()
    assert ask(z, "x.z.example.") == (REFUSED, [], [])


def test_records_and_ptrs() -> None:
    assert parse_record("h.example. 60 IN A 192.0.2.1").ttl == 60
    assert parse_record("h.example. IN 60 A 192.0.2.1").ttl == 60
    rr = parse_record('t.example TXT "a # b"')
    assert rr.ttl == 3600 and rr.name == dns.name.from_text("t.example.")
    assert rr.to_text() == 't.example. 3600 IN TXT "a # b"'
    assert parse_record("m.example. MX 10 mail").to_text() == "m.example. 3600 IN MX 10 mail."
    assert parse_ptr("192.0.2.4 www.example.").to_text() == \
        "4.2.0.192.in-addr.arpa. 3600 IN PTR www.example."
    assert parse_ptr("2001:db8::4 7200 www.example.").ttl == 7200


@pytest.mark.parametrize(("call", "text", "message"), [
    (parse_zone, "z.example. bogus", "unknown local-zone type 'bogus'"),
    (parse_zone, "z.example.", "not 'NAME TYPE'"),
    (parse_record, "h.example. A", "not a record"),
    (parse_record, "h.example. A not-an-address", "h.example. A not-an-address"),
    (parse_record, "h.example. NOSUCHTYPE 1", "NOSUCHTYPE"),
    (parse_ptr, "300.1.1.1 h.example.", "is not an IP address"),
    (parse_ptr, "192.0.2.1", "not 'ADDRESS [TTL] NAME'"),
])
def test_errors_say_what(call: object, text: str, message: str) -> None:
    with pytest.raises(LocalZoneError, match=message.replace("[", r"\[").replace(".", r"\.")):
        call(text)  # type: ignore[operator]


def test_file_errors_name_the_line() -> None:
    ok = read_file('server:\n  local-zone: "z.example." static  # a comment\n'
                   "  local-data: 'h.z.example. TXT \"x # y\"'\n"
                   "  local-data-ptr: '192.0.2.1 h.z.example.'\n  unblock-lan-zones: yes\n", "f")
    assert ok.zones == (("z.example.", "static"),) and ok.unblock_lan
    assert ok.data == ('h.z.example. TXT "x # y"',) and ok.ptrs == ("192.0.2.1 h.z.example.",)
    with pytest.raises(LocalZoneError, match=r"^f line 2: local-data: 'h\. A': not a record"):
        read_file("local-zone: z. static\nlocal-data: 'h. A'\n", "f")
    with pytest.raises(LocalZoneError, match="f line 1: expected one of"):
        read_file("verbosity: 1\n", "f")
    with pytest.raises(LocalZoneError, match="^f: .*must be at its apex"):
        read_file("local-zone: r. redirect\nlocal-data: 'x.r. A 192.0.2.1'\n", "f")


# -- wiring ------------------------------------------------------------------------------

class Recursor:
    """Resolves every name to 198.51.100.1; records the questions."""

    def __init__(self) -> None:
        self.asked: list[dns.name.Name] = []

    async def resolve(self, request: Request, exchanger: object) -> Resolution:
        self.asked.append(request.qname)
        return Resolution(NOERROR, [dns.rrset.from_text(request.qname, 60, "IN", "A",
                                                        "198.51.100.1")])


def answerer(*data: str, kind: str = "static") -> tuple[ResolverAnswerer, Recursor]:
    recursor = Recursor()
    return ResolverAnswerer(recursor, None, local_zones=zones(kind, *data)), recursor  # type: ignore[arg-type]


async def test_answerer_answers_local_names_before_the_recursion() -> None:
    a, recursor = answerer(HOST)
    query = dns.message.make_query("h.z.example.", "A")
    reply = await a.answer(Request(dns.name.from_text("h.z.example."), A), query)
    assert reply.flags & dns.flags.AA and [r.to_text() for r in reply.answer] == [HOST]
    assert not recursor.asked
    other = dns.message.make_query("www.example.", "A")
    reply = await a.answer(Request(dns.name.from_text("www.example."), A), other)
    assert not reply.flags & dns.flags.AA and recursor.asked == [dns.name.from_text("www.example.")]


async def test_answerer_resolves_a_local_alias_target() -> None:
    a, recursor = answerer("z.example. 300 CNAME t.example.", kind="redirect")
    query = dns.message.make_query("www.z.example.", "A")
    reply = await a.answer(Request(dns.name.from_text("www.z.example."), A), query)
    assert [r.to_text() for r in reply.answer] == [
        "www.z.example. 300 IN CNAME t.example.", "t.example. 60 IN A 198.51.100.1"]
    assert recursor.asked == [dns.name.from_text("t.example.")]
    # a question without RD meets the RD check before its alias is followed (Unbound)
    assert await a.local_reply(Request(dns.name.from_text("www.z.example."), A, rd=False),
                               query, aliases=False) is None


async def test_workers_drop_a_deny_zone_query() -> None:
    a, _ = answerer(kind="deny")
    w = Workers(FrameQueue(), a, n=1)
    wire = dns.message.make_query("x.z.example.", "A").to_wire()
    assert await w.handle(Frame(wire, "udp", ("127.0.0.9", 5300), time.monotonic())) is None
    assert w.stats["dropped_local"] == 1 and not w.stats["internal_errors"]


def test_serve_flags_errors_are_one_line(tmp_path: Path) -> None:
    done = shadowdns("resolver", "serve", "--local-zone", "z.example. bogus", cwd=tmp_path)
    one_line_error(done, "local zones:", "unknown local-zone type 'bogus'")
    bad = tmp_path / "local.conf"
    bad.write_text("local-zone: z.example. static\nlocal-data: 'z.example. A 1.2.3'\n")
    done = shadowdns("resolver", "serve", "--local-zones", str(bad), cwd=tmp_path)
    one_line_error(done, "--local-zones:", f"{bad} line 2: local-data:")
    done = shadowdns("resolver", "serve", "--local-zones", str(tmp_path / "none"), cwd=tmp_path)
    one_line_error(done, "--local-zones:", "No such file")


# -- the testbound dialect -----------------------------------------------------------------

def header(*lines: str) -> list[tuple[int, str]]:
    text = ["server:", *lines, "stub-zone:", '  name: "."', "  stub-addr: 193.0.14.129"]
    return list(enumerate(text, 1))


def test_dialect_translates_local_options() -> None:
    config = parse_unbound_conf(Path("t.rpl"), header(
        '  local-zone: "z.example." static', '  local-data: "h.z.example. A 192.0.2.1"',
        "  local-data: 'id.server. CH TXT \"x\"'", '  local-data-ptr: "192.0.2.1 h.z.example."',
        "  unblock-lan-zones: yes", "  insecure-lan-zones: yes"))
    assert not config.unsupported and config.local is not None
    assert config.local.zones == (("z.example.", "static"),)
    assert config.local.data == ("h.z.example. A 192.0.2.1", 'id.server. CH TXT "x"')
    assert config.local.ptrs == ("192.0.2.1 h.z.example.",) and config.local.unblock_lan
    assert dns.name.from_text("10.in-addr.arpa.") in config.validation.negative_anchors
    plain = parse_unbound_conf(Path("t.rpl"), header())
    assert plain.local == LocalConfig()  # Unbound's default zones, nothing else


def test_dialect_translates_views() -> None:
    text = ["server:", "  access-control-view: 127.0.0.0/8 v1",
            '  local-data: "g.example. A 192.0.2.9"', "view:", '  name: "v1"',
            "  view-first: yes", '  local-zone: "v.example." static', "stub-zone:",
            '  name: "."', "  stub-addr: 193.0.14.129"]
    config = parse_unbound_conf(Path("t.rpl"), list(enumerate(text, 1)))
    assert not config.unsupported and config.local is not None
    (view,) = config.local.views
    assert view == LocalView("v1", LocalConfig((("v.example.", "static"),), defaults=False),
                             True, ("127.0.0.0/8",))
    bad = ["server:", "  access-control-view: 127.0.0.0/8 nosuch", "stub-zone:", '  name: "."',
           "  stub-addr: 193.0.14.129"]
    with pytest.raises(ScenarioError, match="t.rpl:2: access-control-view: no view called"):
        parse_unbound_conf(Path("t.rpl"), list(enumerate(bad, 1)))
    other = ["server:", "view:", "  name: v", "  view-respip: x", "stub-zone:", '  name: "."',
             "  stub-addr: 193.0.14.129"]
    assert parse_unbound_conf(Path("t.rpl"), list(enumerate(other, 1))).unsupported == (
        "view view-respip",)


@pytest.mark.parametrize(("line", "message"), [
    ('  local-zone: "z.example." sometimes', "t.rpl:2: local-zone:"),
    ('  local-data: "h.z.example. A"', "t.rpl:2: local-data:"),
    ('  local-data-ptr: "nowhere h.example."', "t.rpl:2: local-data-ptr:"),
    ("  unblock-lan-zones: maybe", "t.rpl:2: unblock-lan-zones"),
])
def test_dialect_errors_name_the_line(line: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_unbound_conf(Path("t.rpl"), header(line))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


# -- the own scenarios -------------------------------------------------------------------

FILES = sorted(SCENARIOS.glob("*.rpl"))


def test_there_are_scenarios_in_both_halves() -> None:
    from deckard.split import half
    halves = [half(f.stem) for f in FILES]
    assert halves.count("fix") >= 4 and halves.count("measure") >= 4


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_local_zone_scenario_passes(path: Path) -> None:
    results = run_file(str(path), RunOptions())
    played = [r for r in results if r.status != "skip"]
    assert played
    for r in played:
        assert r.status == "pass", f"{r.variant}: {r.summary}\n{r.failure and r.failure.diff}"
