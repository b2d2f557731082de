# `make run` and `make test` each set up what they need (Debian packages, .venv, pinned
# requirements) on a fresh machine, then run.
PY := .venv/bin/python

.PHONY: setup run analyze test lint bench topology
setup:
	./scripts/bootstrap.sh

run: setup
	$(PY) -m analyzer demo
	$(PY) -m streamlit run app.py

analyze: setup
	$(PY) -m analyzer analyze sample_images/*.png sample_images/*.jpg

# The tests that mix fixed dates with the code's clock run again with the clock a year ahead
# (libfaketime), so a test that would go red on a later day goes red today.
LATER_TESTS := tests/test_accounts.py tests/test_progress.py tests/test_statistics.py \
	tests/test_comparability.py tests/test_cli_history.py tests/test_verdicts.py \
	tests/test_service.py \
	tests/test_browser.py::test_two_dated_uploads_are_saved_as_rest_under_their_exif_dates \
	tests/test_browser.py::test_each_upload_is_saved_under_its_own_expression_whatever_the_pages

test:
	ANALYZER_TEST_TOOLS=1 ./scripts/bootstrap.sh
	$(PY) -m ruff check analyzer tests bench scripts ui app.py clinic_app.py
	$(PY) -m ruff format --check analyzer tests bench scripts ui app.py clinic_app.py
	$(PY) -m pytest
	faketime -f '+365d' $(PY) -m pytest -q -p no:cacheprovider $(LATER_TESTS)

lint: setup
	$(PY) -m ruff check analyzer tests bench scripts ui app.py clinic_app.py
	$(PY) -m ruff format --check analyzer tests bench scripts ui app.py clinic_app.py

bench: setup
	$(PY) bench/bench_core.py
	$(PY) bench/bench_history.py --postgres
	$(PY) bench/bench_dashboard.py --postgres
	$(PY) bench/bench_clinic.py

topology: setup
	$(PY) scripts/make_topology.py
