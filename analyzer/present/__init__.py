"""Layer 4, present: pictures, the PDF report and the demo people.

May import any of ``measure``, ``protocol``, ``capture``, ``history``, ``analyzer.errors``
and the package root; not the CLI or the UI.
"""
