// Package emacs holds flash-lsp's Emacs integration: flash-lsp.el, which
// gives eglot flash-lsp for go-mode and go-ts-mode buffers (or keeps gopls in
// eglot and adds flash-lsp's findings to Flymake). The Go files here are only
// its end-to-end tests, which drive Debian's emacs-nox and eglot in batch mode
// against the real flash-lsp binary.
package emacs
