"""Options of unbound.conf that cannot change a testbound scenario's answers are no-ops;
options whose value is what the candidate does run only with that value (else the run is
"unsupported: KEY: VALUE", never a silent pass)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckard.unboundconf import parse_unbound_conf


def unsupported(*lines: str) -> tuple[str, ...]:
    text = "server:\n" + "".join(f"\t{line}\n" for line in lines) \
        + "stub-zone:\n\tname: \".\"\n\tstub-addr: 192.0.2.1\n"
    return parse_unbound_conf(Path("x.rpl"), list(enumerate(text.splitlines(), 1))).unsupported


@pytest.mark.parametrize("line", [
    "val-log-squelch: yes", "wait-limit: 1000", "discard-timeout: 1900",
    "ratelimit-for-domain: example.com 1000", "tls-cert-bundle: /etc/ssl/certs.pem",
    "pad-responses: yes", "nsid: ascii_unbound", "harden-short-bufsize: yes",
    "harden-large-queries: no", "disable-edns-do: no",
    "answer-cookie: no", "fast-server-permil: 0",
])
def test_options_that_do_not_change_the_answers_run(line: str) -> None:
    assert unsupported(line) == ()


@pytest.mark.parametrize("line", [
    "harden-large-queries: yes", "disable-edns-do: yes", "answer-cookie: yes",
    "fast-server-permil: 900", "ratelimit: 100", "no-such-option: 1",
])
def test_options_the_candidate_cannot_honour_make_the_run_unsupported(line: str) -> None:
    assert unsupported(line)
