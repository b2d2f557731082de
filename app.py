"""The dashboard: ``streamlit run app.py`` (``make run`` does the set-up and starts it)."""

import streamlit as st

from ui.state import ensure_demo_person, location

st.set_page_config(page_title="Facial symmetry progress", page_icon="🪞", layout="wide")

pages = st.navigation(
    [
        st.Page("ui/pages/capture.py", title="Capture", icon="📷", default=True),
        st.Page("ui/pages/compare.py", title="Compare", icon="↔️"),
        st.Page("ui/pages/trends.py", title="Trends", icon="📈"),
        st.Page("ui/pages/data.py", title="Data", icon="🗄️"),
    ]
)
ensure_demo_person()
st.sidebar.caption(location())
pages.run()
