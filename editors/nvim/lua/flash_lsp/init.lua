-- flash_lsp starts `flash-lsp serve` for Go buffers in every Neovim from 0.7
-- on, with the defaults of lsp/flash_lsp.lua:
--
--   0.11+     vim.lsp.config + vim.lsp.enable (the lsp/ file is the config)
--   0.8-0.10  vim.lsp.start from a FileType autocmd
--   0.7       vim.lsp.start_client + vim.lsp.buf_attach_client, one client per root
--
-- It also defines :FlashGenerate and :FlashRestart. It runs beside gopls and
-- never replaces it.
local M = {}

--- The client name, and the name of the config in lsp/.
M.name = 'flash_lsp'

local uv = vim.uv or vim.loop

local function this_dir()
  local src = debug.getinfo(1, 'S').source
  return vim.fn.fnamemodify(src:sub(1, 1) == '@' and src:sub(2) or src, ':p:h')
end

-- The defaults are read from lsp/flash_lsp.lua, two directories up, so that
-- both entry points share one table.
local function load_defaults()
  local file = this_dir() .. '/../../lsp/flash_lsp.lua'
  local ok, cfg = pcall(dofile, file)
  if not ok or type(cfg) ~= 'table' then
    error(string.format('flash_lsp: cannot read the default config %s: %s', file, tostring(cfg)))
  end
  return cfg
end

M.defaults = load_defaults()

local function version_at_least(v)
  return vim.fn.has('nvim-' .. v) == 1
end

local has_native_config = version_at_least('0.11') and type(vim.lsp.config) ~= 'nil' and type(vim.lsp.enable) == 'function'
local has_lsp_start = type(vim.lsp.start) == 'function'
-- From 0.11 client methods take self (client:stop()); before, they do not.
local method_calls = version_at_least('0.11')

-- Keys that are replaced, not merged element by element, when the user sets them.
local list_keys = { 'cmd', 'filetypes', 'root_markers' }

--- Merges user options over the defaults. Lists (cmd, filetypes,
--- root_markers) replace the default list instead of merging by index.
function M.config(opts)
  opts = opts or {}
  local cfg = vim.tbl_deep_extend('force', {}, M.defaults, opts)
  for _, k in ipairs(list_keys) do
    if opts[k] ~= nil then
      cfg[k] = vim.deepcopy(opts[k])
    end
  end
  cfg.name = M.name
  return cfg
end

--- Finds the project root of a file: the nearest directory, walking up,
--- that holds any of the markers (like vim.fs.root, which 0.7 lacks). It
--- returns nil when no directory does.
function M.find_root(path, markers)
  if path == nil or path == '' then
    return nil
  end
  local dir = vim.fn.fnamemodify(path, ':p')
  local st = uv.fs_stat(dir)
  if not (st and st.type == 'directory') then
    dir = vim.fn.fnamemodify(dir, ':h')
  end
  dir = dir:gsub('/+$', '')
  if dir == '' then
    dir = '/'
  end
  while true do
    for _, marker in ipairs(markers) do
      local sep = dir == '/' and '' or '/'
      if uv.fs_stat(dir .. sep .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

-- A buffer the server can analyse: a normal buffer backed by a local file.
local function buffer_file(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil
  end
  return name
end

-- The config for vim.lsp.start / start_client: without the keys only the
-- 0.11 config understands.
local function client_config(cfg, root)
  local c = vim.deepcopy(cfg)
  c.filetypes, c.root_markers, c.autostart = nil, nil, nil
  c.root_dir = root
  c.name = M.name
  return c
end

local settings -- the merged config of the last setup()
local roots = {} -- 0.7: root_dir -> client id

--- Returns the running flash-lsp clients.
function M.clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = M.name })
  end
  local out = {}
  for _, c in ipairs(vim.lsp.get_active_clients()) do
    if c.name == M.name then
      table.insert(out, c)
    end
  end
  return out
end

