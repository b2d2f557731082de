"""Derive the left/right mirror map and the asymmetry regions from the model itself.

The wheel ships no canonical face, so the map is found by running FaceMesh on a frontal
photo and on its horizontal flip, flipping the second landmark set back and matching the two
sets one-to-one (Hungarian assignment on 2-D distances). Vertex i of the photo lands where
its mirror partner lands on the flipped face. Regions are drawn geometrically on the same
frontal face and closed under the mirror map. Writes ``analyzer/measure/data/topology.json``.

Run: ``.venv/bin/python scripts/make_topology.py`` (``make topology``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import detect_faces  # noqa: E402
from analyzer.measure.topology import FACE_OVAL  # noqa: E402

OUT = ROOT / "analyzer" / "measure" / "data" / "topology.json"
PHOTO = ROOT / "sample_images" / "astronaut.png"

# Closed contours from MediaPipe's face_mesh_connections, ordered (copied here so that
# topology needs no MediaPipe; tests/test_topology.py checks them against MediaPipe's sets).
EYE_CONTOURS = {
    "right": [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
    "left": [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
}
BROWS = {
    "right": [46, 53, 52, 65, 55, 70, 63, 105, 66, 107],
    "left": [276, 283, 282, 295, 285, 300, 293, 334, 296, 336],
}
LIPS = [
    61,
    146,
    91,
    181,
    84,
    17,
    314,
    405,
    321,
    375,
    291,
    185,
    40,
    39,
    37,
    0,
    267,
    269,
    270,
    409,
    78,
    95,
    88,
    178,
    87,
    14,
    317,
    402,
    318,
    324,
    308,
    191,
    80,
    81,
    82,
    13,
    312,
    311,
    310,
    415,
]
OVAL = list(FACE_OVAL)  # the face outline, kept once in analyzer.measure.topology


def mirror_map(points: np.ndarray, flipped_back: np.ndarray) -> tuple[np.ndarray, float]:
    """Match photo points to flipped-back points; returns partner indices and median residual."""
    cost = np.linalg.norm(points[:, None, :2] - flipped_back[None, :, :2], axis=2)
    rows, cols = linear_sum_assignment(cost)
    partner = np.empty(len(points), dtype=int)
    partner[rows] = cols
    return partner, float(np.median(cost[rows, cols]))


def main() -> None:
    rgb = load_photo(PHOTO)
    import cv2

    rgb = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    width = rgb.shape[1]
    points = detect_faces(rgb)[0]
    flipped = detect_faces(np.ascontiguousarray(rgb[:, ::-1]))[0]
    flipped[:, 0] = width - flipped[:, 0]

    mesh, mesh_residual = mirror_map(points[:468], flipped[:468])
    iris, iris_residual = mirror_map(points[468:], flipped[468:])
    partner = np.concatenate([mesh, iris + 468])
    assert np.array_equal(partner[partner], np.arange(478)), "mirror map is not an involution"

    # Regions, in a frame with the pupils level, origin between them, unit = pupil distance.
    right_pupil, left_pupil = points[468, :2], points[473, :2]
    axis = (left_pupil - right_pupil) / np.linalg.norm(left_pupil - right_pupil)
    ipd = float(np.linalg.norm(left_pupil - right_pupil))
    rel = points[:468, :2] - (left_pupil + right_pupil) / 2
    u = (rel @ axis) / ipd
    v = (rel @ np.array([-axis[1], axis[0]])) / ipd  # downwards positive
    brow = set(BROWS["right"] + BROWS["left"])
    eye = set(EYE_CONTOURS["right"] + EYE_CONTOURS["left"])
    mouth = set(LIPS)
    jaw = {i for i in OVAL if v[i] > 0.95}
    taken = brow | eye | mouth | jaw
    nose = {i for i in range(468) if abs(u[i]) < 0.28 and 0.12 < v[i] < 0.78} - taken
    cheek = {i for i in range(468) if 0.32 < abs(u[i]) < 0.95 and 0.3 < v[i] < 1.0} - taken - nose

    def closed(region: set[int]) -> list[int]:
        return sorted(region | {int(partner[i]) for i in region})

    regions = {
        "brow": closed(brow),
        "eye": closed(eye),
        "nose": closed(nose),
        "mouth": closed(mouth),
        "cheek": closed(cheek),
        "jaw": closed(jaw),
    }
    midline = [i for i in range(468) if partner[i] == i]
    # Points that expressions and palsy barely move: the nose, the inner eye corners, the
    # upper midline and the face oval above the eyes. The face frame is fitted on them, so a
    # drooping mouth corner or brow does not tilt the frame it is measured in.
    stable = (
        set(regions["nose"])
        | {133, 362}
        | {i for i in OVAL if v[i] < -0.2}
        | {i for i in midline if v[i] < 0.78}
    )
    regions["stable"] = closed(stable)
    # The subject's left half (the image's right on this unmirrored photo): its mirror image
    # is the right half, and together with the midline they cover the mesh.
    left_side = [
        i
        for i in range(478)
        if partner[i] != i
        and (points[i, 0] - points[168, 0]) * (left_pupil[0] - right_pupil[0]) > 0
    ]
    data = {
        "source": "scripts/make_topology.py on sample_images/astronaut.png upscaled x2",
        "mirror_map": partner.tolist(),
        "midline": midline,
        "regions": regions,
        "left_side": left_side,
        "median_match_residual_px": {"mesh": mesh_residual, "iris": iris_residual},
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(
        f"midline points: {len(midline)}; median residual mesh {mesh_residual:.2f} px, "
        f"iris {iris_residual:.2f} px; regions: "
        + ", ".join(f"{k} {len(v)}" for k, v in regions.items())
    )


if __name__ == "__main__":
    main()
