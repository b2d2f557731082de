"""Layer 3, history: people and sessions over time, the database, and verdicts.

The data folder and photo store (``datadir``, ``photos``), the tables (``models``), opening
the database and its migrations (``database``, ``migrations/``), the queries (``storage``),
hand corrections (``corrections``), clinic mode's accounts and audit (``accounts``,
``audit``), import, export, delete, recompute, repeatability, MDC95, verdicts and trends.
Inside it, ``models`` imports no other module of the history, and no two modules import
each other, even from inside a function (``tests/test_layers.py``).

May import ``measure``, ``protocol``, ``capture`` (bursts of frames), ``analyzer.errors``
and the package root (``analyzer.__version__``); not ``present``, the CLI or the UI.
"""
