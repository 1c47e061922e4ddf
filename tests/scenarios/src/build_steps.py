"""Write the steps_* scenarios of tests/scenarios/testbound/steps_options (issue 16 part 3,
helper "steps"): testbound's steps TIMEOUT, ERROR, INFRA_RTT, ASSIGN and TIME_PASSES EVAL,
one aspect each, as Unbound's testcode/replay.h documents them.  build_options.py writes the
opt_* files of the same directory.  ``python tests/scenarios/src/build_steps.py``
"""

from pathlib import Path

OUT = Path(__file__).parents[1] / "testbound" / "steps_options"

HEADER = """; config options
server:
	target-fetch-policy: "0 0 0 0 0"
	qname-minimisation: "no"
	minimal-responses: yes
{extra}
stub-zone:
	name: "."
	stub-addr: 193.0.14.129 	# K.ROOT-SERVERS.NET.
CONFIG_END

SCENARIO_BEGIN {title}
"""


def entry(
    q,
    answer="",
    authority="",
    additional="",
    flags="QR NOERROR",
    match="opcode qtype qname",
    adjust="copy_id",
):
    s = f"ENTRY_BEGIN\nMATCH {match}\nADJUST {adjust}\nREPLY {flags}\nSECTION QUESTION\n{q}\n"
    if answer:
        s += f"SECTION ANSWER\n{answer}\n"
    if authority:
        s += f"SECTION AUTHORITY\n{authority}\n"
    if additional:
        s += f"SECTION ADDITIONAL\n{additional}\n"
    return s + "ENTRY_END\n"


def rng(start, end, addr, *entries, comment=""):
    c = f"; {comment}\n" if comment else ""
    return (
        c + f"RANGE_BEGIN {start} {end}\n\tADDRESS {addr}\n" + "\n".join(entries) + "RANGE_END\n\n"
    )


def root(zone="example.com.", ns=(("ns1", "1.2.3.4"),), start=0, end=1000):
    nsr = "\n".join(f"{zone}\tIN NS\t{n}.{zone}" for n, _ in ns)
    glue = "\n".join(f"{n}.{zone}\tIN A\t{a}" for n, a in ns)
    return rng(
        start,
        end,
        "193.0.14.129",
        entry(
            ". IN NS",
            ". IN NS\tK.ROOT-SERVERS.NET.",
            additional="K.ROOT-SERVERS.NET.\tIN A\t193.0.14.129",
        ),
        entry(
            f"{zone} IN NS",
            authority=nsr,
            additional=glue,
            match="opcode subdomain",
            adjust="copy_id copy_query",
        ),
        comment="K.ROOT-SERVERS.NET.",
    )


def auth(addr, start, end, name="www.example.com.", a="10.20.30.40", ttl=3600, comment=""):
    return rng(
        start,
        end,
        addr,
        entry(f"{name} IN A", f"{name} {ttl} IN A {a}", flags="QR AA NOERROR"),
        comment=comment,
    )


def query(step, name="www.example.com.", qtype="A"):
    return (
        f"STEP {step} QUERY\nENTRY_BEGIN\nREPLY RD\nSECTION QUESTION\n"
        f"{name} IN {qtype}\nENTRY_END\n\n"
    )


def check(
    step, name="www.example.com.", a="10.20.30.40", ttl=None, flags="QR RD RA NOERROR", match="all"
):
    t = f"{ttl} " if ttl is not None else ""
    ans = f"SECTION ANSWER\n{name} {t}IN A {a}\n" if a else ""
    return (
        f"STEP {step} CHECK_ANSWER\nENTRY_BEGIN\nMATCH {match}\nREPLY {flags}\n"
        f"SECTION QUESTION\n{name} IN A\n{ans}ENTRY_END\n\n"
    )


def write(name, title, body, extra=""):
    text = HEADER.format(extra=extra, title=title) + "\n" + body + "SCENARIO_END\n"
    (OUT / f"{name}.rpl").write_text(text)


def countdown(name, title, steps, ttl):
    """The answer (TTL 3600) asked, ``steps`` played, asked again: from the cache, ``ttl``."""
    write(
        name,
        title,
        root()
        + auth("1.2.3.4", 0, 1000)
        + query(1)
        + check(10, ttl=3600, match="all ttl")
        + steps
        + query(20)
        + check(30, ttl=ttl, match="all ttl"),
    )


