"""The Streamlit dashboard: pages that show what ``analyzer`` measures. No measuring here."""
