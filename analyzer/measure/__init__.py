"""Layer 1, measure: one photo → landmarks → measures, plus the known-change warps.

Loading photos, the face-mesh model, the face's topology (every landmark index), the pose
frame, the scale, the symmetry, clinical and contour measures and the quality checks: pure
functions over NumPy arrays; ``registry``, the table of every measure's name and parts.
May import only ``analyzer.errors``; nothing of the higher layers (``protocol``,
``history``, ``present``), the CLI or the UI.
"""
