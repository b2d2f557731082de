"""Mirror-Procrustes asymmetry, the standard of geometric morphometrics.

Reflect the landmark set (x → −x), reorder it so each point takes its mirror partner's
index, align the reflected copy to the original rigidly (Kabsch: rotation and translation,
no scaling), and take half of each point's residual as that point's asymmetry vector
(Klingenberg & McIntyre 1998). Computed on the x-y plane of the face frame, where depth
noise does not enter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.measure import topology
from analyzer.measure.frame import kabsch


@dataclass(frozen=True)
class Asymmetry:
    """Asymmetry of one face, in millimetres."""

    index_mm: float  # RMS asymmetry-vector length over the 468 mesh points
    regions_mm: dict[str, float]  # the same RMS over each region's points
    vectors_mm: np.ndarray  # (468, 2) asymmetry vector of every mesh point, frame x-y

    def as_measures(self) -> dict[str, float]:
        """The named measures: ``asymmetry_index_mm`` and ``asymmetry_<region>_mm``."""
        measures = {"asymmetry_index_mm": self.index_mm}
        measures.update({f"asymmetry_{r}_mm": v for r, v in self.regions_mm.items()})
        return measures


def asymmetry_vectors(points_xy: np.ndarray) -> np.ndarray:
    """Half the residual between each mesh point and its aligned mirror partner, (468, 2)."""
    mesh = points_xy[: topology.N_MESH]
    partner = topology.mirror_map()[: topology.N_MESH]
    reflected = mesh[partner] * np.array([-1.0, 1.0])
    rotation, shift = kabsch(reflected, mesh)
    aligned = reflected @ rotation.T + shift
    return (mesh - aligned) / 2


def mirror_asymmetry(frame_points_mm: np.ndarray) -> Asymmetry:
    """Global and regional asymmetry of landmarks given in the face frame, in mm."""
    vectors = asymmetry_vectors(frame_points_mm[:, :2])
    lengths_sq = np.sum(vectors**2, axis=1)
    regions = {
        region: float(np.sqrt(lengths_sq[topology.region_indices(region)].mean()))
        for region in topology.REGIONS
    }
    return Asymmetry(
        index_mm=float(np.sqrt(lengths_sq.mean())), regions_mm=regions, vectors_mm=vectors
    )
