"""Unit tests for legacy_adapter: the spec, lab files, config rendering, start-up checks.

No resolver is started here; rendered Unbound configs are checked with
``unbound-checkconf`` when it is installed.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import dns.message
import dns.rcode
import pytest

import legacy_adapter
from legacy_adapter import (
    BinaryMissing,
    ByAddress,
    KnotResolver,
    LabFileError,
    ManagedResolver,
    NotManaged,
    PortInUse,
    Reference,
    ReferenceSpec,
    StartFailed,
    Unbound,
    ensure_port_free,
    find_program,
    implementation_for,
    lua,
    read_root_hints,
    read_trust_anchors,
)
from netpolicy import LAB

DS = ". 3600 IN DS 20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d"
DNSKEY_TEXT = (
    "lab. 3600 IN DNSKEY 257 3 13 "
    "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
)
HINTS = (("a.root-servers.lab.", "127.53.0.1"), ("b.root-servers.lab.", "127.53.0.2"))


def make_spec(tmp_path: Path, **changes: object) -> ReferenceSpec:
    fields: dict[str, object] = {
        "kind": "unbound",
        "listen": "127.55.0.1",
        "port": 5053,
        "workdir": tmp_path / "run",
        "root_hints": HINTS,
        "trust_anchors": (DS,),
    }
    fields.update(changes)
    return ReferenceSpec(**fields)  # type: ignore[arg-type]


def config_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- the public surface ---------------------------------------------------------------


def test_public_names_are_pinned() -> None:
    assert sorted(legacy_adapter.__all__) == sorted(
        [
            "KINDS",
            "BinaryMissing",
            "ByAddress",
            "ControlError",
            "Controller",
            "FlushReport",
            "Implementation",
            "Kind",
            "KnotResolver",
            "KresdControl",
            "LabFileError",
            "ManagedResolver",
            "NotManaged",
            "PortInUse",
            "Reference",
            "ReferenceResolverError",
            "ReferenceSpec",
            "StartFailed",
            "Unbound",
            "UnboundControl",
            "ensure_port_free",
            "find_program",
            "implementation_for",
            "probe",
            "read_root_hints",
            "read_trust_anchors",
        ]
    )
    for name in legacy_adapter.__all__:
        assert hasattr(legacy_adapter, name), name


def test_errors_form_one_tree() -> None:
    for name in ("BinaryMissing", "PortInUse", "StartFailed", "ControlError", "NotManaged"):
        assert issubclass(getattr(legacy_adapter, name), legacy_adapter.ReferenceResolverError)
    assert issubclass(LabFileError, ValueError)
    assert issubclass(NotManaged, legacy_adapter.ControlError)


# --- the spec -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"listen": "10.0.0.1", "address_policy": LAB}, "listen"),
        ({"listen": "0.0.0.0", "address_policy": LAB}, "listen"),
        ({"listen": "localhost"}, "listen"),
        ({"listen": "224.0.0.251"}, "listen"),
        ({"outgoing_address": "192.168.1.1", "address_policy": LAB}, "outgoing_address"),
        ({"outgoing_address": "::"}, "outgoing_address"),
        ({"root_hints": (("a.root-servers.lab.", "198.41.0.4"),), "address_policy": LAB},
         "root_hints[0]"),
        ({"root_hints": (("a.root-servers.lab.", "0.0.0.0"),)}, "root_hints[0]"),
        ({"root_hints": ()}, "root_hints"),
        ({"trust_anchors": (". 3600 IN A 127.0.0.1",)}, "trust_anchors[0]"),
        ({"trust_anchors": (". 3600 IN DS 1 13 2 XYZ",)}, "trust_anchors[0]"),
        ({"trust_anchors": ()}, "trust_anchors"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"kind": "bind9"}, "kind"),
        ({"kind": "kresd", "threads": 2}, "threads"),
        ({"cache_size_mb": 0}, "cache_size_mb"),
        ({"identity": "has space"}, "identity"),
        ({"workdir": Path("/tmp") / ("x" * 120)}, "workdir"),
        ({"dnstap_socket": Path('/tmp/a"b.sock')}, "dnstap_socket"),
    ],
)
def test_spec_rejects_bad_fields_naming_them(
    tmp_path: Path, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError) as caught:
        make_spec(tmp_path, **changes)
    assert str(caught.value).startswith(f"{field}:"), str(caught.value)


def test_spec_in_production_takes_any_address_ipv4_and_ipv6(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, listen="2001:db8::53", outgoing_address="192.0.2.9",
                     root_hints=(("a.root-servers.net.", "198.51.100.4"),
                                 ("a.root-servers.net.", "2001:db8::4")))
    assert spec.listen == "2001:db8::53" and spec.outgoing_address == "192.0.2.9"
    assert [a for _, a in spec.root_hints] == ["198.51.100.4", "2001:db8::4"]
    lab = make_spec(tmp_path, listen="::1", address_policy=LAB)
    assert lab.listen == "::1"


def test_spec_accepts_whole_loopback_range_and_normalises(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        listen="127.255.0.7",
        outgoing_address="127.1.2.3",
        root_hints=[("A.Root-Servers.LAB", "127.53.0.1")],
        trust_anchors=[
            ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
        ],
        unblock_zones=("test",),
        workdir=Path("relative/run"),
    )
    assert spec.listen == "127.255.0.7"
    assert spec.root_hints == (("A.Root-Servers.LAB.", "127.53.0.1"),)
    assert spec.trust_anchors == (DS,)
    assert spec.unblock_zones == ("test.",)
    assert spec.workdir.is_absolute()
    assert spec.identity == "unbound@127.255.0.7:5053"
    assert spec.address == "127.255.0.7:5053"


def test_validation_off_needs_no_anchor(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, trust_anchors=(), validate=False)
    assert spec.trust_anchors == ()


# --- lab files ------------------------------------------------------------------------


def test_read_root_hints(tmp_path: Path) -> None:
    path = tmp_path / "root.hints"
    path.write_text(
        "; root hints for the lab\n"
        "\n"
        ".                     3600000 IN NS a.root-servers.lab.\n"
        ". IN 3600000 NS b.root-servers.lab. ; class before TTL\n"
        "a.root-servers.lab.   3600000 IN A  127.53.0.1\n"
        "                      3600000 IN A  127.53.0.11\n"
        "b.root-servers.lab.   A 127.53.0.2\n"
    )
    assert read_root_hints(path) == (
        ("a.root-servers.lab.", "127.53.0.1"),
        ("a.root-servers.lab.", "127.53.0.11"),
        ("b.root-servers.lab.", "127.53.0.2"),
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (". NS a.lab.\na.lab. A 127.53.0.1\na.lab. A 127.53.0.300\n", 3, ""),
        (". NS a.lab.\na.lab. A 198.41.0.4\n", 2, "198.41.0.4 is outside 127.0.0.0/8"),
        (". NS a.lab.\nlab. NS a.lab.\na.lab. A 127.53.0.1\n", 2, "owned by '.'"),
        (". NS a.lab.\na.lab. A 127.53.0.1\nb.lab. A 127.53.0.2\n", 3, "not a root name server"),
        (". NS a.lab.\na.lab. AAAA ::2\n", 2, "::2 is outside"),
        (". NS a.lab.\na.lab. TXT hello\n", 2, "unexpected TXT"),
        (". NS a.lab.\na.lab. A 127.53.0.1\n$ORIGIN lab.\n", 3, "$ORIGIN"),
        (". NS a.lab.\n\na.lab. A ( 127.53.0.1\n", 3, "never closed"),
        (". NS a.lab.\n", 0, "has no address (A or AAAA)"),
        ("; nothing\n", 0, "no NS records"),
    ],
)
def test_bad_root_hints_name_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "root.hints"
    path.write_text(text)
    with pytest.raises(LabFileError) as caught:
        read_root_hints(path, LAB)
    assert caught.value.path == path
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)


def test_read_trust_anchors(tmp_path: Path) -> None:
    path = tmp_path / "trust-anchor.ds"
    key = DNSKEY_TEXT.split(" 13 ")[1]
    path.write_text(
        f"; lab anchors\n{DS}\nlab. 3600 IN DNSKEY 257 3 13 (\n    {key[:40]}\n    {key[40:]} )\n"
    )
    anchors = read_trust_anchors(path)
    assert anchors == (DS, DNSKEY_TEXT)


def test_bad_trust_anchor_file_names_line(tmp_path: Path) -> None:
    path = tmp_path / "trust-anchor.ds"
    path.write_text(f"{DS}\n; fine so far\n. 3600 IN DS 20326 8 2 E06D44\n")
    with pytest.raises(LabFileError) as caught:
        read_trust_anchors(path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: ")
    path.write_text(". 3600 IN NS a.root-servers.lab.\n")
    with pytest.raises(LabFileError, match=r":1: a trust anchor is a DS or DNSKEY record, not NS"):
        read_trust_anchors(path)


def test_missing_lab_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LabFileError, match="nope.hints:0: cannot read"):
        read_root_hints(tmp_path / "nope.hints")


def test_spec_from_lab_files(tmp_path: Path) -> None:
    hints = tmp_path / "root.hints"
    hints.write_text(". NS a.root-servers.lab.\na.root-servers.lab. A 127.53.0.1\n")
    anchors = tmp_path / "trust-anchor.ds"
    anchors.write_text(DS + "\n")
    spec = ReferenceSpec.from_lab_files(
        kind="kresd",
        listen="127.55.0.2",
        port=5053,
        workdir=tmp_path / "kresd",
        root_hints_file=hints,
        trust_anchor_file=anchors,
        qname_minimisation=False,
    )
    assert spec.root_hints == (("a.root-servers.lab.", "127.53.0.1"),)
    assert spec.trust_anchors == (DS,)
    assert spec.validate and not spec.qname_minimisation
    unsigned = ReferenceSpec.from_lab_files(
        kind="kresd", listen="127.55.0.2", port=5053, workdir=tmp_path, root_hints_file=hints
    )
    assert not unsigned.validate


# --- rendering: Unbound ---------------------------------------------------------------


def test_unbound_config_essentials(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, outgoing_address="127.55.0.1", cache_size_mb=30, threads=2)
    unbound = Unbound(spec)
    lines = config_lines(unbound.render_config())
    run = spec.workdir
    for expected in [
        "server:",
        "interface: 127.55.0.1@5053",
        "port: 5053",
        "do-ip6: no",
        "so-reuseport: no",
        "num-threads: 2",
        "access-control: 127.0.0.0/8 allow",
        "do-not-query-localhost: no",
        f'root-hints: "{run}/root.hints"',
        f'trust-anchor-file: "{run}/trust-anchors.ds"',
        'module-config: "validator iterator"',
        "qname-minimisation: yes",
        "outgoing-interface: 127.55.0.1",
        'username: ""',
        'chroot: ""',
        "use-syslog: no",
        f'directory: "{run}"',
        f'logfile: "{run}/unbound.log"',
        f'pidfile: "{run}/unbound.pid"',
        "val-log-level: 2",
        "ede: yes",
        "harden-glue: yes",
        "trust-anchor-signaling: no",
        "msg-cache-size: 10m",
        "rrset-cache-size: 20m",
        "remote-control:",
        "control-enable: yes",
        f'control-interface: "{run}/control.sock"',
        "control-use-cert: no",
    ]:
        assert expected in lines, expected
    text = unbound.render_config()
    assert "auto-trust-anchor-file" not in text
    assert "dnstap" not in text
    assert "local-zone" not in text
    assert unbound.command_line()[1:] == ["-d", "-c", f"{run}/unbound.conf"]


def test_unbound_switches(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        validate=False,
        trust_anchors=(),
        qname_minimisation=False,
        dnstap_socket=tmp_path / "dnstap.sock",
        unblock_zones=("test.", "onion."),
    )
    unbound = Unbound(spec)
    lines = config_lines(unbound.render_config())
    assert 'module-config: "iterator"' in lines
    assert "qname-minimisation: no" in lines
    assert not any(line.startswith("trust-anchor") and "signaling" not in line for line in lines)
    assert not any(line.startswith("outgoing-interface") for line in lines)
    assert 'local-zone: "test." nodefault' in lines
    assert 'local-zone: "onion." nodefault' in lines
    dnstap = lines[lines.index("dnstap:") :]
    for expected in [
        "dnstap-enable: yes",
        f'dnstap-socket-path: "{tmp_path}/dnstap.sock"',
        'dnstap-identity: "unbound@127.55.0.1:5053"',
        "dnstap-log-client-query-messages: yes",
        "dnstap-log-client-response-messages: yes",
    ]:
        assert expected in dnstap, expected
    assert "trust-anchors.ds" not in unbound.render_files()


def test_unbound_side_files_round_trip(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, trust_anchors=(DS, DNSKEY_TEXT))
    unbound = Unbound(spec)
    unbound.write_files()
    assert read_root_hints(spec.workdir / "root.hints") == HINTS
    assert read_trust_anchors(spec.workdir / "trust-anchors.ds") == (DS, DNSKEY_TEXT)
    assert (spec.workdir / "unbound.conf").read_text() == unbound.render_config()


@pytest.mark.skipif(
    shutil.which("unbound-checkconf", path="/usr/sbin:/usr/bin") is None,
    reason="unbound-checkconf not installed (Debian package 'unbound')",
)
@pytest.mark.parametrize("variant", ["plain", "everything"])
def test_unbound_accepts_rendered_config(tmp_path: Path, variant: str) -> None:
    changes: dict[str, object] = {}
    if variant == "everything":
        changes = {
            "outgoing_address": "127.55.0.9",
            "dnstap_socket": tmp_path / "dnstap.sock",
            "qname_minimisation": False,
            "unblock_zones": ("test.",),
            "threads": 2,
        }
    unbound = Unbound(make_spec(tmp_path, **changes))
    unbound.write_files()
    checkconf = shutil.which("unbound-checkconf", path="/usr/sbin:/usr/bin")
    assert checkconf is not None
    result = subprocess.run(
        [checkconf, str(unbound.config_path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- rendering: kresd -----------------------------------------------------------------


def test_kresd_config_essentials(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        kind="kresd",
        listen="127.55.0.2",
        outgoing_address="127.55.0.2",
        trust_anchors=(DS, DNSKEY_TEXT),
        cache_size_mb=32,
    )
    kresd = KnotResolver(spec)
    text = kresd.render_config()
    lines = config_lines(text)
    run = spec.workdir
    for expected in [
        "net.ipv6 = false",
        "net.listen('127.55.0.2', 5053, { kind = 'dns' })",
        f"net.listen('{run}/control.sock', nil, {{ kind = 'control' }})",
        "net.outgoing_v4('127.55.0.2')",
        f"cache.open(32 * MB, 'lmdb://{run}/cache')",
        "modules.load('hints > iterate')",
        "['a.root-servers.lab.'] = { '127.53.0.1' },",
        "['b.root-servers.lab.'] = { '127.53.0.2' }",
        "trust_anchors.remove('.')",
        f"trust_anchors.add('{DS}')",
        f"trust_anchors.add('{DNSKEY_TEXT}')",
        "policy.add(policy.all(policy.FLAGS({ 'ALLOW_LOCAL' })))",
    ]:
        assert expected in lines, expected
    # The real root key must be gone before ours is added.
    assert text.index("trust_anchors.remove('.')") < text.index("trust_anchors.add(")
    assert "hints.root({" in text
    assert "NO_MINIMIZE" not in text
    assert "dnstap" not in text
    assert kresd.command_line()[1:] == ["-n", "-c", f"{run}/kresd.conf", str(run)]


def test_kresd_switches(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        kind="kresd",
        validate=False,
        trust_anchors=(DS,),
        qname_minimisation=False,
        dnstap_socket=tmp_path / "dnstap.sock",
        unblock_zones=("test.",),
        identity="kresd-b",
    )
    text = KnotResolver(spec).render_config()
    lines = config_lines(text)
    assert "trust_anchors.remove('.')" in lines
    assert "trust_anchors.add(" not in text  # validate=False: anchors are not installed
    assert "policy.add(policy.all(policy.FLAGS({ 'ALLOW_LOCAL', 'NO_MINIMIZE' })))" in lines
    assert "net.outgoing_v4" not in text
    assert "policy.add(policy.suffix(policy.PASS, policy.todnames({ 'test.' })))" in lines
    # PASS stops the policy walk, so ALLOW_LOCAL must be set before it.
    assert text.index("'ALLOW_LOCAL'") < text.index("policy.PASS")
    assert "modules.load('dnstap')" in lines
    assert f"socket_path = '{tmp_path}/dnstap.sock'," in lines
    assert "identity = 'kresd-b'," in lines
    assert "client = { log_queries = true, log_responses = true }," in lines


def test_kresd_quotes_awkward_paths(tmp_path: Path) -> None:
    workdir = tmp_path / "it's a \\ dir"
    spec = make_spec(tmp_path, kind="kresd", workdir=workdir)
    text = KnotResolver(spec).render_config()
    assert "net.listen(" + lua.quote(f"{workdir}/control.sock") in text
    assert f"'{workdir}" not in text  # the raw quote would end the Lua string


def test_lua_quote_round_trips_through_kresd_printing() -> None:
    value = "it's a \\ path\nwith ünïcode"
    assert lua.quote(value) == "'it\\'s a \\\\ path\\nwith \\195\\188n\\195\\175code'"
    printed = (
        "'"
        + "".join(
            chr(b) if 0x20 <= b < 0x7F and b not in (0x27, 0x5C) else f"\\{b:03d}"
            for b in value.encode()
        )
        + "'"
    )
    assert lua.unquote_printed(printed) == value
    with pytest.raises(ValueError):
        lua.unquote_printed('[string "x"]:1: boom')


def test_implementation_for_picks_by_kind(tmp_path: Path) -> None:
    assert isinstance(implementation_for(make_spec(tmp_path)), Unbound)
    assert isinstance(implementation_for(make_spec(tmp_path, kind="kresd")), KnotResolver)
    with pytest.raises(ValueError, match="kind"):
        Unbound(make_spec(tmp_path, kind="kresd"))


# --- start-up checks ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "package"), [("unbound", "unbound"), ("kresd", "knot-resolver")])
async def test_missing_binary_names_debian_package(tmp_path: Path, kind: str, package: str) -> None:
    spec = make_spec(tmp_path, kind=kind, binary=tmp_path / "no" / kind)
    resolver = ManagedResolver.from_spec(spec)
    with pytest.raises(BinaryMissing) as caught:
        await resolver.start()
    assert f"{kind} not found" in str(caught.value)
    assert f"install the Debian package '{package}'" in str(caught.value)
    assert caught.value.debian_package == package
    assert resolver.pid is None
    assert not spec.workdir.exists()  # nothing was written or started


def test_find_program_searches_path_and_sbin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert find_program(Path(sys.executable).name, "python3") == Path(sys.executable)
    with pytest.raises(BinaryMissing, match="install the Debian package 'nothing-here'"):
        find_program("shadowdns-no-such-program", "nothing-here")


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
async def test_port_in_use_is_refused_before_starting(tmp_path: Path, transport: str) -> None:
    port = free_port()
    kind = socket.SOCK_DGRAM if transport == "UDP" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as squatter:
        squatter.bind(("127.0.0.1", port))
        if transport == "TCP":
            squatter.listen(1)
        # A binary that exists (and kresd needs no control tool), so only the port
        # check can stop the start.
        spec = make_spec(
            tmp_path, kind="kresd", listen="127.0.0.1", port=port, binary=Path(sys.executable)
        )
        resolver = ManagedResolver.from_spec(spec)
        with pytest.raises(PortInUse) as caught:
            await resolver.start()
    assert str(caught.value).startswith(f"127.0.0.1:{port} is already in use (another resolver?)")
    assert caught.value.transport == transport
    assert resolver.pid is None


def test_free_port_passes(tmp_path: Path) -> None:
    ensure_port_free("127.0.0.1", free_port())


# --- a resolver that is only an address ------------------------------------------------


async def test_by_address_refuses_to_flush_and_outside_addresses() -> None:
    with pytest.raises(ValueError, match="^address: 8.8.8.8 is outside 127.0.0.0/8"):
        ByAddress("8.8.8.8", 53, address_policy=LAB)
    assert repr(ByAddress("2001:db8::53", 53)) == "ByAddress('2001:db8::53', 53)"
    external = ByAddress("127.0.0.1", 53)
    assert not external.can_flush
    with pytest.raises(NotManaged, match="not managed"):
        await external.flush_all()
    with pytest.raises(NotManaged):
        await external.flush_name("lab.")


async def test_by_address_start_fails_when_nothing_answers() -> None:
    port = free_port()
    external = ByAddress("127.0.0.1", port, start_timeout=0.5)
    with pytest.raises(StartFailed, match=f"nothing answers localhost. A at 127.0.0.1:{port}"):
        async with external:
            pass


class _Responder(asyncio.DatagramProtocol):
    """Answers every query with REFUSED, like a resolver that is not for us."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        response = dns.message.make_response(dns.message.from_wire(data))
        response.set_rcode(dns.rcode.REFUSED)
        self.transport.sendto(response.to_wire(), addr)


async def test_by_address_any_answer_means_up() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Responder, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        async with ByAddress("127.0.0.1", port) as external:
            response = await external.health_check()
            assert response.rcode() == dns.rcode.REFUSED
            assert external.name == f"external@127.0.0.1:{port}"
        # stop() left the responder alone
        assert not transport.is_closing()
    finally:
        transport.close()


def _as_reference(reference: Reference) -> Reference:
    return reference


def test_both_kinds_of_reference_satisfy_the_protocol(tmp_path: Path) -> None:
    managed = _as_reference(ManagedResolver.from_spec(make_spec(tmp_path)))
    external = _as_reference(ByAddress("127.0.0.53", 53))
    assert isinstance(managed, Reference) and managed.can_flush
    assert isinstance(external, Reference) and not external.can_flush
    assert (managed.address, managed.port) == ("127.55.0.1", 5053)
    assert (external.address, external.port) == ("127.0.0.53", 53)
