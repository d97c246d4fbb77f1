# The two commands of the README: `make site` builds public/ from the bundled data, `make test` runs every test.
# Both create a virtual environment in .venv/ the first time (Python 3.11 and pip are all a machine needs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: site test validate serve clean

site: $(STAMP)
	$(BIN)/python -m generator build

test: $(STAMP)
	$(BIN)/python -m pytest

validate: $(STAMP)
	$(BIN)/python -m generator validate

serve: $(STAMP)
	$(BIN)/python -m generator serve

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf public .venv .pytest_cache
