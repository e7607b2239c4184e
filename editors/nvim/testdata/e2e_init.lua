-- Driver of the end-to-end test (e2e_test.go): a real headless Neovim that
-- loads the repository's Neovim config, opens a Go file, waits for
-- flash-lsp's diagnostics, applies a quick fix through the client, saves,
-- hovers, edits the buffer without saving, runs :FlashGenerate (which must
-- refuse: the project has errors), and stops the server. Everything it sees
-- goes to a JSON file that the Go test asserts on. It works on Neovim 0.7
-- (Debian's) and later: only APIs that 0.7 has are used.
--
-- The spec (JSON, path in $FLASH_E2E_SPEC):
--   rtp      the editors/nvim directory
--   file     the Go file to open
--   out      where to write the result
--   initial_count  how many diagnostics to wait for in file
--   fix      {code, line}: the diagnostic (0-based line) to quick-fix
--   hover    {line, col}: where to hover after the fix (0-based line, byte column)
--   append   {lines, code}: lines to append unsaved, and the code expected on them
local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('FLASH_E2E_SPEC')), '\n'))
local out = { steps = {}, publishes = 0, messages = {} }

local function step(name)
  table.insert(out.steps, name)
end

local function write_out()
  vim.fn.writefile({ vim.fn.json_encode(out) }, spec.out)
end

vim.opt.runtimepath:prepend(spec.rtp)
vim.cmd('filetype on')
vim.lsp.set_log_level('debug')

local uri = vim.uri_from_fname(spec.file)
local latest = nil -- the last diagnostics published for uri
local generation = 0 -- bumped on every publish for uri

local default_publish = vim.lsp.handlers['textDocument/publishDiagnostics']
local default_message = vim.lsp.handlers['window/showMessage']

local flash = require('flash_lsp')
flash.setup({
  on_exit = function(code, signal)
    out.exit = { code = code, signal = signal }
  end,
  handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
      if result and result.uri == uri then
        latest = result.diagnostics
        generation = generation + 1
        out.publishes = out.publishes + 1
      end
      return default_publish(err, result, ctx, config)
    end,
    ['window/showMessage'] = function(err, result, ctx, config)
      table.insert(out.messages, result and result.message or vim.NIL)
      return default_message(err, result, ctx, config)
    end,
  },
})

-- The LSP diagnostics, reduced to what the test checks.
local function summarize(diags)
  local list = {}
  for _, d in ipairs(diags or {}) do
    table.insert(list, {
      code = d.code or vim.NIL,
      line = d.range.start.line,
      character = d.range.start.character,
      end_line = d.range['end'].line,
      end_character = d.range['end'].character,
      severity = d.severity or vim.NIL,
      message = d.message,
    })
  end
  return list
end

