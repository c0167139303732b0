# ionpump: make run (the main job) and make test (the test suite). Both create .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOG := build/install.log

.PHONY: run test bench videos docs clean clean-cache

# One line per stage; pip's and the warm-up's output go to $(LOG), shown only on failure.
# $(call stage,what the user waits for,command)
define stage
@mkdir -p $(dir $(LOG)); printf 'ionpump: %s ... ' "$(1)"; t0=$$(date +%s); \
if ( $(2) ) > $(LOG) 2>&1; then echo "done ($$(( $$(date +%s) - t0 )) s)"; \
else echo failed; cat $(LOG); echo "ionpump: that step failed: its output is above (and in $(LOG))"; \
exit 1; fi
endef

# The warm-up compiles every kernel the commands use into numba's cache (particles/cli/warmup.py),
# so the first run starts in seconds instead of compiling for about 20 s.
$(STAMP): pyproject.toml
	$(call stage,creating the virtual environment $(VENV),\
	  $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --upgrade pip)
	$(call stage,installing ionpump and its dependencies (1-4 min),\
	  $(PY) -m pip install -e '.[test]')
	$(call stage,compiling the simulation kernels once (about 30 s),$(VENV)/bin/ionpump warmup)
	@touch $(STAMP)

# The desktop window of the default scenario; with no display, the same scenario headless
# (summary table and a short MP4 in out/).
run: $(STAMP)
	$(VENV)/bin/ionpump watch --headless-fallback

# The whole test suite, slow statistical tests included, in parallel worker processes
# (pytest-xdist: one per core, at most 4; test_examples.py's examples stay on one worker).
test: $(STAMP)
	-command -v Xvfb >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -qq xvfb >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq xvfb >/dev/null 2>&1)) || true)
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -q -n auto --maxprocesses 4 \
	  --dist loadgroup tests

bench: $(STAMP)
	$(VENV)/bin/ionpump bench

# A classroom MP4 (1280x720, 30 fps, captions) of every built-in scenario's whole protocol in
# out/videos/ (docs/teaching.md says what each shows); about 2-5 min per video on 2 cores.
videos: $(STAMP)
	@mkdir -p out/videos
	@for s in $$($(PY) -c 'from particles.config import builtin_names; print(*builtin_names())'); do \
	  $(VENV)/bin/ionpump record $$s --out out/videos/$$s.mp4 --force || exit 1; done

# The documentation site in build/site (mkdocs, strict: a broken link fails): the README, the
# pages of docs/, the model (../shared/MODEL.md, or $$IONPUMP_SHARED/MODEL.md) and the notebooks.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

# Compiled kernels are cached per version of their source (particles/jit.py), so the cache
# never goes stale; this only frees the space (and removes caches of older ionpump versions
# kept beside the sources).
clean-cache:
	@if [ -x $(PY) ]; then $(PY) -c 'from particles.jit import remove_caches; remove_caches()'; fi
	find particles render -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV) build *.egg-info .pytest_cache
