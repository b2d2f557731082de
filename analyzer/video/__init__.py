"""Video: a recording of the exam read frame by frame, cut into rest and movement segments,
each movement's peak averaged as a burst.

Beside the layers, like live capture. May import ``measure``, ``protocol``, ``capture`` and
``analyzer.errors``; ``history`` (importing a video), ``present``, the CLI and the UI may
import it.
"""
