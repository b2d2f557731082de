# `make run` and `make test` each set up what they need (Debian packages, .venv, pinned
# requirements) on a fresh machine, then run.
PY := .venv/bin/python

.PHONY: setup run test lint bench samples
setup:
	./scripts/bootstrap.sh

run: setup
	$(PY) -m analyzer analyze sample_images/*.png

test:
	ANALYZER_WITH_BROWSER=1 ANALYZER_WITH_POSTGRES=1 ANALYZER_WITH_PDFTOOLS=1 ./scripts/bootstrap.sh
	$(PY) -m ruff check analyzer tests bench scripts app.py
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check analyzer tests bench scripts app.py
	$(PY) -m ruff format --check analyzer tests bench scripts app.py

bench: setup
	$(PY) bench/bench_core.py

samples: setup
	$(PY) scripts/make_samples.py