--- Starts (or reuses) the client for one buffer on Neovim before 0.11.
--- It returns the client id, or nil when the buffer is not a file.
function M.attach(bufnr)
  local cfg = settings or M.config()
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local file = buffer_file(bufnr)
  if file == nil then
    return nil
  end
  local root = M.find_root(file, cfg.root_markers) or vim.fn.fnamemodify(file, ':p:h')
  if has_lsp_start then
    return vim.lsp.start(client_config(cfg, root), { bufnr = bufnr })
  end
  local id = roots[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if client == nil or client.is_stopped() then
    id = vim.lsp.start_client(client_config(cfg, root))
    if id == nil then
      vim.notify('flash_lsp: could not start ' .. table.concat(cfg.cmd, ' '), vim.log.levels.ERROR)
      return nil
    end
    roots[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

local function matches_filetype(bufnr, filetypes)
  return vim.tbl_contains(filetypes, vim.bo[bufnr].filetype)
end

local function attach_loaded(cfg)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and matches_filetype(bufnr, cfg.filetypes) then
      M.attach(bufnr)
    end
  end
end

local function stop_client(c)
  if method_calls then
    c:stop()
  else
    c.stop()
  end
end

local function request(c, method, params, handler, bufnr)
  if method_calls then
    return c:request(method, params, handler, bufnr)
  end
  return c.request(method, params, handler, bufnr)
end

--- Runs the server's flash.generate for the module of a buffer (default:
--- the current one). The server reports the result with window/showMessage.
function M.generate(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local file = buffer_file(bufnr)
  local uri = file and vim.uri_from_fname(vim.fn.fnamemodify(file, ':p')) or vim.uri_from_fname(vim.fn.getcwd())
  local clients = M.clients()
  if #clients == 0 then
    vim.notify('flash_lsp: flash-lsp is not running', vim.log.levels.ERROR)
    return
  end
  -- The server of this buffer's module; with nested modules there is one
  -- client per root, and the first one may belong to another module.
  local client = clients[1]
  for _, c in ipairs(clients) do
    if (c.attached_buffers or {})[bufnr] then
      client = c
      break
    end
  end
  local params = { command = 'flash.generate', arguments = { { uri = uri } } }
  request(client, 'workspace/executeCommand', params, function(err)
    if err then
      vim.notify('flash_lsp: generate failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
  end, bufnr)
end

--- Stops every flash-lsp client and starts them again for the open Go buffers.
function M.restart()
  local clients = M.clients()
  for _, c in ipairs(clients) do
    stop_client(c)
  end
  roots = {}
  -- A client leaves get_client_by_id once its server has exited.
  vim.wait(3000, function()
    for _, c in ipairs(clients) do
      if vim.lsp.get_client_by_id(c.id) ~= nil then
        return false
      end
    end
    return true
  end, 50)
  local cfg = settings or M.config()
  if has_native_config then
    vim.lsp.enable(M.name, false)
    vim.lsp.enable(M.name)
  else
    attach_loaded(cfg)
  end
end

local function define_commands()
  vim.api.nvim_create_user_command('FlashGenerate', function()
    M.generate(0)
  end, { desc = 'Flash: generate handlers and manifest' })
  vim.api.nvim_create_user_command('FlashRestart', function()
    M.restart()
  end, { desc = 'Flash: restart server' })
end

--- Configures and enables flash-lsp. opts are client config keys (cmd,
--- filetypes, root_markers, cmd_env, on_attach, on_exit, handlers, ...)
--- merged over lsp/flash_lsp.lua; autostart = false configures without
--- starting.
function M.setup(opts)
  opts = opts or {}
  local cfg = M.config(opts)
  settings = cfg
  define_commands()
  if has_native_config then
    local native = vim.deepcopy(cfg)
    native.autostart = nil
    vim.lsp.config(M.name, native)
    if opts.autostart ~= false then
      vim.lsp.enable(M.name)
    end
    return cfg
  end
  local group = vim.api.nvim_create_augroup('flash_lsp', { clear = true })
  if opts.autostart == false then
    return cfg
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = cfg.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
    desc = 'start flash-lsp',
  })
  -- setup() may run after Go buffers were opened (lazy loading on ft=go).
  attach_loaded(cfg)
  return cfg
end

return M
