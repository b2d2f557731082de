"""The dashboard: ``streamlit run app.py`` (``make run`` does the set-up and starts it)."""

import base64
from pathlib import Path

import streamlit as st

from analyzer.present.intended_use import INTENDED_USE
from ui.auth import allowed, require_login, signin_required
from ui.state import location

# The icon inline: a Material icon would load a font from a CDN, and a file would go through
# the media endpoint, which the tests keep for nothing (photos are inline too).
ICON = Path(__file__).parent / "ui" / "static" / "icon.png"
st.set_page_config(
    page_title="Facial symmetry progress",
    page_icon=f"data:image/png;base64,{base64.b64encode(ICON.read_bytes()).decode()}",
    layout="wide",
)

st.sidebar.caption(INTENDED_USE)  # on every screen, the sign-in form's included
require_login()  # clinic mode: the login form until someone signs in
listed = [
    st.Page("ui/pages/capture.py", title="Capture", icon=":material/photo_camera:", default=True),
    st.Page("ui/pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("ui/pages/trends.py", title="Trends", icon=":material/monitoring:"),
    st.Page("ui/pages/correct.py", title="Correct", icon=":material/edit_location_alt:"),
    st.Page("ui/pages/data.py", title="Data", icon=":material/folder_open:"),
]
if signin_required() and allowed("audit"):
    listed.append(st.Page("ui/pages/audit.py", title="Audit", icon=":material/policy:"))
pages = st.navigation(listed)
st.sidebar.caption(location())
pages.run()
