# gopls v0.23.0, the anchor `make bench` measures flash-lsp serve against
# (SPEC 11), built into the tools cache rather than onto the PATH.
GOPLS_VERSION=v0.23.0
GOPLS="$HOME/.cache/flash-lsp/tools/gopls"
if [ ! -x "$GOPLS" ] || ! "$GOPLS" version 2>/dev/null | grep -q "gopls@$GOPLS_VERSION\|$GOPLS_VERSION"; then
	echo "installing gopls $GOPLS_VERSION into $(dirname "$GOPLS")" >&2
	mkdir -p "$(dirname "$GOPLS")"
	GOBIN="$(dirname "$GOPLS")" go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
fi
