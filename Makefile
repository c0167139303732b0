# ionpump: make run (the main job) and make test (the test suite). Both create .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench clean clean-cache

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The desktop window of the default scenario; with no display, the same scenario headless
# (summary table and a short MP4 in out/).
run: $(STAMP)
	$(VENV)/bin/ionpump watch --headless-fallback

# The whole test suite, slow statistical tests included (well under 15 min on 2 cores).
test: $(STAMP)
	-command -v Xvfb >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -qq xvfb >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq xvfb >/dev/null 2>&1)) || true)
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -q tests

bench: $(STAMP)
	$(VENV)/bin/ionpump bench

# numba's on-disk cache does not notice changes in modules a kernel calls into.
clean-cache:
	find particles render -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV) build *.egg-info .pytest_cache
