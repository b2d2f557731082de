"""Layer 4, present: pictures, the PDF report and the demo people.

May import any of ``measure``, ``protocol`` and ``history``; not the CLI or the UI.
"""
