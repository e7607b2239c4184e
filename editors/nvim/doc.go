// Package nvim holds flash-lsp's Neovim integration: lsp/flash_lsp.lua (the
// config table for Neovim 0.11's vim.lsp.config) and lua/flash_lsp (setup()
// for every Neovim from 0.7 on). It sits at the end of the pipeline, after
// the language server: the Go files here are only its end-to-end tests,
// which drive a real headless Neovim against the real flash-lsp binary.
package nvim
