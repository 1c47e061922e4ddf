"""``shadowdns bench profile-cold``: where the CPU of a cold validated query goes (issue 22).

Starts the lab, builds the candidate in this process (lab root hints and trust anchor,
validation on, as ``resolver serve --lab`` does), warms the delegation and the keys of the
NSEC3 opt-out zone, then plays the worker's path for ``--queries`` fresh names of that zone
(every one a cold NXDOMAIN upstream whose NSEC3 closest-encloser proof is checked): the
client query parsed, resolved and validated, the reply rendered.

Passes over fresh names: :data:`PLAIN_PASSES` plain ones, for the CPU per query (process
time: this process only, the lab runs in its own; the lowest pass is the figure), one with
a stack sampler, for the shares: every 0.5 ms a
thread looks at the resolving thread's stack (coroutines awaiting one another are on it)
and charges the sample to the stage of the innermost frame that names one (:data:`RULES`:
dnspython's parse and render wherever they are called, signature checks, NSEC3 hashing, the
cache, scrubbing, validation logic, iteration, the event loop).  A sample taken while the
loop waits for the lab's answer (in ``select``) is idle time, not CPU, and is left out.
With ``--cprofile FILE`` one more pass runs under cProfile timed by process CPU time (so
the machine's other jobs do not count): Python calls per query, deterministic for a given
code path, and inclusive times per function for a breakdown by stage.
The floor set by the primitives themselves is measured beside it: one verify per
algorithm and one NSEC3 hash at the zone's iteration count.  Nothing here is a timed
assertion; the figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import dns.dnssec
import dns.message
import dns.name
import dns.rdatatype

from configfiles.roothints import read_root_hints
from lab.run import LabError, LabProcess
from netpolicy import AddressPolicy
from resolver import dnsfast
from resolver.app import ResolverAnswerer, build
from resolver.config import ResolverConfig
from resolver.model import Request
from shadowdns.bench.resolver import nonpositive_flag

ZONE = "optout.rsa."
EGRESS = "127.0.0.15"

# (path fragment, function name or "" for any): the stage a sample is charged to.  A sample's
# stack is walked from the innermost frame outwards; the first frame a rule matches decides.
RULES: tuple[tuple[str, str, str], ...] = (
    ("dns/dnssecalgs/", "", "crypto primitive (verify call)"),
    ("dns/dnssec.py", "nsec3_hash", "NSEC3 hashing"),
    ("dns/message.py", "from_wire", "message parse"),
    ("dns/message.py", "to_wire", "message render"),
    ("dns/renderer.py", "", "message render"),
    ("resolver/dnssec/signatures.py", "verify_rrset", "signature verification (canonical form)"),
    ("resolver/conductor/", "", "upstream exchange (query, socket)"),
    ("resolver/cache/", "", "cache (insert, lookup)"),
    ("resolver/recursor/classify.py", "", "scrub and classify"),
    ("resolver/dnssec/", "", "validation (chain of trust, proofs)"),
    ("resolver/recursor/", "", "iteration"),
    ("resolver/app.py", "", "reply build"),
    ("asyncio/selector_events.py", "sendto", "sockets (send: the kernel delivers on loopback)"),
    ("asyncio/selector_events.py", "sock_sendall",
     "sockets (send: the kernel delivers on loopback)"),
    ("asyncio/selector_events.py", "_read_ready", "sockets (receive)"),
    ("asyncio/selector_events.py", "sock_recv", "sockets (receive)"),
    ("asyncio/selector_events.py", "_sock_recv", "sockets (receive)"),
    ("asyncio/base_events.py", "create_datagram_endpoint", "sockets (set-up per query)"),
    ("asyncio/selector_events.py", "__init__", "sockets (set-up per query)"),
    ("asyncio/selector_events.py", "close", "sockets (set-up per query)"),
    ("asyncio/selector_events.py", "_call_connection_lost", "sockets (set-up per query)"),
    ("asyncio/", "", "event loop"),
    ("selectors.py", "", "event loop"),
)
PLAIN_PASSES = 6
"""Plain passes of fresh names; the lowest CPU per query is the figure (the others are
the same work slowed by the machine's other jobs)."""
SAMPLE_EVERY = 0.0005
"""Seconds between stack samples (the GIL hand-over interval is lowered to match)."""


def register(bsub: Any) -> None:
    p = bsub.add_parser("profile-cold", help="where the CPU of a cold validated query goes "
                                             "(in process, on the lab)")
    p.add_argument("--queries", type=int, default=300, metavar="N",
                   help="fresh names per pass")
    p.add_argument("--run-dir", type=Path, default=Path("run/profile"), metavar="DIR",
                   help="state of the lab")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    p.add_argument("--cprofile", type=Path, metavar="FILE",
                   help="also run a pass under cProfile (timer: process CPU time) and write "
                        "its statistics here (pstats format; calls per query are printed)")
    p.set_defaults(func=run)


async def _one(answerer: ResolverAnswerer, wire: bytes) -> bytes:
    """The worker's path for one client query: parse, resolve, render."""
    query = dns.message.from_wire(wire)
    q = query.question[0]
    request = Request(q.name, q.rdtype, do=True)
    reply = await answerer.answer(request, query)
    return reply.to_wire(max_size=65535)


def _fresh(rng: random.Random, n: int) -> list[bytes]:
    """``n`` client queries for fresh names (made before the clock starts: the client's
    work is not the resolver's)."""
    return [dns.message.make_query(f"p{rng.getrandbits(48):x}.{ZONE}", "A",
                                   want_dnssec=True).to_wire() for _ in range(n)]


def stage_of(frame: FrameType | None) -> str:
    """The stage a sample with innermost frame ``frame`` is charged to."""
    while frame is not None:
        path, function = frame.f_code.co_filename, frame.f_code.co_name
        for fragment, name, stage in RULES:
            if fragment in path and (not name or name == function):
                return stage
        frame = frame.f_back
    return "other"


class Sampler:
    """Samples one thread's stack every :data:`SAMPLE_EVERY` seconds from a thread of its
    own and counts the stages (see :data:`RULES`)."""

    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id
        self.counts: collections.Counter[str] = collections.Counter()
        self.idle = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._old_interval = sys.getswitchinterval()
        sys.setswitchinterval(SAMPLE_EVERY)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._old_interval)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None and frame.f_code.co_name == "select" \
                    and frame.f_code.co_filename.endswith("selectors.py"):
                self.idle += 1  # waiting for the network: not CPU
                continue
            self.counts[stage_of(frame)] += 1

    def shares(self) -> dict[str, float]:
        total = sum(self.counts.values()) or 1
        return {k: round(100 * v / total, 1) for k, v in self.counts.most_common()}


