# Portico. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN = $(VENV)/bin
DEMO_DIR ?= $(HOME)/.cache/portico/demo

.PHONY: backstage-validator bench bench-peers test-tools help prereqs venv lock binaries manifests image lint unit e2e test demo demo-down clean kind-up kind-deploy kind-down

help:
	@echo "make demo       run Portico on a local control plane with the examples"
	@echo "make demo-down  stop it"
	@echo "make test       install everything and run lint, unit and e2e tests"
	@echo "make unit       fast tests only: unit and contract (no control plane)"
	@echo "make bench      benchmarks (convergence, latency, writes, restart, footprint)"
	@echo "make bench-peers  the same catalog on Backstage's catalog backend, side by side (opt-in)"
	@echo "make manifests  regenerate crds/, deploy/crds/ and deploy/install.yaml (image: v<version>)"
	@echo "make image      build the image with docker, podman or buildah, tagged as deploy/ names it"
	@echo "make lock       regenerate the lock files (UPGRADE=1: newest versions)"
	@echo "make kind-up kind-deploy   Portico in a kind cluster (needs Docker and kind)"

prereqs:
	@PY=$(PY) hack/check-prereqs.sh

# The venv holds exactly requirements-dev.lock (hashes checked), so a lock change starts it
# afresh: nothing outside the lock stays behind. The lock also pins pip and setuptools; the two
# local packages then install without their dependencies (the lock has them) and without
# build isolation, so they build with the locked setuptools instead of one pip fetches
# unpinned. After changing a dependency in a pyproject.toml: `make lock`, then commit the locks.
$(VENV)/.locked: requirements-dev.lock
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	touch $@

$(VENV)/.installed: $(VENV)/.locked requirements-dev.lock pyproject.toml hack/devcluster/pyproject.toml
	$(BIN)/pip install -q --no-deps --no-build-isolation -e . -e hack/devcluster
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; \
	  echo "requirements-dev.lock does not satisfy the pyproject.toml files: make lock" >&2; exit 1; }
	touch $@

venv: prereqs $(VENV)/.installed

# requirements*.lock from the pyproject.toml files (hack/lock.sh says how; needs PyPI).
lock:
	@PY=$(PY) hack/lock.sh

binaries: prereqs
	@hack/build-binaries.sh >/dev/null
	@hack/build-argocd.sh >/dev/null

# The image deploy/ installs is IMAGE_REPOSITORY (hack/versions.env) at v<version>
# (pyproject.toml): hack/release.py writes both into deploy/manager/kustomization.yaml.
manifests: $(VENV)/.installed
	$(BIN)/python hack/release.py set-image
	$(BIN)/portico crds -o crds
	$(BIN)/portico crds -o deploy/crds --kustomization
	$$(hack/build-binaries.sh)/kubectl kustomize deploy/ > deploy/install.yaml
	$(BIN)/python hack/argocd-cm-patch.py

# actionlint (built from the Go module proxy, cached like the control plane) runs shellcheck
# on every `run:` script, so shellcheck is required: lint gives the same answer everywhere.
lint: $(VENV)/.installed
	$(BIN)/ruff check operator tests hack/devcluster hack/release.py
	$(BIN)/ruff format --check operator tests hack/devcluster hack/release.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	@hack/ensure-test-tools.sh shellcheck
	$$(hack/build-actionlint.sh)/actionlint -shellcheck=$$(command -v shellcheck) .github/workflows/*.yaml
	$(BIN)/python hack/release.py check-pins

unit: $(VENV)/.installed test-tools backstage-validator
	$(BIN)/pytest tests/unit tests/contract -q

# The control plane's and Argo CD's binaries, built once and cached outside the repo.
BINS = PORTICO_BIN_DIR=$$(hack/build-binaries.sh) PORTICO_ARGOCD_BIN_DIR=$$(hack/build-argocd.sh)

e2e: venv binaries test-tools backstage-validator
	$(BINS) $(BIN)/pytest tests/e2e -q -rA

test-tools:
	@hack/ensure-test-tools.sh

# Backstage's own entity validators, for the tests only (Node >= 20 and npm; pinned by
# hack/backstage-validate/package-lock.json, cached outside the repo).
backstage-validator:
	@hack/ensure-backstage-validator.sh >/dev/null

test: venv binaries test-tools backstage-validator lint
	$(BINS) $(BIN)/pytest tests -q

demo: venv binaries test-tools
	$(BINS) PORTICO_DEMO_DIR=$(DEMO_DIR) hack/demo.sh

demo-down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m portico_devcluster down --state-dir $(DEMO_DIR); \
	else echo "nothing to stop (no venv)"; fi

# Benchmarks: figures as ratios to floors measured in the same run (bench/README.md).
bench: venv binaries
	PORTICO_BIN_DIR=$$(hack/build-binaries.sh) $(BIN)/python bench/run.py --sizes 100,1000 --out bench/results/latest.json

# Opt-in: Backstage's catalog backend beside Portico on the same catalog, in the same run
# (Node and the npm lockfile in bench/peers/backstage; bench/README.md).
bench-peers: venv binaries
	PORTICO_BIN_DIR=$$(hack/build-binaries.sh) $(BIN)/python bench/peers.py --sizes 1000,10000 --out bench/results/peers.json

# <IMAGE_REPOSITORY>:v<version> from Containerfile, with the first builder that works (docker
# with a running daemon, podman, buildah; CONTAINER_BUILDER=podman picks one), then checked by
# running it. Without a builder it says so and fails. PLATFORMS=linux/amd64,linux/arm64: both.
image:
	@PY=$(PY) hack/image.sh build

# For machines with Docker and kind (not needed for demo or tests).
KIND_CLUSTER ?= portico
IMAGE ?= portico:dev

kind-up:
	kind create cluster --config kind-config.yaml --name $(KIND_CLUSTER)

kind-deploy:
	docker build -t $(IMAGE) -f Containerfile .
	kind load docker-image $(IMAGE) --name $(KIND_CLUSTER)
	kubectl apply --server-side -k deploy/
	kubectl -n portico-system set image deployment/portico operator=$(IMAGE)
	kubectl -n portico-system rollout status deployment/portico --timeout=120s

kind-down:
	kind delete cluster --name $(KIND_CLUSTER)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
