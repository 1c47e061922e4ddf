"""The verdict's evidence record: its JSON form, versions, and what an old store holds."""

from __future__ import annotations

import json

import pytest

from harness.evidence import (
    VERSION,
    Confirmation,
    DifferenceEntry,
    DnssecOutcomes,
    Evidence,
    EvidenceError,
    ExplainedEntry,
    FloorEntry,
    RequeryEntry,
    SweepEntry,
)
from harness.store import json_text

FULL = Evidence(
    reference_target="unbound", candidate="NOERROR A 192.0.2.66", reference="NOERROR A 192.0.2.1",
    differences=[DifferenceEntry("answer.data", "data differs", "www.example. A",
                                 "192.0.2.66", "192.0.2.1")],
    differences_omitted=3,
    explained=[ExplainedEntry("ttl", "decay", ["answer.ttl"], 2, ["edge.example. A"])],
    dnssec=DnssecOutcomes("insecure", "secure"), confirmed=True,
    confirmation=Confirmation(candidate_changed=False, reference_changed=False,
                              persisted=True, candidate_agrees_with=["kresd"]),
    requeries=[RequeryEntry("unbound", "confirm", "www.example.", 1, flush=True,
                            answer="NOERROR"),
               RequeryEntry("candidate", "cd", "www.example.", 1, cd=True, error="timeout")],
    pool_requeries=4, cd_rcodes={"unbound": "NOERROR"},
    noise_floor=[FloorEntry("answer.data www.example. A", "persisted", "unbound", "how")],
    authority_sweep=[SweepEntry("www.example.", 1, "example.", ["ns1.example. (192.0.2.53)"]),
                     SweepEntry("x.example.", 28)],
    first_attempt_errors={"candidate": "timeout"}, memo=True)


def test_every_field_goes_through_the_store_s_json_and_back() -> None:
    back = Evidence.from_json(json.loads(json_text(FULL.to_json())))
    assert back == FULL and back.version == VERSION


def test_the_json_holds_the_version_and_only_what_was_set() -> None:
    data = Evidence(side="candidate", errors={"candidate": "timeout"}).to_json()
    assert data == {"version": VERSION, "side": "candidate", "errors": {"candidate": "timeout"}}
    flags = RequeryEntry("unbound", "confirm", "a.", 1, answer="x")
    assert Evidence(requeries=[flags]).to_json()["requeries"] == [
        {"target": "unbound", "purpose": "confirm", "qname": "a.", "qtype": 1, "answer": "x"}]
    # a False that says something is kept; a False that is the default is not
    confirmation = Confirmation(candidate_changed=False)
    assert Evidence(confirmation=confirmation).to_json()["confirmation"] == {
        "candidate_changed": False}


def test_version_0_is_a_record_without_version_and_keeps_unknown_keys() -> None:
    # as the exact judge wrote it before the record: one key per target
    old = {"candidate": "NOERROR 192.0.2.1", "kresd": "NOERROR 192.0.2.2",
           "confirmation": {"candidate_changed": False, "persisted": True},
           "differences": [{"category": "rcode", "detail": "d"}]}
    e = Evidence.from_json(old)
    assert e.version == 0 and e.candidate == "NOERROR 192.0.2.1"
    assert e.other == {"kresd": "NOERROR 192.0.2.2"}
    assert e.confirmation == Confirmation(candidate_changed=False, persisted=True)
    assert e.differences == [DifferenceEntry("rcode", "d")]
    assert e.to_json() == {**old, "version": 0}  # written back as read, unknown keys too


@pytest.mark.parametrize(("data", "message"), [
    ({"version": VERSION + 1}, f"version {VERSION + 1} is not one this reader knows"),
    ({"version": "1"}, "version '1'"),
    ([], "expected an object, got list"),
    ({"differences": [{"category": "rcode"}]}, "evidence.differences[0]:"),
    ({"confirmation": "yes"}, "evidence.confirmation: expected an object, got str"),
])
def test_evidence_that_does_not_read_says_what_and_where(data: object, message: str) -> None:
    with pytest.raises(EvidenceError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Evidence.from_json(data)