def primitives_floor() -> dict[str, float]:
    """Microseconds of CPU for one verify per algorithm and one NSEC3 hash."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    msg = b"\x00" * 300

    def per_call(f: Callable[[], object], n: int = 2000) -> float:
        start = time.process_time()
        for _ in range(n):
            f()
        return round((time.process_time() - start) / n * 1e6, 1)

    rsa_key = rsa.generate_private_key(65537, 2048)
    rsa_sig = rsa_key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    rsa_pub = rsa_key.public_key()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_sig = ec_key.sign(msg, ec.ECDSA(hashes.SHA256()))
    ec_pub = ec_key.public_key()
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_sig = ed_key.sign(msg)
    ed_pub = ed_key.public_key()
    name = dns.name.from_text(f"abcdef012345.{ZONE}")
    return {
        "rsa2048_sha256_verify_us": per_call(
            lambda: rsa_pub.verify(rsa_sig, msg, padding.PKCS1v15(), hashes.SHA256())),
        "ecdsa_p256_verify_us": per_call(
            lambda: ec_pub.verify(ec_sig, msg, ec.ECDSA(hashes.SHA256()))),
        "ed25519_verify_us": per_call(lambda: ed_pub.verify(ed_sig, msg)),
        "nsec3_hash_0_iterations_us": per_call(
            lambda: dns.dnssec.nsec3_hash(name, "c0ffee", 0, 1), 20000),
        "nsec3_hash_10_iterations_us": per_call(
            lambda: dns.dnssec.nsec3_hash(name, "c0ffee", 10, 1), 20000),
    }


async def _profile(state: Path, n: int, cprofile: Path | None = None) -> dict[str, Any]:
    policy = AddressPolicy.lab_mode("--lab")
    config = ResolverConfig(listen="127.0.0.15", port=5353,
                            root_hints=read_root_hints(state / "root.hints", policy),
                            trust_anchor_file=state / "trust-anchor.ds", do_ip6=False,
                            egress=EGRESS)
    answerer = build(config)
    rng = random.Random(1)
    for wire in _fresh(rng, 5):  # delegations, keys, the zone's NSEC3 parameters
        await _one(answerer, wire)
    passes = []
    for _ in range(PLAIN_PASSES):
        queries = _fresh(rng, n)
        start = time.process_time()
        for wire in queries:
            await _one(answerer, wire)
        passes.append((time.process_time() - start) / n)
    plain = min(passes)
    queries = _fresh(rng, n)
    with Sampler(threading.get_ident()) as sampler:
        for wire in queries:
            await _one(answerer, wire)
    result: dict[str, Any] = {
        "queries": n, "cpu_ms_per_query": round(1000 * plain, 3),
        "cpu_ms_per_query_passes": [round(1000 * p, 3) for p in passes],
        "samples": sum(sampler.counts.values()), "shares_percent": sampler.shares()}
    if cprofile is not None:
        import cProfile
        import pstats
        queries = _fresh(rng, n)
        profiler = cProfile.Profile(time.process_time)  # CPU, not the machine's other jobs
        profiler.enable()
        for wire in queries:
            await _one(answerer, wire)
        profiler.disable()
        profiler.dump_stats(cprofile)
        calls = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
        result["python_calls_per_query"] = round(calls / n)
    return result


def run(args: argparse.Namespace) -> int:
    dnsfast.install()  # the cold path as `resolver serve` runs it (resolver/dnsfast.py)
    if nonpositive_flag("profile-cold", args, "queries"):
        return 2
    lab = LabProcess(args.run_dir / "lab")
    lab.stop()
    try:
        info = lab.start()
        try:
            result = asyncio.run(_profile(info.state_dir, args.queries, args.cprofile))
        finally:
            lab.stop()
    except (LabError, OSError) as e:
        print(f"shadowdns bench profile-cold: {e}", file=sys.stderr)
        return 1
    result["floor"] = primitives_floor()
    print(f"cold validated NXDOMAIN ({ZONE}), {result['queries']} fresh names: "
          f"{result['cpu_ms_per_query']} ms CPU per query (lowest of "
          f"{result['cpu_ms_per_query_passes']}); shares of "
          f"{result['samples']} stack samples:")
    for k, v in result["shares_percent"].items():
        print(f"  {v:5.1f} %  {k}")
    if "python_calls_per_query" in result:
        print(f"cProfile pass: {result['python_calls_per_query']} Python calls per query "
              f"(statistics in {args.cprofile})")
    print("floor: " + ", ".join(f"{k} {v}" for k, v in result["floor"].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0
