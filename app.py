"""The dashboard: ``streamlit run app.py`` (``make run`` does the set-up and starts it)."""

from pathlib import Path

import streamlit as st

from ui.state import location

st.set_page_config(
    page_title="Facial symmetry progress",
    page_icon=str(Path(__file__).parent / "ui" / "static" / "icon.png"),  # local: no font CDN
    layout="wide",
)

pages = st.navigation(
    [
        st.Page(
            "ui/pages/capture.py", title="Capture", icon=":material/photo_camera:", default=True
        ),
        st.Page("ui/pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("ui/pages/trends.py", title="Trends", icon=":material/monitoring:"),
        st.Page("ui/pages/data.py", title="Data", icon=":material/folder_open:"),
    ]
)
st.sidebar.caption(location())
pages.run()
