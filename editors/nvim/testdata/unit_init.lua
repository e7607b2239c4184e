-- Driver of TestPluginLua (e2e_test.go): checks lua/flash_lsp's pure parts
-- (config merging, root finding, which buffers it attaches to) and the
-- lazy-loading case, setup() after a Go buffer is already open, in a real
-- headless Neovim. Failures are raised as errors, which the Go test reports.
--
-- The spec (JSON, path in $FLASH_E2E_SPEC): rtp, out, dir (an empty
-- scratch directory), file (a Go file of a module, opened before setup).
local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('FLASH_E2E_SPEC')), '\n'))
local out = { steps = {} }

vim.opt.runtimepath:prepend(spec.rtp)
vim.cmd('filetype on')

local function eq(got, want, what)
  if not vim.deep_equal(got, want) then
    error(string.format('%s: got %s, want %s', what, vim.inspect(got), vim.inspect(want)), 2)
  end
end

local function touch(path)
  vim.fn.mkdir(vim.fn.fnamemodify(path, ':h'), 'p')
  vim.fn.writefile({}, path)
end

local function main()
  local flash = require('flash_lsp')

  -- Defaults come from lsp/flash_lsp.lua, the 0.11 config file.
  eq(flash.defaults, dofile(spec.rtp .. '/lsp/flash_lsp.lua'), 'defaults')
  eq(flash.defaults.cmd, { 'flash-lsp', 'serve' }, 'default cmd')
  eq(flash.defaults.filetypes, { 'go' }, 'default filetypes')
  eq(flash.defaults.root_markers, { 'go.mod', '.git' }, 'default root_markers')

  -- Lists replace the defaults; other keys merge.
  local cfg = flash.config({ cmd = { '/opt/flash-lsp' }, cmd_env = { A = '1' } })
  eq(cfg.cmd, { '/opt/flash-lsp' }, 'cmd replaced, not merged by index')
  eq(cfg.filetypes, { 'go' }, 'filetypes kept')
  eq(cfg.cmd_env, { A = '1' }, 'cmd_env passed through')
  eq(cfg.name, 'flash_lsp', 'name')
  eq(flash.defaults.cmd, { 'flash-lsp', 'serve' }, 'defaults untouched by config()')
  table.insert(out.steps, 'config')

  -- Root finding: the nearest directory with any marker.
  local d = spec.dir
  touch(d .. '/mod/go.mod')
  touch(d .. '/mod/pkg/deep/x.go')
  touch(d .. '/mod/nested/go.mod')
  touch(d .. '/mod/nested/y.go')
  vim.fn.mkdir(d .. '/repo/.git', 'p')
  touch(d .. '/repo/z.go')
  touch(d .. '/none/w.go')
  local markers = flash.defaults.root_markers
  eq(flash.find_root(d .. '/mod/pkg/deep/x.go', markers), d .. '/mod', 'root of a package file')
  eq(flash.find_root(d .. '/mod/pkg/deep', markers), d .. '/mod', 'root of a directory')
  eq(flash.find_root(d .. '/mod/nested/y.go', markers), d .. '/mod/nested', 'nested module')
  eq(flash.find_root(d .. '/repo/z.go', markers), d .. '/repo', '.git marker')
  eq(flash.find_root(d .. '/none/w.go', { 'no-such-marker' }), nil, 'no marker')
  eq(flash.find_root('', markers), nil, 'empty path')
  table.insert(out.steps, 'roots')

  -- Lazy loading: the Go file is open before setup() runs.
  vim.cmd('edit ' .. vim.fn.fnameescape(spec.file))
  local gobuf = vim.api.nvim_get_current_buf()
  eq(#flash.clients(), 0, 'clients before setup')
  flash.setup()
  if not vim.wait(10000, function()
    local c = flash.clients()[1]
    return c ~= nil and c.initialized and (c.attached_buffers or {})[gobuf] == true
  end, 20) then
    error('setup() did not attach the Go buffer that was already open')
  end
  eq(flash.clients()[1].config.root_dir, vim.fn.fnamemodify(spec.file, ':h:h'), 'root_dir of the open file')
  table.insert(out.steps, 'lazy attach')

  -- Buffers that are not files on disk are left alone.
  local scratch = vim.api.nvim_create_buf(true, true)
  vim.api.nvim_set_current_buf(scratch)
  vim.bo[scratch].filetype = 'go'
  eq(flash.attach(scratch), nil, 'scratch buffer')
  local virtual = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_name(virtual, 'fugitive:///repo/.git//0/x.go')
  eq(flash.attach(virtual), nil, 'URI-named buffer')
  eq(#flash.clients(), 1, 'clients after non-file buffers')
  local c = flash.clients()[1]
  eq((c.attached_buffers or {})[scratch], nil, 'scratch attached')
  table.insert(out.steps, 'non-file buffers')

  -- The user commands exist.
  eq(vim.fn.exists(':FlashGenerate'), 2, ':FlashGenerate')
  eq(vim.fn.exists(':FlashRestart'), 2, ':FlashRestart')

  local exited = false
  c.config.on_exit = nil
  vim.lsp.stop_client(c.id)
  exited = vim.wait(10000, function()
    return vim.lsp.get_client_by_id(c.id) == nil
  end, 20)
  eq(exited, true, 'server stopped')
  table.insert(out.steps, 'stopped')
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
