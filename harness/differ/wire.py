"""The fast path: are two responses equal apart from their IDs and (decayed) TTLs?

Most mirrored queries get the same answer from the candidate and the reference, so this
is the path that sets the differ's throughput.  It never builds a dnspython message: it
walks the reference's wire format once to find every RR's TTL field (skipping names, which
is cheap: labels and compression pointers), then compares the bytes between those fields
as slices.  Identical bytes around the TTLs mean an identical structure, so the same offsets
hold in the candidate's response.

TTLs are not simply ignored: a candidate TTL above the reference's must still lie within
what the reference has shown for that exact layout (the layout is the response with ID and
TTLs zeroed; :class:`Layouts` keeps, per layout, the highest TTL the reference has given at
each RR position), or the pair goes to the slow path, where the TTL normaliser decides.

:class:`Layouts` also remembers the reference responses it has seen per question, so that
what the reference said on the fast path can still teach the slow path later (address
pools, original TTLs): they are parsed only when a divergence on that question needs them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from harness import wirewalk

__all__ = ["Layouts", "Walk", "memo_key", "walk"]

_ZERO4 = b"\0\0\0\0"


@dataclass(frozen=True, slots=True)
class Walk:
    """Where things are in one response: the question's end and every RR's TTL offset."""

    question_end: int
    ttl_offsets: tuple[int, ...]


def walk(wire: bytes) -> Walk | None:
    """Find the TTL field of every RR (except OPT, whose TTL field holds EDNS flags).

    ``None`` when the bytes are not a well-formed DNS message (short, a bad label or
    pointer, trailing bytes): such a response always takes the slow path.  The walk is the
    judge's own (:func:`harness.wirewalk.walk`), never the candidate's.
    """
    walked = wirewalk.walk(wire)
    if walked is None:
        return None
    return Walk(walked.question_end, walked.ttl_offsets)


def question_key(wire: bytes, question_end: int) -> bytes:
    """The question section with the name lower-cased: one key per question, any 0x20 case."""
    return wire[12:question_end - 4].lower() + wire[question_end - 4:question_end]


def layout_of(wire: bytes, w: Walk) -> bytes:
    """``wire`` with its ID and every TTL zeroed and the question name lower-cased, so that
    every 0x20 spelling of a question shares one layout.

    Only the question is lower-cased: lower-casing everything would merge rdata bytes that
    happen to be ASCII letters.  Whoever needs the questions to match exactly compares them.
    """
    masked = bytearray(wire)
    masked[0:2] = b"\0\0"
    end = w.question_end - 4
    masked[12:end] = wire[12:end].lower()
    for o in w.ttl_offsets:
        masked[o:o + 4] = _ZERO4
    return bytes(masked)


def memo_key(wire: bytes) -> tuple[int, Walk] | None:
    """A hash of :func:`layout_of` ``wire``, and the walk; ``None`` if malformed."""
    w = walk(wire)
    if w is None:
        return None
    return hash(layout_of(wire, w)), w


@dataclass(slots=True)
class _Layout:
    bounds: list[int]  # highest reference TTL seen at each RR position
    wire: bytes  # one reference response with this layout (for late learning)
    offsets: tuple[int, ...]
    question: bytes
    vantage: str
    learned: list[int] | None = None  # the bounds when last handed out by pending()


@dataclass
class Layouts:
    """What the reference has answered, by layout: TTL bounds and responses to learn from.

    Bounded: past ``capacity`` layouts the oldest are forgotten.
    """

    capacity: int = 200_000
    _by_layout: OrderedDict[int, _Layout] = field(default_factory=OrderedDict)
    _by_question: dict[bytes, list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._by_layout)

    def fast_equal(self, candidate: bytes, reference: bytes, vantage: str = "") -> bool:
        """Equal apart from ID and TTLs, with every candidate TTL within what the reference
        has shown for this layout.  Records the reference's layout when the two are equal.
        """
        if len(candidate) != len(reference):
            return False
        w = walk(reference)
        if w is None:
            return candidate[2:] == reference[2:]
        offsets = w.ttl_offsets
        prev = 2
        for o in offsets:
            if candidate[prev:o] != reference[prev:o]:
                return False
            prev = o + 4
        if candidate[prev:] != reference[prev:]:
            return False
        entry = self._remember(reference, w, vantage)
        bounds = entry.bounds
        for i, o in enumerate(offsets):
            if int.from_bytes(candidate[o:o + 4]) > bounds[i]:
                return False
        return True

    def remember(self, reference: bytes, vantage: str = "") -> None:
        """Record a reference response seen outside :meth:`fast_equal`."""
        w = walk(reference)
        if w is not None:
            self._remember(reference, w, vantage)

    def _remember(self, reference: bytes, w: Walk, vantage: str) -> _Layout:
        offsets = w.ttl_offsets
        key = hash(layout_of(reference, w))
        entry = self._by_layout.get(key)
        ttls = [int.from_bytes(reference[o:o + 4]) for o in offsets]
        if entry is None:
            qkey = question_key(reference, w.question_end)
            entry = _Layout(ttls, reference, offsets, qkey, vantage)
            self._by_layout[key] = entry
            self._by_question.setdefault(qkey, []).append(key)
            if len(self._by_layout) > self.capacity:
                self._forget_oldest()
        else:
            bounds = entry.bounds
            for i, t in enumerate(ttls):
                if t > bounds[i]:
                    bounds[i] = t
        return entry

    def _forget_oldest(self) -> None:
        key, old = self._by_layout.popitem(last=False)
        keys = self._by_question.get(old.question)
        if keys is not None:
            try:
                keys.remove(key)
            except ValueError:
                pass
            if not keys:
                del self._by_question[old.question]

    def pending(self, wire: bytes) -> list[tuple[bytes, str]]:
        """Reference responses to ``wire``'s question that hold something not learned yet,
        each with its vantage, and with the highest TTLs seen for its layout in place."""
        w = walk(wire)
        if w is None:
            return []
        out: list[tuple[bytes, str]] = []
        for key in self._by_question.get(question_key(wire, w.question_end), ()):
            entry = self._by_layout.get(key)
            if entry is None or entry.learned == entry.bounds:
                continue
            entry.learned = list(entry.bounds)
            patched = bytearray(entry.wire)
            for o, ttl in zip(entry.offsets, entry.bounds, strict=True):
                patched[o:o + 4] = ttl.to_bytes(4)
            out.append((bytes(patched), entry.vantage))
        return out