-- Neovim's own diagnostics for the buffer: columns converted to bytes by Neovim.
local function vim_diagnostics(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(list, { code = d.code or vim.NIL, lnum = d.lnum, col = d.col, message = d.message })
  end
  return list
end

-- Waits until pred holds, then until no publish arrived for quiet_ms (the
-- server may publish a file more than once while the module settles).
local function wait_settled(timeout_ms, pred, quiet_ms)
  local ok = vim.wait(timeout_ms, pred, 50)
  if not ok then
    return false
  end
  local deadline = vim.loop.now() + 15000
  while vim.loop.now() < deadline do
    local g = generation
    vim.wait(quiet_ms, function()
      return generation ~= g
    end, 20)
    if generation == g then
      break
    end
  end
  return pred()
end

local function has_code(diags, code, line)
  for _, d in ipairs(diags or {}) do
    if d.code == code and (line == nil or d.range.start.line == line) then
      return true
    end
  end
  return false
end

local function client()
  return flash.clients()[1]
end

local function main()
  step('open')
  vim.cmd('edit ' .. vim.fn.fnameescape(spec.file))
  local bufnr = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo[bufnr].filetype

  if not vim.wait(10000, function()
    return out.exit ~= nil or (client() ~= nil and client().initialized)
  end, 20) or out.exit ~= nil then
    error('flash-lsp did not attach and initialize within 10 s: ' .. vim.inspect(out.exit))
  end
  local c = client()
  out.server_pid = c.rpc and c.rpc.pid or vim.NIL
  out.root_dir = c.config.root_dir
  out.offset_encoding = c.offset_encoding
  step('attached')

  -- Wait for as many diagnostics as the CLI reports (or any, without a
  -- count): a server may publish a file more than once while it settles.
  local want = spec.initial_count or 1
  if not wait_settled(60000, function()
    return latest ~= nil and #latest >= want
  end, 1500) then
    out.initial = summarize(latest)
    error(string.format('%d diagnostics for %s after 60 s, want %d', latest and #latest or 0, uri, want))
  end
  out.initial = summarize(latest)
  out.initial_vim = vim_diagnostics(bufnr)
  step('diagnostics')

  -- The quick fix, as a user would get it from the code action menu.
  local target
  for _, d in ipairs(latest) do
    if d.code == spec.fix.code and d.range.start.line == spec.fix.line then
      target = d
    end
  end
  if target == nil then
    error(string.format('no %s diagnostic on line %d', spec.fix.code, spec.fix.line))
  end
  local params = {
    textDocument = { uri = uri },
    range = target.range,
    context = { diagnostics = { target }, only = { 'quickfix' } },
  }
  local responses, err = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, 15000)
  if not responses then
    error('codeAction: ' .. tostring(err))
  end
  local action
  out.actions = {}
  for _, resp in pairs(responses) do
    if resp.err then
      error('codeAction error: ' .. vim.inspect(resp.err))
    end
    for _, a in ipairs(resp.result or {}) do
      table.insert(out.actions, { title = a.title, kind = a.kind or vim.NIL })
      if action == nil and a.kind == 'quickfix' and a.edit then
        action = a
      end
    end
  end
  if action == nil then
    error('no quickfix action with an edit: ' .. vim.inspect(out.actions))
  end
  out.applied = action.title
  local linked = {}
  for _, d in ipairs(action.diagnostics or {}) do
    table.insert(linked, d.code or vim.NIL)
  end
  out.applied_diagnostics = linked
  vim.lsp.util.apply_workspace_edit(action.edit, c.offset_encoding)
  vim.cmd('write')
  step('fixed')

  if not wait_settled(30000, function()
    return latest ~= nil and not has_code(latest, spec.fix.code, spec.fix.line)
  end, 1000) then
    error('the fixed diagnostic was still reported 30 s after the save')
  end
  out.after_fix = summarize(latest)
  step('fix verified')

  -- Hover on the fixed directive, as K (vim.lsp.buf.hover) shows it: the
  -- text of the floating window Neovim opens.
  vim.api.nvim_win_set_cursor(0, { spec.hover.line + 1, spec.hover.col })
  vim.lsp.buf.hover()
  local float
  if not vim.wait(15000, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= '' then
        float = w
        return true
      end
    end
    return false
  end, 20) then
    error('no hover window within 15 s')
  end
  out.hover = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false), '\n')
  vim.api.nvim_win_close(float, true)
  step('hover')

  -- An unsaved edit: the server analyses the buffer as typed.
  local first_new = vim.api.nvim_buf_line_count(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, spec.append.lines)
  out.appended_at = first_new
  if not wait_settled(30000, function()
    return has_code(latest, spec.append.code, first_new + spec.append.line)
  end, 500) then
    error('no ' .. spec.append.code .. ' on the unsaved lines within 30 s')
  end
  out.unsaved = summarize(latest)
  out.unsaved_vim = vim_diagnostics(bufnr)
  step('unsaved')

  -- :FlashGenerate refuses while the module has errors, and says why.
  local before = #out.messages
  vim.cmd('FlashGenerate')
  if not vim.wait(60000, function()
    return #out.messages > before
  end, 50) then
    error('no window/showMessage after :FlashGenerate within 60 s')
  end
  out.generate_refused = out.messages[#out.messages]
  step('generate refused')

  -- Stop the server the way Neovim does on exit: shutdown, then exit.
  vim.lsp.stop_client(c.id)
  if not vim.wait(10000, function()
    return out.exit ~= nil
  end, 20) then
    error('flash-lsp did not exit within 10 s of shutdown')
  end
  step('stopped')
end

-- main runs scheduled, outside the VimEnter autocmd: autocmds do not nest by
-- default, and opening the file must trigger FileType as it does for a user.
vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = vim.schedule_wrap(function()
    local ok, err = xpcall(main, debug.traceback)
    if not ok then
      out.error = tostring(err)
    end
    out.lsp_log = vim.lsp.get_log_path()
    write_out()
    vim.cmd(ok and 'qall!' or 'cquit 1')
  end),
})
