module example.com/m

go 1.26

require github.com/flash-lsp/flash-lsp v0.0.0

replace github.com/flash-lsp/flash-lsp => ./flashlsp
