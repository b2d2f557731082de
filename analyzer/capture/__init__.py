"""Live capture: guidance against the person's baseline, frame by frame, and bursts of frames
averaged into one capture.

Pure functions over frames and landmarks, beside the four layers. May import ``measure``
and ``analyzer.errors``; ``history``, ``present``, the CLI and the UI may import it.
"""
