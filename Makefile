# Test tooling for the fleetops.gitops collection.  `make test` sets everything up and runs every check.
#
#   make venv            .venv (Python 3.11) with tests/requirements/tooling.txt, Debian packages from
#                        tests/tooling/system-packages.txt, ansible-test's offline pip bootstrap, .build/bin/pythonX.Y
#   make build           build the collection into .build/ and install it into .build/collections
#   make format          ruff: format the Python files and apply the linter's safe fixes (ruff.toml)
#   make style           ruff: check formatting and lint, changing nothing (part of `make test`)
#   make sanity          ansible-test sanity on every Python in .build/bin (3.8 ... 3.13)
#   make units           ansible-test units on Python 3.11
#   make integration     ansible-test integration on Python 3.11 (tests/integration/targets)
#   make lint            ansible-lint --profile production
#   make ee-check        ansible-builder: the collection's execution-environment dependencies, and a build context;
#                        ansible-runner: the role and the report callback run as AWX runs them
#   make changelog-lint  antsibull-changelog lint
#   make release-check   galaxy-importer on the built tarball (flake8 on, version 1.0.0 or more), failing on any warning
#   make docs-lint       antsibull-docs lint-collection-docs: plugin docs, role specs, docs/docsite
#   make docs            the docs site (antsibull-docs, Sphinx) into .build/docsite/build/html; warnings fail it,
#                        but for the docs.ansible.com references an offline build cannot resolve
#   make matrix          units and integration on ansible-core 2.17, 2.18, 2.20 and 2.21, sanity on 2.17 and 2.21
#                        (tests/requirements/matrix.txt), each with the tarball installed by its own ansible-galaxy,
#                        two lines at a time (MATRIX_JOBS); MATRIX_ONLY=2.21 for one line
#   make test            all of the above, then benchmark-smoke and matrix; stops at the first failure
#   make demo            demo/run.sh against the installed collection, with only ansible-core and git (.build/demo-venv)
#   make benchmark       benchmarks/run.py: role, batch module, ansible.builtin.git and the floors side by side;
#                        results (JSON, Markdown, PNG) into benchmarks/results/ (about 80 minutes on 2 CPUs)
#   make benchmark-smoke the same, small and once, into benchmarks/results/smoke/ (under 2 minutes; for CI)
#   make lock            regenerate tests/requirements/tooling-constraints.txt from tooling.txt
#   make clean           remove .venv, .build and tests/output; `make distclean` also ansible-test's venvs and cache
#   make help            this text
#
# Extra ansible-test options: make sanity SANITY_OPTS='--test pep8', make units UNITS_OPTS='-v'.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
BUILD := $(ROOT)/.build
NAMESPACE := $(shell sed -n 's/^namespace: *//p' $(ROOT)/galaxy.yml)
NAME := $(shell sed -n 's/^name: *//p' $(ROOT)/galaxy.yml)
COLLECTIONS := $(BUILD)/collections
INSTALLED := $(COLLECTIONS)/ansible_collections/$(NAMESPACE)/$(NAME)

# .build/bin (pythonX.Y for ansible-test) first, then the tooling venv.
export PATH := $(BUILD)/bin:$(VENV)/bin:$(PATH)

SANITY_OPTS ?=
UNITS_OPTS ?=
BENCH_OPTS ?=
INTEGRATION_OPTS ?=
UNITS_PYTHON ?= 3.11
INTEGRATION_PYTHON ?= 3.11

# Everything that goes into the tarball (directories too, so that added or deleted files count).
SOURCES := $(shell cd $(ROOT) && find . \( -name .git -o -name .venv -o -name .build -o -path ./tests/output -o -name __pycache__ \
	-o -name .pytest_cache -o -name .ruff_cache -o -name .ansible -o -name '*.tar.gz' \) -prune -o -print)
BUILD_STAMP := $(BUILD)/.installed

# ansible-test runs in the installed copy. Pinning its content root there stops it from walking up to this
# repository's .git and taking its file list from git, which ignores .build/ (it would then find no files).
ANSIBLE_TEST := cd $(INSTALLED) && ANSIBLE_TEST_CONTENT_ROOT=$(INSTALLED) ansible-test

.PHONY: help test venv build format style sanity units integration lint ee-check changelog-lint release-check docs-lint docs matrix demo lock clean distclean

help:
	@sed -n '1,/^$$/p' $(ROOT)/Makefile | sed 's/^# \{0,1\}//'

test: venv style build sanity units integration lint ee-check changelog-lint release-check docs-lint docs benchmark-smoke matrix
	@echo "make test: all checks passed (style, sanity, units, integration, lint, ee-check, changelog-lint, release-check, docs-lint, docs, benchmark-smoke, matrix)"

