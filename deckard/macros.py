"""testbound's macro language: ``${...}`` expressions, variables set by ``STEP n ASSIGN``.

What Unbound's ``testcode/replay.h`` documents (the file format's comment) and the runner
plays:

* ``${expression}`` is replaced by its value (text substitution); ``$name`` is a variable's
  value (an identifier of letters, digits and ``_``; an unset variable is empty text);
* arithmetic with ``+ - * /`` is evaluated **left to right, without precedence**
  (``2+3*4`` is 20); a nested ``${...}`` is the only bracket (``2+${3*4}`` is 14);
* ``${time}`` is the simulated resolver's current time (seconds since the epoch),
  ``${range lower value upper}`` is ``value`` when ``lower <= value <= upper`` (else the
  expansion fails), ``${ctime value}`` the C ``ctime()`` text of ``value``;
* ``STEP n ASSIGN name = text`` stores the expanded text; ``STEP n TIME_PASSES EVAL text``
  moves the clock by the expanded text's number of seconds.

``${timeout}`` (the time until the resolver's next timer) has no meaning for the in-process
candidate, whose timers are not a list the runner can read: it is an error of the run
(:class:`MacroError`), reported with the step.  Evaluation is a small parser over numbers
and variables: nothing is handed to Python's ``eval``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

__all__ = ["MacroError", "expand", "number"]

_VARIABLE = re.compile(r"\$([A-Za-z0-9_]*)")
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<op>[-+*/]))")


class MacroError(ValueError):
    """An expression that cannot be expanded: what and where (one line)."""


def number(text: str) -> float:
    """The number a macro's expanded text stands for (testbound reads it with atof)."""
    try:
        return float(text.strip())
    except ValueError:
        raise MacroError(f"{text.strip()!r} is not a number") from None


def _show(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _arithmetic(text: str) -> str:
    """Left-to-right ``+ - * /`` over numbers (the variables already substituted); text
    that is not arithmetic is kept as it is (testbound's macros are text substitution)."""
    pos, value, op = 0, None, "+"
    stripped = text.strip()
    if not stripped:
        return ""
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None:
            return stripped  # not an expression: the text itself
        pos = m.end()
        if m.group("num") is not None:
            if op == "":
                return stripped
            operand = float(m.group("num"))
            if value is None:
                value = -operand if op == "-" else operand
            elif op == "+":
                value += operand
            elif op == "-":
                value -= operand
            elif op == "*":
                value *= operand
            else:
                if operand == 0:
                    raise MacroError(f"division by zero in {stripped!r}")
                value /= operand
            op = ""
        else:
            if op:
                if value is None and m.group("op") == "-" and op == "+":
                    op = "-"
                    continue
                raise MacroError(f"two operators in a row in {stripped!r}")
            op = m.group("op")
    if op:
        raise MacroError(f"{stripped!r} ends with an operator")
    assert value is not None
    return _show(value)


def _function(words: list[str], now: Callable[[], float]) -> str | None:
    """``time``, ``range lo v hi``, ``ctime v``; None when the text is not a call."""
    if words == ["time"]:
        return _show(float(int(now())))
    if words == ["timeout"]:
        raise MacroError("${timeout} (the resolver's next timer) is not known in-process")
    if words and words[0] == "range":
        if len(words) != 4:
            raise MacroError("${range lower value upper} takes three numbers")
        low, value, high = (number(w) for w in words[1:])
        if not low <= value <= high:
            raise MacroError(f"${{range}}: {_show(value)} is not in [{_show(low)}, {_show(high)}]")
        return _show(value)
    if words and words[0] == "ctime":
        if len(words) != 2:
            raise MacroError("${ctime value} takes one number")
        return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(number(words[1])))
    return None


def _evaluate(inner: str, variables: Mapping[str, str], now: Callable[[], float]) -> str:
    text = _VARIABLE.sub(lambda m: variables.get(m.group(1), ""), inner)
    called = _function(text.split(), now)
    return called if called is not None else _arithmetic(text)


def expand(text: str, variables: Mapping[str, str], now: Callable[[], float]) -> str:
    """``text`` with every ``${...}`` (innermost first) and ``$name`` substituted."""
    out = text
    for _ in range(1000):  # each round removes one ${...}
        end = out.find("}")
        start = out.rfind("${", 0, end) if end >= 0 else -1
        if end < 0 or start < 0:
            break
        out = out[:start] + _evaluate(out[start + 2:end], variables, now) + out[end + 1:]
    else:
        raise MacroError(f"{text!r} nests too deep")
    if "${" in out:
        raise MacroError(f"{text!r} has a '${{' without its '}}'")
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), ""), out)
