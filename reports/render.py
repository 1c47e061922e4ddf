"""The report in the terminal: rich renderables, first screen first.

:func:`render` prints a :class:`~reports.model.Report` in this order, so that the first
screen (about 30 lines at 120 columns) answers "can we ship the candidate, and why":

1. the verdict: a panel with the headline and its reasons, and the ``report explain``
   command for the most important divergence;
2. the header: run, when, how long, sources, targets and versions, seen / sampled /
   compared / dropped;
3. the verdict summary: each query once, under its most important category;

then the noise by normaliser, unstable answers and timeouts, the DNSSEC state matrix and
EDE differences, where the divergences are (domains, zones, qtypes, rcodes), latency with a
histogram, and the examples side by side in dig's format, the differing lines highlighted.
:func:`render_explain` shows one observation with its full evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import dns.rdataclass
from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from harness.timefmt import iso_utc
from netpolicy import format_hostport
from reports.command import invoked_as
from reports.examples import SOURCES, Explanation, plain, qtype_text, shorten_blobs, words
from reports.model import Example, Line, Report
from reports.tables import dumps

__all__ = ["STYLES", "render", "render_explain", "renderables"]

STYLES = {
    "safe": "bold green",
    "not_safe": "bold red",
    "inconclusive": "bold yellow",
    "real": "red",
    "unstable": "yellow",
    "undecided": "yellow",
    "timeout": "magenta",
    "noise": "cyan",
    "equal": "green",
    "unjudged": "dim",
    "candidate": "bold red",  # a line only the candidate has
    "reference": "bold green",  # a line only the reference has
}
_MARK = {"safe": "✓", "not_safe": "✗", "inconclusive": "?"}
_BARS = " ▏▎▍▌▋▊▉█"


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(rate: float) -> str:
    return f"{100 * rate:.2f}%"


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "still running"
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s"
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h} h {m} min" if h else f"{m} min {s} s"


def _table(title: str | None = None, **kwargs: Any) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                 pad_edge=False, show_edge=False, **kwargs)


# -- the first screen ----------------------------------------------------------------------


def verdict_panel(report: Report) -> Panel:
    s = report.safety
    style = STYLES[s.status]
    reasons = Table.grid(padding=(0, 1))
    reasons.add_column(width=3, justify="right", no_wrap=True)
    reasons.add_column()
    for reason in s.reasons:
        reasons.add_row("•", Text(reason))
    parts: list[RenderableType] = [Text(f"{_MARK[s.status]} {s.headline}", style=style),
                                   reasons]
    if s.first_example is not None:
        nxt = Text()
        nxt.append("details: ", style="dim")
        nxt.append(f"{invoked_as()} report explain {s.first_example}", style="bold")
        nxt.append(" · examples, DNSSEC, where and latency below", style="dim")
        reasons.add_row("→", nxt)
    return Panel(Group(*parts), title=f"shadowdns report · run {report.header.run_id}",
                 title_align="left", border_style=style.replace("bold ", ""))


def header(report: Report) -> Table:
    h = report.header
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    others = [r for r in h.runs if r != h.run_id]
    run = f"{h.run_id} ({h.status})"
    if others:
        run += f" · other runs in the store: {', '.join(map(str, others[-5:]))}"
    grid.add_row("Run", Text(f"{run} · {_when(h.started_at)} · {_duration(h.duration)} · "
                             f"store {h.store}"))
    grid.add_row("Sources", Text(", ".join(h.sources) or "(not recorded)"))
    targets = []
    for t in h.targets:
        role = " (candidate)" if t.role == "candidate" and t.name != "candidate" else ""
        targets.append(f"{t.name}{role}{' = ' + t.version if t.version else ''}")
    grid.add_row("Targets", Text(" · ".join(targets)))
    c = h.counters
    counts = [f"{k} {_n(c[k])}" for k in ("seen", "sampled", "compared", "dropped") if k in c]
    counts += [f"{k} {_n(c[k])}" for k in ("shed", "failed") if c.get(k)]
    stored = f"stored {_n(h.stored)}"
    if h.judged != h.stored:
        stored += f", judged {_n(h.judged)}"
    counts.append(stored)
    grid.add_row("Queries", Text(" · ".join(counts)))
    return grid


def verdict_table(report: Report) -> Table:
    v = report.verdicts
    table = _table("Verdicts: each query once, under its most important category")
    table.add_column("verdict", no_wrap=True, min_width=8)
    table.add_column("category", no_wrap=True, min_width=22)
    table.add_column("queries", justify="right", no_wrap=True, min_width=7)
    table.add_column("%", justify="right", no_wrap=True, min_width=6)
    table.add_column("meaning", overflow="ellipsis", no_wrap=True, ratio=1)
    noise = [c for c in v.categories if c.kind == "noise"]
    for c in v.categories:
        if c.kind == "noise" and len(noise) > 4 and c not in noise[:3]:
            continue
        table.add_row(Text(c.kind, style=STYLES.get(c.kind, "")), c.category, _n(c.count),
                      _pct(c.rate), c.meaning)
    if len(noise) > 4:
        rest = noise[3:]
        total = sum(c.count for c in rest)
        table.add_row(Text("noise", style=STYLES["noise"]), f"{len(rest)} more categories",
                      _n(total), _pct(total / v.judged if v.judged else 0.0),
                      "see 'Noise, by normaliser'")
    if not v.categories:
        table.add_row("-", "-", "0", "-", "nothing judged yet")
    return table


# -- the rest ------------------------------------------------------------------------------


def noise_table(report: Report) -> Table | None:
    rows = report.verdicts.normalisers
    if not rows:
        return None
    table = _table("Noise, by normaliser (what each one absorbed)")
    table.add_column("normaliser", no_wrap=True)
    table.add_column("queries", justify="right")
    table.add_column("of them noise", justify="right")
    table.add_column("differences absorbed", justify="right")
    table.add_column("categories")
    for n in rows:
        table.add_row(n.normaliser, _n(n.queries), _n(n.noise), _n(n.differences),
                      ", ".join(n.categories[:5]))
    return table


def sides_table(report: Report) -> Table | None:
    sides = report.verdicts.sides
    if not sides:
        return None
    table = _table("Unstable answers and timeouts, by side")
    table.add_column("verdict", no_wrap=True)
    table.add_column("side", no_wrap=True)
    table.add_column("queries", justify="right")
    table.add_column("%", justify="right")
    judged = report.verdicts.judged
    for s in sides:
        table.add_row(Text(s.kind, style=STYLES.get(s.kind, "")), s.side, _n(s.count),
                      _pct(s.count / judged if judged else 0.0))
    return table


def dnssec_tables(report: Report) -> list[RenderableType]:
    d = report.dnssec
    states = [s for s in d.states]
    used = [i for i, s in enumerate(states)
            if any(d.matrix[i]) or any(row[i] for row in d.matrix)]
    if not used:
        return [Text("DNSSEC: no answers to classify", style="dim")]
    cand = report.header.targets[0].name if report.header.targets else "candidate"
    table = _table(escape(f"DNSSEC state, {cand} × {d.reference}"),
                   caption=escape("[n]: of them real divergences"), caption_justify="left")
    table.add_column(escape(f"{cand} \\ {d.reference}"), no_wrap=True)
    for j in used:
        table.add_column(states[j], justify="right")
    for i in used:
        cells: list[RenderableType] = []
        for j in used:
            n = d.matrix[i][j]
            real = d.real[i][j]
            text = _n(n) + (f" [{_n(real)}]" if real else "")
            style = "" if i == j else ("bold red" if real else "yellow" if n else "dim")
            cells.append(Text(text, style=style))
        table.add_row(states[i], *cells)
    out: list[RenderableType] = [table]
    if d.ede:
        ede = _table("Extended DNS Error differences")
        ede.add_column("verdict")
        ede.add_column(escape(f"{cand} EDE"))
        ede.add_column(escape(f"{d.reference} EDE"))
        ede.add_column("queries", justify="right")
        for e in d.ede[:10]:
            ede.add_row(Text(e.kind, style=STYLES.get(e.kind, "")), e.candidate, e.reference,
                        _n(e.count))
        out.append(ede)
    return out


def where_tables(report: Report) -> list[RenderableType]:
    w = report.where
    out: list[RenderableType] = []
    if w.domains or w.zones:
        # zones: the deepest zone cut the answers name (docs/REPORT.md)
        sections = [("Top divergent registered domains", w.domains),
                    ("Top divergent zones (as the answers name them)", w.zones)]
        if w.zones_repeat_domains():
            sections = [("Top divergent registered domains = zones", w.domains)]
        for title, places in sections:
            if not places:
                continue
            t = _table(title)
            t.add_column("name", no_wrap=True)
            t.add_column("real", justify="right")
            t.add_column("% of real", justify="right")
            t.add_column("top category", no_wrap=True)
            t.add_column("e.g.", no_wrap=True, overflow="ellipsis", max_width=34)
            for p in places:
                t.add_row(Text(p.name), _n(p.real), _pct(p.share), p.top_category,
                          Text(p.example))
            out.append(t)
    else:
        out.append(Text("No real divergences: nothing to locate.", style="dim"))
    for title, rows in (("By qtype", w.qtypes), ("By the reference's rcode", w.rcodes)):
        if not rows:
            continue
        t = _table(title)
        t.add_column("qtype" if title == "By qtype" else "rcode", no_wrap=True)
        t.add_column("compared", justify="right")
        t.add_column("noise", justify="right")
        t.add_column("real", justify="right")
        t.add_column("real rate", justify="right")
        t.add_column("top real category", no_wrap=True)
        for b in rows:
            t.add_row(b.key, _n(b.compared), _n(b.noise),
                      Text(_n(b.real), style="red" if b.real else ""), _pct(b.rate),
                      b.top_category)
        out.append(t)
    if w.rcode_pairs:
        cand = report.header.targets[0].name if report.header.targets else "candidate"
        t = _table("Real divergences by rcode")
        t.add_column(cand)
        t.add_column(report.dnssec.reference)
        t.add_column("queries", justify="right")
        for pair in w.rcode_pairs:
            t.add_row(pair.candidate, pair.reference, _n(pair.count))
        out.append(t)
    return out


def _bar(fraction: float, width: int) -> str:
    cells = max(0.0, fraction) * width
    full = int(cells)
    part = int(round((cells - full) * 8))
    if part == 8:
        full, part = full + 1, 0
    return "█" * full + (_BARS[part] if part else "")


def latency_tables(report: Report) -> list[RenderableType]:
    lat = report.latency
    if not lat.targets:
        return [Text("Latency: no answers recorded", style="dim")]
    t = _table("Latency (answered queries)")
    t.add_column("target", no_wrap=True)
    for col in ("answered", "no response", "p50", "p90", "p99", "mean"):
        t.add_column(col, justify="right")
    for s in lat.targets:
        t.add_row(Text(s.target), _n(s.answered), _n(s.no_response), _ms(s.p50), _ms(s.p90),
                  _ms(s.p99), _ms(s.mean))
    h = lat.histogram
    hist = _table("Latency histogram (share of each target's answers)")
    hist.add_column("latency", no_wrap=True, justify="right")
    names = list(h.counts)
    width = max(10, min(40, (100 - 12) // max(1, len(names)) - 8))
    shares: dict[str, list[float]] = {}
    for name in names:
        total = sum(h.counts[name]) or 1
        shares[name] = [c / total for c in h.counts[name]]
    top = max((x for v in shares.values() for x in v), default=1.0) or 1.0
    for name in names:
        hist.add_column(escape(name), no_wrap=True)
    labels = []
    lower = 0.0
    for edge in h.edges:
        labels.append(f"{_ms(lower) if lower else '0'}–{_ms(edge)}")
        lower = edge
    labels.append(f"> {_ms(h.edges[-1])}" if h.edges else "all")
    colours = ["red", "green", "blue", "magenta"]
    rows = [i for i in range(len(labels)) if any(shares[n][i] for n in names)]
    for i in rows:
        cells = []
        for k, name in enumerate(names):
            share = shares[name][i]
            cell = Text(_bar(share / top, width), style=colours[k % len(colours)])
            cell.append(f" {100 * share:.1f}%", style="dim")
            cells.append(cell)
        hist.add_row(labels[i], *cells)
    return [t, hist]


MARK = "≠ "
"""Before a line the other side does not have, so that it shows without colour too."""


def _side(lines: Sequence[Line], style: str) -> Table:
    """One side's lines; a long line folds under its own text, not under the mark."""
    grid = Table.grid()
    grid.add_column(width=len(MARK), no_wrap=True)
    grid.add_column(overflow="fold")
    for line in lines:
        if line.differs:
            grid.add_row(Text(MARK, style=style), Text(line.text, style=style))
        else:
            grid.add_row("", Text(line.text))
    return grid


