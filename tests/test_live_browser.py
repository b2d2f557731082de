"""The live camera end to end: Chromium's fake camera → WebRTC → the server's gauges and
auto-shutter → a burst saved. Run inside a network namespace with only loopback
(``unshare --net``, as root), so the video can use no network address at all."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_live_capture_in_a_real_browser_on_loopback_only(tmp_path):
    out = tmp_path / "findings.json"
    script = ROOT / "tests" / "live_browser_check.py"
    command = f"ip link set lo up && exec {sys.executable} {script} {out}"
    run = subprocess.run(["unshare", "--net", "sh", "-c", command], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(out.read_text())
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
