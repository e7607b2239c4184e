// This go.mod only marks a module boundary: it keeps the Go files that some
// npm packages ship (node_modules/flatted/golang, for one) out of the
// flash-lsp module's ./..., so `go vet ./...` and `go test ./...` never build
// them. There is no Go code here.
module github.com/flash-lsp/flash-lsp/editors/vscode

go 1.26