def example_table(e: Example, candidate: str) -> Table:
    t = Table(title=escape(f"#{e.id} {e.qname} {e.qtype} — {e.kind} {e.category}"),
              title_justify="left", title_style="bold", box=box.ROUNDED, expand=True,
              show_lines=False)
    t.add_column(escape(f"{candidate} (≠ red: only here)"), ratio=1, overflow="fold")
    t.add_column(escape(f"{e.reference} (≠ green: only here)"), ratio=1, overflow="fold")
    t.add_row(_side(e.candidate_lines, STYLES["candidate"]),
              _side(e.reference_lines, STYLES["reference"]))
    if e.details:
        t.caption = Text("\n".join(e.details))
        t.caption_justify = "left"
    return t


def renderables(report: Report, *, first_screen_only: bool = False) -> list[RenderableType]:
    """Everything :func:`render` prints, in order (section titles as rules' text)."""
    out: list[RenderableType] = [verdict_panel(report), header(report), verdict_table(report)]
    if first_screen_only:
        return out
    for r in (noise_table(report), sides_table(report)):
        if r is not None:
            out.append(r)
    out.append(_rule("DNSSEC"))
    out += dnssec_tables(report)
    out.append(_rule("Where"))
    out += where_tables(report)
    out.append(_rule("Latency"))
    out += latency_tables(report)
    out.append(_rule("Examples"))
    if report.examples:
        cand = report.header.targets[0].name if report.header.targets else "candidate"
        out += [example_table(e, cand) for e in report.examples]
        out.append(Text(f"Full evidence of one: {invoked_as()} report explain ID", style="dim"))
    else:
        out.append(Text("No real divergences to show.", style="dim"))
    for note in report.notes:
        out.append(Text(f"note: {note}", style="dim"))
    return out


