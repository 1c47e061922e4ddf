"""ABI version 1 (``shadowdns.v1``), the host side: the host calls a plugin imports, their
return codes, and the state of one phase call they work on (docs/PLUGINS.md)."""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import time
from collections import Counter
from typing import Any

import dns.edns
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import wasmtime
from wasmtime import _ffi as ffi  # the raw C API: calls without wasmtime-py's per-call checks

from resolver.model import Request
from resolver.plugins import copy_reply

log = logging.getLogger("shadowdns.resolver.wasm")

ABI_MODULE = "shadowdns.v1"
"""The import module of ABI version 1; a later, incompatible ABI gets a new name."""

# Return codes of host calls (negative; a length or a value otherwise)
ERR_NO_REPLY = -1  # the phase has no reply to read (pre_cache, pre_upstream, a post_cache miss)
ERR_RANGE = -2  # section or index out of range
ERR_MEMORY = -3  # pointer/length outside the exported memory, or no memory exported
ERR_PARSE = -4  # record text or EDE code not understood
ERR_LIMIT = -5  # too many records, metric names or log lines

# Phase function results
CONTINUE = 0  # go on as if the plugin had not been called
ANSWER = 1  # answer with (pre phases) / replace the reply by (post phases) the working reply

SECTIONS = ("answer", "authority", "additional")
FLAG_RD, FLAG_CD, FLAG_DO, FLAG_EDNS, FLAG_STREAM = 1, 2, 4, 8, 16

MAX_TEXT = 4096  # bytes of record text, EDE text or log line read from the module
MAX_EDE_TEXT = 200
MAX_ADDED = 64  # records a call may add
MAX_METRICS = 32  # distinct metric names per plugin
MAX_METRIC_NAME = 64
LOG_LINES_PER_SECOND = 10

# name -> number of parameters; every parameter is an i32 and every host call returns one
HOST_CALLS: dict[str, int] = {
    "arg": 2, "qname": 2, "qtype": 0, "qclass": 0, "client": 2, "flags": 0,
    "rcode": 0, "count": 1, "record": 4,
    "set_rcode": 1, "clear": 1, "add_record": 3, "add_ede": 3,
    "log": 3, "metric": 3,
}


@dataclasses.dataclass
class Call:
    """The state one phase call works on: the query, and the reply as the plugin sees it."""

    request: Request
    query: dns.message.Message
    reply: dns.message.Message | None
    owned: bool = False  # reply is our copy (made at the first change)
    added: int = 0


