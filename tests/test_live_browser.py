"""The live camera end to end: Chromium's fake camera → WebRTC → the server's gauges and
auto-shutter → a burst saved. Each run is inside a network namespace of its own (``unshare
--net``, as root), so no traffic can leave it, with Chromium's stock WebRTC settings.

A person's computer has loopback and a LAN address: the namespace gets both (a veth pair on
private addresses inside it), and the video must reach the gauges. With loopback alone, which
no person's computer has, stock Chromium cannot connect: the page must say so, and the photo
must still save."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

#: A person's computer: loopback and a LAN-like address, on a veth pair inside the namespace.
PERSON = (
    "ip link set lo up && ip link add v0 type veth peer name v1 && "
    "ip addr add 10.99.0.2/24 dev v0 && ip addr add 10.99.0.3/24 dev v1 && "
    "ip link set v0 up && ip link set v1 up"
)
LOOPBACK_ONLY = "ip link set lo up"


def run_in_namespace(network: str, setup: str, tmp_path) -> dict:
    out = tmp_path / f"{network}.json"
    script = ROOT / "tests" / "live_browser_check.py"
    command = f"{setup} && exec {sys.executable} {script} {out} {network}"
    run = subprocess.run(
        ["unshare", "--net", "sh", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text())


def test_live_capture_in_a_real_browser_on_a_persons_kind_of_computer(tmp_path):
    found = run_in_namespace("person", PERSON, tmp_path)
    # A newcomer whose face is unlike the samples (a quarter of the frame's width, a
    # 1280 × 720 window): name, webcam photo, live burst against that photo, both on Trends.
    newcomer = found["newcomer"]
    assert newcomer["photo_saved"] and "Saved (burst of" in newcomer["message"], newcomer
    stored = sorted(newcomer["captures"], key=lambda c: c[1])  # (expression, source, burst)
    assert [c[:2] for c in stored] == [["rest", "live burst"], ["rest", "webcam.jpg"]], stored
    assert stored[0][2] >= 5, stored
    assert "1 session(s) of 'rest'" in newcomer["trends_words"], newcomer["trends_words"][-2000:]
    assert not newcomer["traceback"] and not newcomer["server_traceback"]
    # A steady face matching its baseline: green, auto-shutter, a burst saved, on Trends.
    steady = found["steady"]
    assert steady["sizes"] and steady["sizes"][0] >= 5, steady
    assert "Saved (burst of" in steady["message"] and steady["trends"]
    # Rolled 10°, or 70 % as large: no shutter, and the red gauge says which way to move.
    assert found["rolled"]["sizes"] == [] and "shoulder" in found["rolled"]["words"]
    assert found["far"]["sizes"] == [] and "come a little closer" in found["far"]["words"]
    # Blinking now and then: the blinks are left out, the capture still saved, and no blink
    # is in its average. One blink averaged in would spread the fissure heights across the
    # burst's frames by 1.3 mm (7 frames at 9.0 mm, one at 5.3) and lower its eyes' opening;
    # open frames spread them by 0.07-0.36 mm over 10 runs.
    blink = found["blink"]
    assert blink["sizes"] and blink["sizes"][0] >= 5, blink
    assert "left out (blink or blur)" in blink["message"], blink
    for scenario in (steady, blink):
        assert scenario["fissure_sd_mm"][0] < 0.75, scenario
        assert abs(scenario["eyes_mm"][0] - found["baseline_eyes_mm"]) < 1.0, scenario
    # WebRTC blocked: the photo still works.
    assert found["blocked"]["fallback_saved"]
    assert not any(found[k]["traceback"] for k in ("steady", "rolled", "far", "blink", "blocked"))
    assert not found["server_traceback"]


def test_with_loopback_alone_the_page_says_the_camera_cannot_connect_and_the_photo_saves(
    tmp_path,
):
    found = run_in_namespace("loopback-only", LOOPBACK_ONLY, tmp_path)["loopback_only"]
    assert found["says_cannot_connect"] and found["fallback_saved"], found
    assert not found["traceback"] and not found["server_traceback"]
