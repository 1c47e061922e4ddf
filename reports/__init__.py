"""shadowdns reports: the store read back as divergence reports (``shadowdns report``).

The only home of pandas and rich.  ``tables`` reads a run into frames, ``summary`` turns them
into a :class:`~reports.model.Report` and decides whether the candidate is safe to ship,
``render`` draws it in the terminal, ``examples`` shows divergences in dig's format,
``export`` writes JSON / CSV / Parquet / Markdown, ``compare`` finds regressions between
runs, ``cli`` is the command.  See docs/REPORT.md.
"""
