# make test  — create .venv if needed, install shelfscan with every extra, run the test suite; then the same
#              suite on the core install alone (make test-core: .venv-core, pip install ., no torch)
# make demo  — install, render a synthetic shelf, detect and count its products
# make web   — vendor onnxruntime-web and swagger-ui-dist (npm, pinned in web/package-lock.json) for the web pages
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORE_VENV ?= .venv-core
CORE_PY := $(CORE_VENV)/bin/python

.PHONY: install test test-core system-packages demo bench clean web

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e '.[all,test]'
	@if command -v npm >/dev/null; then $(MAKE) web; else echo "npm not found: the live camera page stays off (make web)"; fi
	touch $(STAMP)

VENDOR := src/shelfscan/serve/static/vendor/swagger/VENDOR.json

web: $(VENDOR)

$(VENDOR): web/package-lock.json scripts/vendor_web.py
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(PYTHON) scripts/vendor_web.py

# real components the tests start themselves (a PostgreSQL server, a headless Chromium): Debian packages, installed
# where apt-get is available and we may use it; elsewhere those tests skip and say why
SYSTEM_PACKAGES := postgresql chromium chromium-driver
system-packages:
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then echo "apt-get install $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "could not install $$missing: their tests will skip"; fi; \
	else echo "no apt-get as root: PostgreSQL and browser tests skip unless installed"; fi

test: $(STAMP) system-packages
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory test-core

# The core install (`pip install .`: no extra, no torch) in a venv of its own, rebuilt from the working tree each
# run, and the suite against it: tests that need torch or another extra skip, all else must pass without them, so a
# torch import slipping into detect/count fails here (issue #16; tests/test_core_install.py checks the venv too).
test-core:
	test -x $(CORE_PY) || $(PYTHON) -m venv $(CORE_VENV)
	rm -rf build
	$(CORE_PY) -m pip install --quiet '.[test-core]'
	@du -sm $(CORE_VENV)/lib/python*/site-packages | sed 's/^/core install, MB: /'
	SHELFSCAN_CORE_INSTALL=1 $(CORE_PY) -m pytest -q

DEMO := out/demo

demo: $(STAMP)
	$(VENV)/bin/shelfscan synth --out $(DEMO)/shelf --images 1 --seed 7 --split test --imgsz 1280
	$(VENV)/bin/shelfscan detect $(DEMO)/shelf/images --out $(DEMO)/predictions.csv --save-images $(DEMO)/annotated
	$(VENV)/bin/shelfscan count $(DEMO)/shelf/images --out $(DEMO)/counts
	@echo "annotated image: $(DEMO)/annotated/  predictions: $(DEMO)/predictions.csv  counts per type: $(DEMO)/counts/"
	@echo "on your own photo: $(VENV)/bin/shelfscan detect YOUR_PHOTO.jpg --out preds.csv --save-images annotated/"
	@echo "              and: $(VENV)/bin/shelfscan count YOUR_PHOTO.jpg --out counts/"

clean:
	rm -rf $(VENV) $(CORE_VENV) build dist src/*.egg-info .pytest_cache web/node_modules src/shelfscan/serve/static/vendor
