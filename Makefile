# make test  — create .venv if needed, install shelfscan with every extra, run the test suite
# make demo  — install, render a synthetic shelf, detect and count its products
# make web   — vendor onnxruntime-web and swagger-ui-dist (npm, pinned in web/package-lock.json) for the web pages
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test demo bench clean web

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

test: $(STAMP)
	$(PY) -m pytest -q

DEMO := out/demo

demo: $(STAMP)
	$(VENV)/bin/shelfscan synth --out $(DEMO)/shelf --images 1 --seed 7 --split test --imgsz 1280
	$(VENV)/bin/shelfscan detect $(DEMO)/shelf/images --out $(DEMO)/predictions.csv --save-images $(DEMO)/annotated
	$(VENV)/bin/shelfscan count $(DEMO)/shelf/images --out $(DEMO)/counts
	@echo "annotated image: $(DEMO)/annotated/  predictions: $(DEMO)/predictions.csv  counts per type: $(DEMO)/counts/"
	@echo "on your own photo: $(VENV)/bin/shelfscan detect YOUR_PHOTO.jpg --out preds.csv --save-images annotated/"
	@echo "              and: $(VENV)/bin/shelfscan count YOUR_PHOTO.jpg --out counts/"

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache web/node_modules src/shelfscan/serve/static/vendor