def main() -> None:
    # 1. a timed-out query is sent again and answered (one server)
    write(
        "steps_timeout_retry",
        "TIMEOUT: the pending query to the only server times out; it is sent again and answered",
        root()
        + auth("1.2.3.4", 20, 1000, comment="ns1.example.com. answers only after the timeout")
        + query(1)
        + "; the query to ns1.example.com. has no answer before step 20: it times out\n"
        "STEP 10 TIMEOUT\n\n" + check(20),
    )

    # 2. timeout, zone with two servers: the retry is answered by one of them
    write(
        "steps_timeout_two_servers",
        "TIMEOUT: one of the zone's two servers times out, the query is resent and answered",
        root(ns=(("ns1", "1.2.3.4"), ("ns2", "1.2.3.5")))
        + auth("1.2.3.4", 20, 1000, comment="ns1")
        + auth("1.2.3.5", 20, 1000, comment="ns2")
        + query(1)
        + "STEP 10 TIMEOUT\n\n"
        + check(20),
    )

    # 3. two timeouts in a row, then the answer
    write(
        "steps_timeout_twice",
        "TIMEOUT twice: two queries in a row time out, the third is answered",
        root()
        + auth("1.2.3.4", 30, 1000, comment="ns1 answers from step 30")
        + query(1)
        + "STEP 10 TIMEOUT\n\nSTEP 20 TIMEOUT\n\n"
        + check(30),
    )

    # 4. ERROR: the pending query fails (connection error); resent, answered
    write(
        "steps_error_retry",
        "ERROR: the pending upstream query fails with a network error; it is resent and answered",
        root()
        + auth("1.2.3.4", 20, 1000, comment="ns1 answers from step 20")
        + query(1)
        + "STEP 10 ERROR\n\n"
        + check(20),
    )

    # 5. INFRA_RTT: fast server asked, slow never
    write(
        "steps_infra_rtt_fast_first",
        "INFRA_RTT: of two servers, the one with the low RTT is asked; the slow one never",
        root(ns=(("ns1", "1.2.3.4"), ("ns2", "1.2.3.5")))
        + auth("1.2.3.4", 0, 1000, comment="ns1: fast")
        + rng(0, 1000, "1.2.3.5", "", comment="ns2: slow, has no answers (asking it is an error)")
        + "STEP 1 INFRA_RTT 1.2.3.4 example.com. 20\n\n"
        + "STEP 2 INFRA_RTT 1.2.3.5 example.com. 1200\n\n"
        + query(10)
        + check(20),
    )

    # 6. INFRA_RTT the other way round
    write(
        "steps_infra_rtt_second_fast",
        "INFRA_RTT: the second server of the NS set is the fast one and is the one asked",
        root(ns=(("ns1", "1.2.3.4"), ("ns2", "1.2.3.5")))
        + rng(0, 1000, "1.2.3.4", "", comment="ns1: slow, has no answers")
        + auth("1.2.3.5", 0, 1000, comment="ns2: fast")
        + "STEP 1 INFRA_RTT 1.2.3.5 example.com. 15\n\n"
        + "STEP 2 INFRA_RTT 1.2.3.4 example.com. 1500\n\n"
        + query(10)
        + check(20),
    )

    # 7. ASSIGN and TIME_PASSES EVAL: the cached answer's TTL counts down by the evaluated time
    countdown(
        "steps_assign_eval_ttl",
        "ASSIGN and TIME_PASSES EVAL: variables hold the time; "
        "the cache counts down by the expression",
        "STEP 11 ASSIGN t0 = ${time}\n\nSTEP 12 ASSIGN t1 = ${$t0 + 1800}\n\n"
        "STEP 13 TIME_PASSES EVAL ${$t1 - $t0}\n\n",
        1800,
    )
    # 8. left to right, no precedence
    countdown(
        "steps_eval_left_to_right",
        "TIME_PASSES EVAL: arithmetic goes left to right without precedence (2+3*100 is 500)",
        "STEP 11 TIME_PASSES EVAL ${2+3*100}\n\n",
        3100,
    )
    # 9. brackets by nested ${}
    countdown(
        "steps_eval_brackets",
        "TIME_PASSES EVAL: a nested ${...} is evaluated first (100+${20*10} is 300; 10/2 is 5)",
        "STEP 11 ASSIGN half = ${10 / 2}\n\n"
        "STEP 12 TIME_PASSES EVAL ${100 + ${20 * 10}}\n\n"
        "STEP 13 TIME_PASSES EVAL $half\n\n",
        3295,
    )

    # 10. EVAL past the TTL: the answer is fetched again
    write(
        "steps_eval_expire",
        "TIME_PASSES EVAL past the TTL: the cached answer expired and the new data is fetched",
        root()
        + auth("1.2.3.4", 0, 15)
        + auth("1.2.3.4", 16, 1000, a="10.20.30.41", comment="ns1 later")
        + query(1)
        + check(10)
        + "STEP 11 ASSIGN ttl = 3600\n\nSTEP 12 TIME_PASSES EVAL ${$ttl + 1}\n\n"
        + query(20)
        + check(30, a="10.20.30.41"),
    )


if __name__ == "__main__":
    main()
