-- Driver of TestNeovimSession (e2e_test.go): the plugin's own behaviour in a
-- real headless Neovim against the real server. One client per project
-- root (nested modules get their own), buffers of one root share a client,
-- :FlashGenerate writes the generated files, :FlashRestart replaces the
-- clients and re-attaches the buffers, and every server exits 0.
--
-- The spec (JSON, path in $FLASH_E2E_SPEC): rtp, out, files (opened in
-- order), generated (a file :FlashGenerate must create).
local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('FLASH_E2E_SPEC')), '\n'))
local out = { steps = {}, messages = {}, exits = {} }

vim.opt.runtimepath:prepend(spec.rtp)
vim.cmd('filetype on')
vim.lsp.set_log_level('debug')

local default_message = vim.lsp.handlers['window/showMessage']
local flash = require('flash_lsp')
flash.setup({
  on_exit = function(code, signal, client_id)
    table.insert(out.exits, { id = client_id, code = code, signal = signal })
    -- This runs in a libuv callback, where vim.fn is off limits, and may run
    -- while Neovim quits: append to a file with plain Lua io.
    local f = io.open(spec.exits, 'a')
    if f then
      f:write(string.format('%d %d %d\n', client_id, code, signal))
      f:close()
    end
  end,
  handlers = {
    ['window/showMessage'] = function(err, result, ctx, config)
      table.insert(out.messages, { type = result.type, message = result.message })
      return default_message(err, result, ctx, config)
    end,
  },
})

-- The attached flash clients per buffer: {file -> {id, root}}.
local function attachments()
  local m = {}
  for _, c in ipairs(flash.clients()) do
    for bufnr in pairs(c.attached_buffers or {}) do
      m[vim.api.nvim_buf_get_name(bufnr)] = { id = c.id, root = c.config.root_dir }
    end
  end
  return m
end

local function all_initialized(n)
  local cs = flash.clients()
  if #cs ~= n then
    return false
  end
  for _, c in ipairs(cs) do
    if not c.initialized then
      return false
    end
  end
  return true
end

local function main()
  for _, f in ipairs(spec.files) do
    vim.cmd('edit ' .. vim.fn.fnameescape(f))
  end
  if not vim.wait(15000, function()
    return all_initialized(spec.clients)
  end, 20) then
    error(string.format('want %d initialized clients, have %d', spec.clients, #flash.clients()))
  end
  out.before = attachments()
  table.insert(out.steps, 'attached')

  -- :FlashGenerate from each file of spec.generate, in its own module.
  out.generated = {}
  for i, g in ipairs(spec.generate) do
    vim.cmd('edit ' .. vim.fn.fnameescape(g.file))
    vim.cmd('FlashGenerate')
    if not vim.wait(60000, function()
      return #out.messages >= i
    end, 50) then
      error('no window/showMessage after :FlashGenerate in ' .. g.file .. ' within 60 s')
    end
    table.insert(out.generated, vim.fn.filereadable(g.manifest) == 1)
  end
  table.insert(out.steps, 'generated')

  -- :FlashRestart: new clients, same buffers.
  local old = {}
  for _, c in ipairs(flash.clients()) do
    old[c.id] = true
  end
  vim.cmd('FlashRestart')
  if not vim.wait(15000, function()
    if not all_initialized(spec.clients) then
      return false
    end
    for _, c in ipairs(flash.clients()) do
      if old[c.id] then
        return false
      end
    end
    return vim.tbl_count(attachments()) == #spec.files
  end, 20) then
    error('clients were not replaced by :FlashRestart: ' .. vim.inspect(attachments()))
  end
  out.after_restart = attachments()
  table.insert(out.steps, 'restarted')

  -- The servers still running are left to Neovim's own exit handling
  -- (:qall! below): it sends shutdown and exit, and the test checks the
  -- exits file and the pids afterwards.
  out.pids = {}
  for _, c in ipairs(flash.clients()) do
    table.insert(out.pids, c.rpc.pid)
  end
end

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = vim.schedule_wrap(function()
    local ok, err = xpcall(main, debug.traceback)
    if not ok then
      out.error = tostring(err)
    end
    out.lsp_log = vim.lsp.get_log_path()
    vim.fn.writefile({ vim.fn.json_encode(out) }, spec.out)
    vim.cmd(ok and 'qall!' or 'cquit 1')
  end),
})
