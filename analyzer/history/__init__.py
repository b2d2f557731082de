"""Layer 3, history: people and sessions over time, the database, and verdicts.

The data folder and photo store, the database and its migrations, import, export, delete,
recompute, repeatability, MDC95, verdicts and trends. May import ``measure``, ``protocol``
and ``analyzer.errors``; not ``present``, the CLI or the UI.
"""
