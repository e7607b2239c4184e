# flash-lsp — see README.md. `make demo` and `make test` are the whole set-up
# on a fresh machine: each installs what it needs when it is missing.

GO      ?= go
BIN     := bin/flash-lsp
EXAMPLE := testdata/projects/quickstart

.PHONY: all build install test test-go bench lint demo deps deps-test deps-editors clean

all: build

deps:
	@scripts/deps.sh go

deps-test:
	@scripts/deps.sh test

deps-editors:
	@scripts/deps.sh editors

build: deps
	$(GO) build -o $(BIN) ./cmd/flash-lsp

install: deps
	$(GO) install ./cmd/flash-lsp

test: deps-test build
	$(GO) vet ./...
	PATH="$(CURDIR)/bin:$$PATH" $(GO) test -count=1 -timeout 25m ./...
	@scripts/test-editors.sh

bench: deps build
	@scripts/bench.sh

lint: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

demo: build
	@scripts/demo.sh

clean:
	rm -rf bin