def _rule(title: str) -> RenderableType:
    return Rule(title, align="left", style="dim")


def render(report: Report, console: Console, *, first_screen_only: bool = False) -> None:
    _print_all(renderables(report, first_screen_only=first_screen_only), console)


def _print_all(items: Sequence[RenderableType], console: Console) -> None:
    """One blank line between items, none after a section rule."""
    for i, item in enumerate(items):
        if i and not isinstance(items[i - 1], Rule):
            console.print()
        console.print(item)


# -- explain ---------------------------------------------------------------------------------


def _kv(rows: Iterable[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for k, v in rows:
        grid.add_row(k, Text(v))
    return grid


def explain_renderables(x: Explanation) -> list[RenderableType]:
    out: list[RenderableType] = []
    obs, v = x.observation, x.verdict
    q = obs.query
    flags = [f for f, on in (("rd", q.rd), ("cd", q.cd), ("do", q.do), ("ad", q.ad)) if on]
    kind = v.kind.value if v else "unjudged"
    title = Text(f"observation {obs.id}: {q.qname} {qtype_text(q.qtype)} — ")
    title.append(f"{kind} {v.category if v else ''}", style=STYLES.get(kind, ""))
    title.stylize("bold")
    out.append(title)
    out.append(_kv([
        ("run", f"{obs.run_id} (started {_when(x.run.started_at)})"),
        ("query", f"{q.qname} {qtype_text(q.qtype)} {_class(q.qclass)} flags "
                  f"{' '.join(flags) or '-'} EDNS "
                  f"{q.edns_payload if q.edns_payload is not None else 'none'}"),
        ("from", SOURCES.get(q.source.value, words(q.source.value))
                 + (f", client {format_hostport(q.client, q.client_port)}"
                    if q.client and q.client_port else f", client {q.client}" if q.client
                    else "")),
        ("seen at", iso_utc(q.seen_at).replace("T", " ").replace("Z", " UTC")),
        ("categories", ", ".join(v.categories) if v and v.categories else "-"),
        ("explained by", ", ".join(v.explained_by) if v and v.explained_by else "-"),
    ]))
    answers = x.answers
    if answers:
        t = Table(box=box.ROUNDED, expand=True, title="Answers (≠: a line the other side "
                  "lacks; the candidate is compared with the primary reference)",
                  title_justify="left", title_style="bold")
        for a in answers[:2]:
            t.add_column(escape(f"{_who(a.target, a.role)} {_ms(a.latency)}"), ratio=1,
                         overflow="fold")
        t.add_row(*(_side(a.lines, STYLES["candidate" if a.role == "candidate"
                                            else "reference"]) for a in answers[:2]))
        out.append(t)
        for a in answers[2:]:
            t = Table(box=box.ROUNDED, expand=True)
            who = ("the staging resolver's own answer" if a.role == "staging" else
                   f"{_who(a.target, a.role)} {_ms(a.latency)}")
            t.add_column(escape(f"{who} (≠: a line {x.candidate} lacks)"), overflow="fold")
            t.add_row(_side(a.lines, STYLES["reference"]))
            out.append(t)
    if x.replay is not None:
        out.append(Group(Text("Replay (the candidate's upstream exchanges were recorded): "
                              "write the divergence as a Deckard scenario and play it",
                              style="bold"), Text(x.replay)))
    if v is None:
        out.append(Text("No verdict stored for this observation.", style="dim"))
        return out
    ev = v.evidence
    cell = (lambda text: text) if x.full else shorten_blobs
    if ev.differences:
        t = _table("Differences left after normalisation", expand=True)
        t.add_column("category", no_wrap=True)
        for col, ratio in (("detail", 3), ("rrset", 2), ("candidate", 2), ("reference", 2)):
            t.add_column(col, overflow="fold", ratio=ratio)
        for d in ev.differences:
            t.add_row(*(Text("-" if value is None else plain(value))
                        for value in (d.category, d.detail, d.rrset)),
                      *(Text("-" if value is None else cell(plain(value)))
                        for value in (d.candidate, d.reference)))
        out.append(t)
    if ev.explained:
        t = _table("What each normaliser said")
        for col in ("normaliser", "categories", "differences", "note"):
            t.add_column(col, overflow="fold")
        for e in ev.explained:
            note = e.note + (f" (wanted: {', '.join(e.wants)})" if e.wants else "")
            t.add_row(e.normaliser, ", ".join(e.categories), str(e.count), Text(note))
        out.append(t)
    if ev.noise_floor:
        t = _table("The noise floor: each field against the reference side's own variation")
        for col in ("field", "evidence", "sample", "how"):
            t.add_column(col, overflow="fold")
        for f in ev.noise_floor:
            t.add_row(Text(f.field), f.evidence, Text(f.sample or ""), Text(f.how or ""))
        out.append(t)
    if ev.requeries:
        t = _table("Re-queries made to confirm")
        for col in ("target", "purpose", "question", "flags", "answer"):
            t.add_column(col, overflow="fold")
        for r in ev.requeries:
            rflags = " ".join(f for f, on in (("flush", r.flush), ("cd", r.cd)) if on) or "-"
            t.add_row(Text(r.target), r.purpose, Text(f"{r.qname} {qtype_text(r.qtype)}"),
                      rflags, Text(r.answer or r.error or "", style="red" if r.error else ""))
        out.append(t)
    rest = ev.to_json()
    for shown in ("version", "differences", "differences_omitted", "explained", "noise_floor",
                  "requeries", "candidate", "reference"):  # (the summaries: answers above)
        rest.pop(shown, None)
    rows = [(words(key), plain(rest.pop(key))) for key in (
        "dnssec", "confirmation", "confirmed", "unstable_side", "side", "errors", "cd_rcodes",
        "reference_target", "pool_requeries", "memo", "first_attempt_errors", "budget",
        "budget_exhausted_at") if key in rest]
    if ev.differences_omitted:
        rows.append(("differences omitted", str(ev.differences_omitted)))
    if rows:
        out.append(Group(Text("Verdict evidence", style="bold"), _kv(rows)))
    if rest:
        out.append(Panel(Text(dumps(rest)), title="other evidence", title_align="left"))
    return out


def render_explain(x: Explanation, console: Console) -> None:
    _print_all(explain_renderables(x), console)


def _class(value: int) -> str:
    try:
        return dns.rdataclass.to_text(dns.rdataclass.RdataClass.make(value))
    except ValueError:
        return f"CLASS{value}"


def _who(target: str, role: str) -> str:
    return target if target == role else f"{target} ({role})"

