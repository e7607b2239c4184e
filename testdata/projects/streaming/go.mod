module example.com/streaming

go 1.26.0

require github.com/flash-lsp/flash-lsp v0.0.0

require github.com/gorilla/mux v1.8.1 // indirect

replace github.com/flash-lsp/flash-lsp => ../../..
