"""testbound leaves an upstream query that nothing answers pending and matches it again as
the steps advance (Unbound's testcode/fake_event.c): the runner answers it from the first
later step, before the next CHECK_ANSWER, whose ranges match (helper "dlame", issue 16 part
2: iter_dnsseclame_bug's target queries are answered by a range that starts later)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_testbound import HEADER, QUERY_AND_CHECK, ROOT_AND_SERVER, ran

CHECK = "STEP 10 CHECK_ANSWER"
ASK, ANSWER = QUERY_AND_CHECK.split(CHECK)


def text(first: int, later: str) -> str:
    # the server of example.com. answers only from step ``first`` on
    world = ROOT_AND_SERVER.replace("RANGE_BEGIN 0 100\n\tADDRESS 1.2.3.4",
                                    f"RANGE_BEGIN {first} 100\n\tADDRESS 1.2.3.4")
    assert world != ROOT_AND_SERVER
    return (HEADER.format(extra="") + "\nSCENARIO_BEGIN pending\n" + world
            + ASK + f"STEP 2 NOTHING\n{later}\n" + CHECK + ANSWER + "\nSCENARIO_END\n")


def test_a_pending_query_is_answered_by_a_later_step(tmp_path: Path) -> None:
    runs = ran(tmp_path, text(5, "STEP 5 NOTHING"))
    assert runs and all(r.status == "pass" for r in runs), [r.summary for r in runs]


def test_a_query_nothing_answers_before_the_check_stays_undefined(tmp_path: Path) -> None:
    runs = ran(tmp_path, text(20, "STEP 5 NOTHING"))
    assert runs and all(r.status == "fail" for r in runs)
