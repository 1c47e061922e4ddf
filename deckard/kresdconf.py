"""Knot Resolver's knobs in a Deckard header (``features``, ``feature-list``), translated
into the candidate's configuration, as deckard.unboundconf does for unbound.conf.

Deckard's kresd template turns ``features: KEY = VALUE`` into Lua configuration and
``feature-list: NAME=LUA`` lines into Lua statements.  Translated here:

- ``min_ttl`` / ``max_ttl`` (``cache.min_ttl()``/``cache.max_ttl()``): the cache's TTL bounds;
- ``static_hint_name`` / ``static_hint_addr`` (``hints.set('name addr')``): resolver.kresdmod's
  hints, answered with kresd's hint TTL (5 s, modules/hints), AA clear;
- ``dns64_prefix`` (``dns64.config(prefix)``), ``renumber_src``/``renumber_dst``
  (``renumber.config{{src, dst}}``): resolver.kresdmod's answer stage;
- ``workarounds = true`` (modules/workarounds: it turns 0x20 off for known violators):
  0x20 off (the candidate's switch is global);
- ``policy:add(FILTER(ACTION, ...))`` statements: resolver.kresdmod's policy rules, filters
  ``all``, ``suffix``, ``suffix_common``, ``pattern``; actions ``PASS``, ``DENY``, ``DROP``,
  ``REFUSE``, ``NO_ANSWER``, ``TC``; ``FORWARD('ip[@53]')`` / ``STUB`` under ``suffix`` or
  ``all``: forward zones.

Anything else makes the run "unsupported: ..." (never a silent pass); a line that is not
well-formed Lua of these shapes is a one-line error naming the file and line.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from pathlib import Path

import dns.exception
import dns.name
import dns.reversename
import dns.rrset

from deckard.text import ScenarioError
from resolver.kresdmod import ACTIONS, KresdModules, PolicyRule
from resolver.recursor import ConfiguredZone

HINT_TTL = 5
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")|"
                    r"(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z_0-9]*(?:[.:][A-Za-z_][A-Za-z_0-9]*)*)"
                    r"|(?P<op>[(){},]))")
_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "a": b"\a", "b": b"\b", "f": b"\f",
            "v": b"\v", "\\": b"\\", "'": b"'", '"': b'"'}
_CLASSES = {"a": "A-Za-z", "d": "0-9", "l": "a-z", "u": "A-Z", "s": r"\s", "w": "A-Za-z0-9",
            "x": "0-9A-Fa-f", "p": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            "c": r"\x00-\x1f\x7f"}


class Unsupported(Exception):  # noqa: N818 (an outcome: the run is unsupported)
    pass


class _Action(str):
    """An action value; ``forward`` holds FORWARD/STUB addresses."""

    forward: tuple[str, ...] = ()


def lua_string(text: str) -> bytes:
    """The bytes of a Lua string literal (quotes included in ``text``)."""
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        nxt = body[i + 1]
        if nxt.isdigit():
            digits = re.match(r"\d{1,3}", body[i + 1:])
            assert digits is not None
            out.append(int(digits.group()) & 0xFF)
            i += 1 + len(digits.group())
        elif nxt == "x":
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        else:
            out += _ESCAPES.get(nxt, nxt.encode())
            i += 2
    return bytes(out)


def lua_pattern(pattern: bytes) -> re.Pattern[bytes]:
    """A Lua pattern (lua-users.org/wiki/PatternsTutorial) as a Python regex over bytes."""
    out, i, in_set = [], 0, False
    while i < len(pattern):
        c = chr(pattern[i])
        if c == "%":
            k = chr(pattern[i + 1]) if i + 1 < len(pattern) else ""
            if k in "bf" or k.isdigit():
                raise Unsupported(f"Lua pattern item %{k}")
            if k.lower() in _CLASSES:
                cls = _CLASSES[k.lower()]
                out.append(cls if in_set else (f"[^{cls}]" if k.isupper() else f"[{cls}]"))
            else:
                out.append(re.escape(k))
            i += 2
            continue
        if in_set:
            out.append("]" if c == "]" else (c if c in "^-" else re.escape(c)))
            in_set = c != "]"
        elif c == "[":
            out.append("[")
            in_set = True
        elif c == "^" and i == 0:
            out.append(r"\A")
        elif c == "$" and i == len(pattern) - 1:
            out.append(r"\Z")
        elif c == ".":
            out.append("(?s:.)")
        elif c == "-":
            out.append("*?")
        elif c in "*+?()":
            out.append(c)
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out).encode("latin-1"))


class _Lua:
    """A Lua expression of calls, strings, numbers and tables, evaluated against kresd's
    policy API."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text.rstrip()):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise ValueError(f"cannot read {text[pos:pos + 20]!r}")
            kind = m.lastgroup
            assert kind is not None
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else ""

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise ValueError("unexpected end")
        tok = self.tokens[self.i]
        if want is not None and tok[1] != want:
            raise ValueError(f"expected {want!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self) -> object:
        kind, text = self.take()
        if kind == "str":
            return lua_string(text)
        if kind == "num":
            return int(text)
        if text == "{":
            items: list[object] = []
            while self.peek() != "}":
                items.append(self.expr())
                if self.peek() == ",":
                    self.take()
            self.take("}")
            return items
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        if self.peek() != "(":
            return call(text, None)
        self.take("(")
        args: list[object] = []
        while self.peek() != ")":
            args.append(self.expr())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return call(text, args)


def _names(value: object) -> tuple[dns.name.Name, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(n, dns.name.Name) for n in items):
        raise ValueError("a suffix table holds todname() names")
    return tuple(n for n in items if isinstance(n, dns.name.Name))


def _action(value: object) -> _Action:
    if not isinstance(value, _Action):
        raise ValueError("the first argument of a filter is an action")
    return value


def call(name: str, args: list[object] | None) -> object:
    """kresd's policy API: what ``name`` (called with ``args``, or bare) evaluates to."""
    bare = name.removeprefix("policy.")
    if args is None:
        if name.startswith("policy.") and bare in ACTIONS:
            return _Action(bare)
        raise Unsupported(f"feature-list: {name}")
    if name == "todname" or name == "policy.todnames":
        texts = args[0] if name == "policy.todnames" else args[0:1]
        if not isinstance(texts, list) or not all(isinstance(t, bytes) for t in texts):
            raise ValueError(f"{name} takes strings")
        out = [dns.name.from_text(t.decode(), dns.name.root) for t in texts if isinstance(t, bytes)]
        return out if name == "policy.todnames" else out[0]
    if name in ("policy.FORWARD", "policy.STUB"):
        targets = args[0] if isinstance(args[0], list) else args[0:1]
        addrs = []
        for t in targets:
            addr, _, port = (t.decode() if isinstance(t, bytes) else str(t)).partition("@")
            if port not in ("", "53"):
                raise Unsupported(f"{name} to port {port}")
            addrs.append(ipaddress.ip_address(addr).compressed)
        action = _Action(bare)
        action.forward = tuple(addrs)
        return action
    if name == "policy.all":
        return PolicyRule("all", _action(args[0]))
    if name == "policy.suffix":
        return PolicyRule("suffix", _action(args[0]), names=_names(args[1]))
    if name == "policy.suffix_common":  # the common suffix only speeds kresd's check up
        return PolicyRule("suffix", _action(args[0]), names=_names(args[1]))
    if name == "policy.pattern":
        pattern = args[1].to_wire() if isinstance(args[1], dns.name.Name) else args[1]
        if not isinstance(pattern, bytes):
            raise ValueError("policy.pattern takes a string")
        return PolicyRule("pattern", _action(args[0]), pattern=lua_pattern(pattern))
    raise Unsupported(f"feature-list: {name}()")


def policy_rule(text: str) -> PolicyRule:
    """One ``NAME=policy:add(...)`` line's rule (ValueError when malformed)."""
    _, eq, code = text.partition("=")
    if not eq:
        raise ValueError("not 'name=lua'")
    lua = _Lua(code.strip())
    kind, head = lua.take()
    if head != "policy:add":
        raise Unsupported(f"feature-list: {head}")
    lua.take("(")
    rule = lua.expr()
    lua.take(")")
    if lua.i != len(lua.tokens):
        raise ValueError(f"text after the statement: {lua.peek()!r}")
    if not isinstance(rule, PolicyRule):
        raise ValueError("policy:add takes a filter")
    return rule


def translate(path: Path, features: list[tuple[int, str, str]],
              lines: list[tuple[int, str]]) -> dict[str, object]:
    """The ScenarioConfig fields the kresd knobs set (unknown ones listed as unsupported)."""
    unsupported: list[str] = []
    changes: dict[str, object] = {}
    values = {k: v for _, k, v in features}
    where = {k: n for n, k, _ in features}
    ttl: dict[str, int] = {}
    renumber = []
    dns64 = None
    hints: tuple[dns.rrset.RRset, ...] = ()
    current = next(iter(where), "")
    try:
        for key, value in values.items():
            current = key
            if key in ("min_ttl", "max_ttl"):
                ttl[f"cache_{key}"] = int(value)
            elif key == "dns64_prefix":
                dns64 = ipaddress.IPv6Network(f"{value.split('/')[0]}/96", strict=False)
            elif key == "renumber_src":
                src = ipaddress.ip_network(value, strict=False)
                dst = ipaddress.ip_network(f"{values['renumber_dst'].split('/')[0]}/"
                                           f"{src.prefixlen}", strict=False)
                renumber.append((src, dst))
            elif key == "workarounds":
                changes["use_0x20"] = value.lower() not in ("true", "yes", "on", "1")
            elif key not in ("static_hint_name", "static_hint_addr", "renumber_dst"):
                unsupported.append(f"features: {key}")
        if "static_hint_name" in values:
            current = "static_hint_name"
            name = dns.name.from_text(values["static_hint_name"], dns.name.root)
            addr = ipaddress.ip_address(values["static_hint_addr"])
            rdtype = "A" if addr.version == 4 else "AAAA"
            hints = (dns.rrset.from_text(name, HINT_TTL, "IN", rdtype, addr.compressed),
                     dns.rrset.from_text(dns.reversename.from_address(str(addr)), HINT_TTL,
                                         "IN", "PTR", name.to_text()))
    except (ValueError, KeyError, dns.exception.DNSException) as e:
        raise ScenarioError(path, where.get(current, 1), f"features: {current}: {e}") from None
    rules: list[PolicyRule] = []
    zones: list[ConfiguredZone] = []
    for lineno, text in lines:
        try:
            rule = policy_rule(text)
        except Unsupported as e:
            unsupported.append(str(e))
            continue
        except (ValueError, IndexError, dns.exception.DNSException) as e:
            raise ScenarioError(path, lineno, f"feature-list: {text!r}: {e}") from None
        forward = getattr(rule.action, "forward", ())
        if forward:
            if rule.kind == "pattern":
                unsupported.append("feature-list: FORWARD under policy.pattern")
            for n in rule.names if rule.kind == "suffix" else (dns.name.root,):
                zones.append(ConfiguredZone(n, True, forward))
            continue
        rules.append(dataclasses.replace(rule, action=str(rule.action)))
    if ttl:
        changes["ttl_bounds"] = tuple(sorted(ttl.items()))
    if zones:
        changes["zones"] = tuple(zones)
    changes["kresd"] = KresdModules(tuple(rules), dns64, tuple(renumber), hints)
    changes["unsupported"] = tuple(unsupported)
    return changes