class HostCalls:
    """One plugin's host calls (``_h_NAME`` for each entry of :data:`HOST_CALLS`), with what
    they read and write: the phase call under way, the instance's memory, the plugin's
    argument, metrics and log budget."""

    def __init__(self, name: str, arg: bytes) -> None:
        self.name = name
        self.arg = arg
        self.call: Call | None = None  # the phase call under way
        self.caller: object = None  # wasmtime's caller, during a host call
        self.memory: wasmtime.Memory | None = None  # the instance's exported memory
        self.context: Any = None  # the instance's store context
        self.metrics: Counter[str] = Counter()  # what the plugin counted (metric host call)
        self.logs_dropped = 0
        self._log_window = (0.0, 0)

    # -- memory --------------------------------------------------------------------------------

    def _span(self, ptr: int, length: int) -> int | None:
        """The host address of [ptr, ptr+length) in the module's memory, or None."""
        if self.memory is None or ptr < 0 or length < 0:
            return None
        context = ffi.wasmtime_caller_context(self.caller) if self.caller else self.context
        size = ffi.wasmtime_memory_data_size(context, ctypes.byref(self.memory._memory))
        if ptr + length > size:
            return None
        base = ffi.wasmtime_memory_data(context, ctypes.byref(self.memory._memory))
        return ctypes.addressof(base.contents) + ptr

    def _read(self, ptr: int, length: int) -> bytes | None:
        if length > MAX_TEXT:
            return None
        address = self._span(ptr, length)
        return None if address is None else ctypes.string_at(address, length)

    def _write(self, data: bytes, ptr: int, cap: int) -> int:
        """Copy ``data`` to [ptr, ptr+cap) if it fits; its length either way (or an error)."""
        if len(data) > cap:
            return len(data)
        address = self._span(ptr, len(data))
        if address is None:
            return ERR_MEMORY
        ctypes.memmove(address, data, len(data))
        return len(data)

    def _text(self, ptr: int, length: int) -> str | None:
        raw = self._read(ptr, length)
        if raw is None:
            return None
        return raw.decode("utf-8", "replace")

    def _working(self) -> dns.message.Message:
        """The reply to change: the phase's reply copied, or a new NOERROR reply."""
        call = self.call
        assert call is not None
        if call.reply is None:
            call.reply = dns.message.make_response(call.query, recursion_available=True)
            call.owned = True
        elif not call.owned:
            call.reply = copy_reply(call.reply)
            call.owned = True
        return call.reply

    # -- host calls (docs/PLUGINS.md) ---------------------------------------------------------

    def _h_arg(self, ptr: int, cap: int) -> int:
        return self._write(self.arg, ptr, cap)

    def _h_qname(self, ptr: int, cap: int) -> int:
        assert self.call is not None
        return self._write(qname_text(self.call.request.qname), ptr, cap)

    def _h_qtype(self) -> int:
        assert self.call is not None
        return int(self.call.request.qtype)

    def _h_qclass(self) -> int:
        assert self.call is not None
        return int(self.call.request.qclass)

    def _h_client(self, ptr: int, cap: int) -> int:
        assert self.call is not None
        return self._write(self.call.request.client[0].encode(), ptr, cap)

    def _h_flags(self) -> int:
        call = self.call
        assert call is not None
        r = call.request
        return (FLAG_RD * r.rd) | (FLAG_CD * r.cd) | (FLAG_DO * r.do) \
            | (FLAG_EDNS * (call.query.edns >= 0)) \
            | (FLAG_STREAM * (r.extra.get("transport", "udp") != "udp"))

    def _h_rcode(self) -> int:
        assert self.call is not None
        reply = self.call.reply
        return ERR_NO_REPLY if reply is None else int(reply.rcode())

    def _section(self, section: int) -> list[dns.rrset.RRset] | int:
        """A section of the phase's reply to read, or the error code."""
        assert self.call is not None
        reply = self.call.reply
        if reply is None:
            return ERR_NO_REPLY
        if not 0 <= section < len(SECTIONS):
            return ERR_RANGE
        return list(reply.sections[section + 1])

    def _h_count(self, section: int) -> int:
        rrsets = self._section(section)
        return rrsets if isinstance(rrsets, int) else sum(len(rrset) for rrset in rrsets)

    def _h_record(self, section: int, index: int, ptr: int, cap: int) -> int:
        rrsets = self._section(section)
        if isinstance(rrsets, int):
            return rrsets
        records = [(rrset, rd) for rrset in rrsets for rd in rrset]
        if not 0 <= index < len(records):
            return ERR_RANGE
        rrset, rd = records[index]
        text = (f"{rrset.name.to_text()} {rrset.ttl} {dns.rdataclass.to_text(rrset.rdclass)} "
                f"{dns.rdatatype.to_text(rrset.rdtype)} {rd}")
        return self._write(text.encode(), ptr, cap)

    def _h_set_rcode(self, rcode: int) -> int:
        if not 0 <= rcode <= 0xF:
            return ERR_RANGE
        self._working().set_rcode(dns.rcode.Rcode(rcode))
        return 0

    def _h_clear(self, section: int) -> int:
        if not 0 <= section < len(SECTIONS):
            return ERR_RANGE
        self._working().sections[section + 1] = []
        return 0

    def _h_add_record(self, section: int, ptr: int, length: int) -> int:
        if not 0 <= section < len(SECTIONS):
            return ERR_RANGE
        text = self._text(ptr, length)
        if text is None:
            return ERR_MEMORY
        call = self.call
        assert call is not None
        if call.added >= MAX_ADDED:
            return ERR_LIMIT
        try:
            name, ttl, rdclass, rdtype, rdata = parse_record(text)
        except (ValueError, dns.exception.DNSException):
            return ERR_PARSE
        reply = self._working()
        records = reply.sections[section + 1]
        for i, rrset in enumerate(records):
            if rrset.name == name and rrset.rdtype == rdtype and rrset.rdclass == rdclass \
                    and rrset.covers == dns.rdatatype.NONE:
                grown = rrset.copy()  # never change an RRset the cache may hold
                grown.add(rdata, ttl)
                records[i] = grown
                break
        else:
            new = dns.rrset.RRset(name, rdclass, rdtype)
            new.add(rdata, ttl)
            records.append(new)
        call.added += 1
        return 0

    def _h_add_ede(self, code: int, ptr: int, length: int) -> int:
        if not 0 <= code <= 0xFFFF:
            return ERR_RANGE
        text = self._text(ptr, length) if length else ""
        if text is None:
            return ERR_MEMORY
        reply = self._working()
        option = dns.edns.EDEOption(dns.edns.EDECode.make(code), text[:MAX_EDE_TEXT] or None)
        if reply.edns < 0:
            reply.use_edns(0, 0, 1232, options=[option])
        else:
            reply.use_edns(0, reply.ednsflags, reply.payload,
                           options=[*reply.options, option])
        return 0

    def _h_log(self, level: int, ptr: int, length: int) -> int:
        text = self._text(ptr, min(length, 512))
        if text is None:
            return ERR_MEMORY
        now = time.monotonic()
        second, lines = self._log_window
        if int(now) != int(second):
            second, lines = now, 0
        if lines >= LOG_LINES_PER_SECOND:
            self.logs_dropped += 1
            return ERR_LIMIT
        self._log_window = (second, lines + 1)
        levels = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)
        log.log(levels[min(max(level, 0), 3)], "plugin %s: %s", self.name, text)
        return 0

    def _h_metric(self, ptr: int, length: int, delta: int) -> int:
        if not 0 < length <= MAX_METRIC_NAME:
            return ERR_RANGE
        raw = self._read(ptr, length)
        if raw is None:
            return ERR_MEMORY
        name = raw.decode("ascii", "replace")
        if not all(c.isalnum() or c == "_" for c in name):
            return ERR_PARSE
        if name not in self.metrics and len(self.metrics) >= MAX_METRICS:
            return ERR_LIMIT
        self.metrics[name] += delta
        return 0


