"""The clinic server: the dashboard (``app.py``) behind clinic mode's HTTP rules
(``ui/clinic_http.py``: security headers, metrics closed, downloads only for the browser
that was given the page, uploads only into a signed-in session). ``analyzer serve --clinic``
runs this file; ``streamlit run`` finds the ``app`` below and serves it with uvicorn."""

from starlette.middleware import Middleware
from streamlit.starlette import App

from ui.clinic_http import ClinicHttp

app = App("app.py", middleware=[Middleware(ClinicHttp)])
