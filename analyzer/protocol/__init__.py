"""Layer 2, protocol: the palsy protocol's movement between expressions of one session.

Movement from rest per side, side ratios, synkinesis signs, and following an expression from
its rest photo by optical flow. May import ``measure`` and ``analyzer.errors``; not
``history``, ``present``, the CLI or the UI.
"""
