"""What the analyzer is for, said once: the app's first screen, the README, the PDF's first
page and ``python -m analyzer --help`` all show this text (``tests/test_intended_use.py``)."""

INTENDED_USE = (
    "Intended use: personal tracking of one's own face over time, and research. The analyzer "
    "measures photos; it does not diagnose any condition and is not a medical device. Its "
    'verdicts ("changed", "no detectable change"), its suggested weaker side and its '
    "eFACE-style estimates are measurements with their noise, not clinical grades: any "
    "decision about care stays the clinician's."
)
