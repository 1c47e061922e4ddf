"""JUnit XML for CI: one ``<testcase>`` per scenario variant.

``classname`` is ``deckard.<directory>`` (the set), ``name`` is ``<scenario>[<variant>]``.
An unexpected failure is a ``<failure>`` carrying the step, the message and the diff; an
error (a file that does not parse) is an ``<error>``; a known failure is ``<skipped>`` with
its reason; a listed scenario that passed is a ``<failure>`` saying it is now passing; a
scenario the candidate cannot run is ``<skipped type="deckard.unsupported">`` naming what
it lacks (``unsupported: minimal-responses: no``).  Every ``<failure>`` and ``<skipped>``
has a ``type`` that is the cause (``deckard.CHECK_ANSWER``, ``deckard.UPSTREAM``, ...), and
the classname carries the dialect for testbound scenarios (``testbound.<directory>``).
A failure and a known failure also carry ``<property name="cause">``: for a known failure
its entry's cause (``DNSSEC lameness and fetches``, ...), else the kind of step.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from deckard.known import Judged

SUITE_NAME = "deckard"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("?", text)


def _text(j: Judged) -> str:
    r = j.result
    parts = [r.summary]
    if r.failure is not None and r.failure.diff:
        parts.append(r.failure.diff)
    if r.traffic:
        parts.append("upstream traffic (last exchanges):\n" + "\n".join(r.traffic))
    return _clean("\n\n".join(p for p in parts if p))


def _suite(dialect: str) -> str:
    return SUITE_NAME if dialect == "deckard" else dialect


def build(judged: Sequence[Judged]) -> ET.Element:
    counts = {"fail": 0, "xpass": 0, "error": 0, "skip": 0, "xfail": 0, "unsupported": 0}
    for j in judged:
        if j.verdict in counts:
            counts[j.verdict] += 1
    total = sum(j.result.seconds for j in judged)
    suite = ET.Element(
        "testsuite",
        name=SUITE_NAME,
        tests=str(len(judged)),
        failures=str(counts["fail"] + counts["xpass"]),
        errors=str(counts["error"]),
        skipped=str(counts["skip"] + counts["xfail"] + counts["unsupported"]),
        time=f"{total:.3f}",
    )
    for j in judged:
        r = j.result
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{_suite(r.dialect)}.{Path(r.path).parent.name or 'scenarios'}",
            name=f"{r.scenario}[{r.variant}]",
            file=r.path,
            time=f"{r.seconds:.3f}",
        )
        if j.verdict == "fail":
            el = ET.SubElement(
                case, "failure", message=_clean(r.summary), type=f"deckard.{r.cause}"
            )
            ET.SubElement(ET.SubElement(case, "properties"), "property",
                          name="cause", value=_clean(j.cause))
            el.text = _text(j)
        elif j.verdict == "xpass":
            ET.SubElement(
                case,
                "failure",
                message=f"now passing: remove it from the known failures ({j.reason})",
                type="deckard.now_passing",
            )
        elif j.verdict == "error":
            el = ET.SubElement(
                case, "error", message=_clean(r.reason), type="deckard.scenario_error"
            )
            el.text = _clean(r.reason)
        elif j.verdict == "xfail":
            el = ET.SubElement(
                case, "skipped", message=_clean(f"known failure [{j.cause}]: {j.reason}"),
                type=f"deckard.known.{r.cause}",
            )
            ET.SubElement(ET.SubElement(case, "properties"), "property",
                          name="cause", value=_clean(j.cause))
            el.text = _text(j)
        elif j.verdict == "skip":
            ET.SubElement(case, "skipped", message=_clean(r.reason))
        elif j.verdict == "unsupported":
            ET.SubElement(case, "skipped", message=_clean(r.reason), type="deckard.unsupported")
    return suite


def write(judged: Sequence[Judged], path: Path) -> None:
    tree = ET.ElementTree(build(judged))
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
