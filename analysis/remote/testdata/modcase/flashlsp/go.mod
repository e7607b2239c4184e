module github.com/flash-lsp/flash-lsp

go 1.26