venv:
	@$(ROOT)/tests/tooling/setup.sh

build: venv $(BUILD_STAMP)

$(BUILD_STAMP): $(addprefix $(ROOT)/,$(SOURCES)) | venv
	$(ROOT)/tests/tooling/build.sh
	@touch $@

format: venv
	cd $(ROOT) && ruff format . && ruff check --fix .

style: venv
	cd $(ROOT) && ruff format --check . && ruff check .

sanity: build
	$(ANSIBLE_TEST) sanity --venv --requirements $(SANITY_OPTS)

# Test artifacts (screenshots of the HTML report) are copied to tests/output/artifacts of this repository.
ARTIFACTS := mkdir -p $(ROOT)/tests/output/artifacts && cp -r $(INSTALLED)/tests/output/artifacts/. $(ROOT)/tests/output/artifacts/ 2>/dev/null || true

units: build
	rc=0; $(ANSIBLE_TEST) units --venv --requirements --python $(UNITS_PYTHON) $(UNITS_OPTS) || rc=$$?; $(ARTIFACTS); exit $$rc

integration: build
	rc=0; $(ANSIBLE_TEST) integration --venv --requirements --python $(INTEGRATION_PYTHON) $(INTEGRATION_OPTS) || rc=$$?; $(ARTIFACTS); exit $$rc

# With the installed copy in ANSIBLE_COLLECTIONS_PATH, ansible-lint can load fleetops.gitops.* used in tasks.
lint: build
	cd $(ROOT) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-lint --offline --profile production $$([[ -t 1 ]] || echo --nocolor)

ee-check: build
	$(ROOT)/tests/tooling/ee_check.sh

changelog-lint: venv
	cd $(ROOT) && antsibull-changelog lint

release-check: build
	$(ROOT)/tests/tooling/release_check.sh

docs-lint: build
	cd $(INSTALLED) && antsibull-docs lint-collection-docs --plugin-docs .

docs: build
	$(ROOT)/tests/tooling/docs.sh

matrix: build
	$(ROOT)/tests/tooling/matrix.sh

# The demo runs against the installed collection, built and run with ansible-core alone (not the test tooling).
DEMO_BIN := $(BUILD)/demo-venv/bin
demo:
	$(ROOT)/tests/tooling/demo_setup.sh
	PATH=$(DEMO_BIN):$$PATH $(ROOT)/tests/tooling/build.sh
	cd $(ROOT) && PATH=$(DEMO_BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) demo/run.sh

lock:
	rm -rf $(BUILD)/lock-venv
	python3.11 -m venv $(BUILD)/lock-venv
	$(BUILD)/lock-venv/bin/python -m pip install --disable-pip-version-check -q -r $(ROOT)/tests/requirements/tooling.txt 2>&1 \
		| { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	{ echo '# Generated by `make lock` from tooling.txt (pip freeze of a fresh Python 3.11 venv); do not edit by hand.'; \
	  echo '# Used as a pip constraints file so that a new machine gets the same transitive dependencies.'; \
	  $(BUILD)/lock-venv/bin/python -m pip freeze --disable-pip-version-check; } > $(BUILD)/constraints.txt
	mv $(BUILD)/constraints.txt $(ROOT)/tests/requirements/tooling-constraints.txt
	rm -rf $(BUILD)/lock-venv

clean:
	rm -rf $(VENV) $(BUILD) $(ROOT)/tests/output

distclean: clean
	rm -rf $(HOME)/.ansible/test/venv $(HOME)/.ansible/test/cache

# The benchmark runs against the installed collection; matplotlib (benchmarks/requirements.txt) goes into .venv once.
BENCH_REQUIREMENTS := $(ROOT)/benchmarks/requirements.txt
BENCH_STAMP := $(VENV)/.benchmark-installed
BENCH_DEPS = cmp -s $(BENCH_REQUIREMENTS) $(BENCH_STAMP) || { \
	$(VENV)/bin/python -m pip install --disable-pip-version-check --quiet -r $(BENCH_REQUIREMENTS) \
		-c $(ROOT)/tests/requirements/tooling-constraints.txt 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; } \
	&& cp $(BENCH_REQUIREMENTS) $(BENCH_STAMP); }

.PHONY: benchmark benchmark-smoke

benchmark: venv build
	@$(BENCH_DEPS)
	cd $(ROOT) && $(VENV)/bin/python benchmarks/run.py $(BENCH_OPTS)

benchmark-smoke: venv build
	@$(BENCH_DEPS)
	cd $(ROOT) && $(VENV)/bin/python benchmarks/run.py --smoke