_PLAIN = bytes(range(ord("0"), ord("9") + 1)) + bytes(range(ord("A"), ord("Z") + 1)) \
    + bytes(range(ord("a"), ord("z") + 1)) + b"-_*"


def qname_text(name: dns.name.Name) -> bytes:
    """``name`` in presentation format, lower case, with the final dot (what the ``qname``
    host call gives); labels of letters, digits, '-', '_' and '*' are joined without
    dnspython's escaping pass (the common case, 4x faster)."""
    raw = b".".join(name.labels)
    if not raw:
        return b"."
    if not raw.translate(None, _PLAIN + b".") and raw.count(b".") == len(name.labels) - 1:
        return raw.lower()  # (no label holds a dot)
    return name.to_text().lower().encode()


def parse_record(text: str) -> tuple[dns.name.Name, int, dns.rdataclass.RdataClass,
                                      dns.rdatatype.RdataType, dns.rdata.Rdata]:
    """``NAME TTL [CLASS] TYPE RDATA`` (absolute name; class IN when left out)."""
    fields = text.strip().split(None, 3)
    if len(fields) < 4:
        raise ValueError("too few fields")
    name = dns.name.from_text(fields[0])
    ttl = int(fields[1])
    if not 0 <= ttl <= 0x7FFFFFFF:
        raise ValueError("TTL out of range")
    rest = fields[2:]
    try:
        rdclass = dns.rdataclass.from_text(rest[0])
        rest = rest[1].split(None, 1)
    except dns.rdataclass.UnknownRdataclass:
        rdclass = dns.rdataclass.IN
        rest = [rest[0], rest[1]]
    if len(rest) < 2:
        raise ValueError("no RDATA")
    rdtype = dns.rdatatype.from_text(rest[0])
    rdata = dns.rdata.from_text(rdclass, rdtype, rest[1], origin=dns.name.root)
    return name, ttl, rdclass, rdtype, rdata
