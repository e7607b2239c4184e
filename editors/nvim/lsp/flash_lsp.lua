-- flash-lsp for Neovim 0.11+: vim.lsp.config reads this file from the
-- runtimepath, and `vim.lsp.enable('flash_lsp')` starts the server for Go
-- buffers, beside gopls. lua/flash_lsp (require('flash_lsp').setup()) uses the
-- same table on older Neovim.
---@type vim.lsp.Config
return {
  cmd = { 'flash-lsp', 'serve' },
  filetypes = { 'go' },
  root_markers = { 'go.mod', '.git' },
}
