// The extension in a real VS Code: code-server 4.99.4 (VS Code 1.99.3) with
// the freshly packaged .vsix installed into throwaway extension and user
// data directories, a copy of testdata/projects/quickstart with one broken
// directive, and Debian's Chromium driven by playwright-core. Every step
// leaves a screenshot in the output directory (FLASH_E2E_OUT, default
// editors/vscode/e2e/out); a failed step leaves fail-<step>.png and the test
// exits 1 naming it.
//
// Steps: the Problems panel shows flash(bad-method); Ctrl+. applies "Change
// method to GET", the diagnostic goes and the saved file equals the
// original; hover (Ctrl+K Ctrl+I) on a directive shows its route; "Flash:
// Generate handlers and manifest" from the command palette writes
// .flash/flash_manifest.json; typing into a directive (unsaved) adds
// flash(unknown-key); then what a user sees when things go wrong: a
// flash.server.path that does not exist, a binary older than the extension
// needs, and a server that keeps crashing (restarted 5 times, then a
// message).
//
// code-server is installed by scripts/deps.sh (scripts/deps.d/editors.sh);
// without it, or without Chromium, the test fails.

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const extRoot = path.resolve(here, '..');
const repo = path.resolve(extRoot, '..', '..');
const outDir = path.resolve(process.env.FLASH_E2E_OUT || path.join(here, 'out'));
const toolsDir = process.env.FLASH_TOOLS_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'flash-lsp', 'tools');
const codeServer = path.join(toolsDir, 'code-server-4.99.4', 'node_modules', '.bin', 'code-server');
const chromiumPath = process.env.FLASH_CHROMIUM || '/usr/bin/chromium';
const started = Date.now();

function log(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

function fail(msg) {
  console.error(`vscode e2e: FAIL: ${msg}`);
  process.exit(1);
}

for (const [what, file, how] of [
  ['code-server', codeServer, 'run `make deps-editors` (scripts/deps.sh editors installs code-server 4.99.4)'],
  ['Chromium', chromiumPath, 'run `make deps-editors` (Debian package chromium)'],
]) {
  if (!existsSync(file)) {
    fail(`${what} not found at ${file}: ${how}`);
  }
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'flash-vscode-e2e-'));
const goEnv = Object.fromEntries(
  ['GOCACHE', 'GOMODCACHE', 'GOPATH', 'GOROOT'].map((k) => [k, execFileSync('go', ['env', k], { encoding: 'utf8' }).trim()]),
);

let codeServerProc;
let browser;
let page;
let shot = 0;

async function cleanup() {
  await browser?.close().catch(() => {});
  if (codeServerProc && codeServerProc.exitCode === null) {
    try {
      process.kill(-codeServerProc.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (const pid of serverPids(null)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}

/** Runs one step; a screenshot after it, or fail-<name>.png and exit 1. */
async function step(name, fn) {
  log(`step: ${name}`);
  try {
    await fn();
  } catch (err) {
    const file = path.join(outDir, `fail-${name}.png`);
    await page?.screenshot({ path: file }).catch(() => {});
    console.error(`vscode e2e: step "${name}" failed: ${err instanceof Error ? err.stack : err}`);
    console.error(`screenshot: ${file}`);
    dumpLogs();
    await cleanup();
    process.exit(1);
  }
  shot++;
  const file = path.join(outDir, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  log(`ok: ${name} (${path.relative(repo, file)})`);
}

/** Prints the extension's "Flash" output channel and the extension host log. */
function dumpLogs() {
  const logs = path.join(tmp, 'user', 'logs');
  const walk = (dir) => {
    let files = [];
    for (const e of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      files = e.isDirectory() ? files.concat(walk(p)) : files.concat([p]);
    }
    return files;
  };
  for (const f of walk(logs)) {
    if (/Flash\.log$|exthost\.log$/.test(f)) {
      const text = readFileSync(f, 'utf8');
      console.error(`--- ${path.relative(tmp, f)} (last 4000 characters)\n${text.slice(-4000)}`);
    }
  }
}

/** The pids of running flash-lsp servers started from binary (any test binary when null). */
function serverPids(binary) {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) {
      continue;
    }
    let exe;
    try {
      exe = readlinkSync(`/proc/${d}/exe`);
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) {
        continue; // exited, not yet reaped
      }
    } catch {
      continue;
    }
    if (binary === null ? exe.startsWith(tmp + path.sep) && path.basename(exe) === 'flash-lsp' : exe === binary) {
      pids.push(Number(d));
    }
  }
  return pids;
}

async function until(what, pred, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function build(out, ldflags) {
  const args = ['build', '-o', out];
  if (ldflags) {
    args.push('-ldflags', ldflags);
  }
  execFileSync('go', [...args, './cmd/flash-lsp'], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
}

const userDir = path.join(tmp, 'user');
const settingsFile = path.join(userDir, 'User', 'settings.json');
const machineSettingsFile = path.join(userDir, 'Machine', 'settings.json');
function settingsText(serverPath) {
  return JSON.stringify(
      {
        'flash.server.path': serverPath,
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'editor.hover.delay': 200,
        'files.autoSave': 'off',
        'chat.commandCenter.enabled': false,
        'workbench.reduceMotion': 'on', // screenshots without fading hovers
      },
    );
}

function writeSettings(serverPath) {
  mkdirSync(path.dirname(settingsFile), { recursive: true });
  writeFileSync(settingsFile, settingsText(serverPath));
}

/**
 * Sets flash.server.path in the remote ("Machine") settings, where a remote
 * window such as code-server's reads machine-overridable settings from: a
 * change in the User settings is ignored there.
 */
function setServerPath(serverPath) {
  mkdirSync(path.dirname(machineSettingsFile), { recursive: true });
  writeFileSync(machineSettingsFile, JSON.stringify({ 'flash.server.path': serverPath }));
}

/** The text of the Problems panel. */
async function problems() {
  return (await page.locator('.part.panel').first().innerText().catch(() => '')) || '';
}

/**
 * Reports whether the Problems panel text shows a flash diagnostic with
 * rule id code: VS Code renders it as "flash(code)", the parentheses drawn
 * by CSS, so the text holds "flash" and the code as separate lines.
 */
function hasProblem(text, code) {
  return new RegExp(`\\bflash\\s*\\(?\\s*${code}\\b`).test(text);
}

/** Waits for a notification whose text contains every one of parts. */
async function notification(parts, timeoutMs = 30_000) {
  return until(
    `a notification containing ${JSON.stringify(parts)}`,
    async () => {
      const texts = await page.locator('.notification-list-item-message').allInnerTexts();
      return texts.find((t) => parts.every((p) => t.includes(p)));
    },
    timeoutMs,
  );
}

async function command(title) {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
}

async function gotoLine(line, col) {
  // Quick Open with ":" is Go to Line in the active editor.
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(col ? `:${line}:${col}` : `:${line}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: `${line}` }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
}

try {
  log('building flash-lsp and an old one (v0.0.9), packaging the extension');
  const binDir = path.join(tmp, 'bin');
  const server = path.join(binDir, 'flash-lsp');
  build(server);
  const oldServer = path.join(tmp, 'old', 'flash-lsp');
  build(oldServer, '-X main.version=v0.0.9');
  const vsix = path.join(tmp, 'flash-lsp.vsix');
  execFileSync(path.join(extRoot, 'node_modules', '.bin', 'vsce'), ['package', '--skip-license', '--out', vsix], {
    cwd: extRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const proj = path.join(tmp, 'quickstart');
  cpSync(path.join(repo, 'testdata', 'projects', 'quickstart'), proj, { recursive: true, filter: (s) => path.basename(s) !== '.flash' });
  execFileSync('go', ['mod', 'edit', '-replace', `github.com/flash-lsp/flash-lsp=${repo}`], { cwd: proj });
  const file = path.join(proj, 'cpu', 'cpu.go');
  const original = readFileSync(file, 'utf8');
  const directive = '//flash:remote res.CPU method=GET path=/health';
  const lines = original.split('\n');
  const line = lines.indexOf(directive) + 1;
  if (line === 0) {
    fail(`${directive} not found in ${file}`);
  }
  writeFileSync(file, original.replace(directive, directive.replace('method=GET', 'method=get')));
  const methodCol = directive.indexOf('GET') + 1;

  const extDir = path.join(tmp, 'extensions');
  const home = path.join(tmp, 'home');
  mkdirSync(home, { recursive: true });
  // The extension host takes PATH from a login shell, as a user's would be
  // set up: the profile puts go (which flash-lsp runs to load packages) on it.
  const goBin = path.join(goEnv.GOROOT, 'bin');
  writeFileSync(path.join(home, '.profile'), `PATH=${JSON.stringify(`${goBin}:${process.env.PATH}`)}\nexport PATH\n`);
  writeSettings(server);
  setServerPath(server);
  const env = {
    ...process.env,
    ...goEnv,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    // The login shell the extension host asks for its environment: it reads
    // the profile above, nothing of the machine's user.
    SHELL: '/bin/sh',
  };
  const csArgs = ['--extensions-dir', extDir, '--user-data-dir', userDir];
  execFileSync(codeServer, [...csArgs, '--install-extension', vsix], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const installed = readdirSync(extDir).filter((d) => d.startsWith('flash-lsp.flash-lsp-'));
  if (installed.length !== 1) {
    fail(`the .vsix did not install: ${extDir} holds ${readdirSync(extDir).join(', ')}`);
  }

  const port = await freePort();
  codeServerProc = spawn(
    codeServer,
    [
      ...csArgs,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      proj,
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let csLog = '';
  codeServerProc.stdout.on('data', (b) => (csLog += b));
  codeServerProc.stderr.on('data', (b) => (csLog += b));
  await until('code-server to listen', () => csLog.includes('HTTP server listening') || codeServerProc.exitCode !== null, 60_000);
  if (codeServerProc.exitCode !== null) {
    fail(`code-server exited ${codeServerProc.exitCode}:\n${csLog}`);
  }
  log(`code-server on 127.0.0.1:${port}`);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(proj)}`);

  await step('workbench', async () => {
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill('cpu/cpu.go');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'cpu.go' }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'cpu.go' }).waitFor({ state: 'visible' });
    await page.locator('.monaco-editor .view-lines').first().click();
  });

  await step('problems-bad-method', async () => {
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.part.panel', { hasText: 'PROBLEMS' }).waitFor({ state: 'visible' });
    await until('flash(bad-method) in the Problems panel', async () => hasProblem(await problems(), 'bad-method'), 60_000).catch(async (err) => {
      throw new Error(`${err.message}; the panel reads:\n${await problems()}`);
    });
    const text = await problems();
    if (!text.includes('get')) {
      throw new Error(`the bad-method problem does not quote the method: ${text}`);
    }
  });

  await step('quick-fix', async () => {
    await gotoLine(line, methodCol);
    await page.keyboard.press('Control+.');
    const item = page.locator('.action-widget .monaco-list-row', { hasText: 'Change method to GET' }).first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    // Choose it with the keyboard, as the light bulb menu is used.
    for (let i = 0; ; i++) {
      const focused = await page.locator('.action-widget .monaco-list-row.focused').first().innerText().catch(() => '');
      if (focused.includes('Change method to GET')) {
        break;
      }
      if (i === 10) {
        throw new Error(`"Change method to GET" never got the focus in the quick fix menu (focused: ${JSON.stringify(focused)})`);
      }
      await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('Enter');
    await until('flash(bad-method) to leave the Problems panel', async () => !hasProblem(await problems(), 'bad-method'));
    await page.keyboard.press('Control+S');
    await until('the saved file to equal the original', () => readFileSync(file, 'utf8') === original, 10_000);
  });

  await step('hover', async () => {
    await gotoLine(line, methodCol);
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    const hover = page.locator('.monaco-hover', { hasText: 'Flash resource' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const text = await hover.innerText();
    for (const want of ['GET /health', 'curl']) {
      if (!text.includes(want)) {
        throw new Error(`hover does not contain ${JSON.stringify(want)}:\n${text}`);
      }
    }
  });

  await step('generate', async () => {
    const manifest = path.join(proj, '.flash', 'flash_manifest.json');
    await page.keyboard.press('Escape'); // the hover
    await command('Flash: Generate handlers and manifest');
    await until('.flash/flash_manifest.json', () => existsSync(manifest), 60_000);
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    if (m.module !== 'example.com/quickstart' || Object.keys(m.resources ?? {}).length === 0) {
      throw new Error(`manifest: ${JSON.stringify(m).slice(0, 300)}`);
    }
    await notification(['Flash', 'generated']);
  });

  await step('unsaved-edit', async () => {
    await gotoLine(line);
    await page.keyboard.press('End');
    await page.keyboard.type(' pth=/x');
    await until('flash(unknown-key) in the Problems panel', async () => hasProblem(await problems(), 'unknown-key'));
    if (readFileSync(file, 'utf8') !== original) {
      throw new Error('the unsaved edit reached the disk');
    }
    // Back to the saved text, so later steps start from a clean file.
    await command('File: Revert File');
    await until('flash(unknown-key) to go', async () => !hasProblem(await problems(), 'unknown-key'));
  });

  await step('binary-not-found', async () => {
    const missing = path.join(tmp, 'missing', 'flash-lsp');
    setServerPath(missing);
    await notification([`flash.server.path is "${missing}"`, 'not an executable file', 'go install github.com/flash-lsp/flash-lsp/cmd/flash-lsp@latest']);
    await until('no server running', () => serverPids(null).length === 0, 10_000);
  });

  await step('old-binary', async () => {
    setServerPath(oldServer);
    await notification(['flash-lsp v0.0.9 is older than this extension needs (0.1.0 or newer)', 'go install']);
    if (serverPids(oldServer).length !== 1) {
      throw new Error(`want the old server running (it still works), have ${serverPids(oldServer)}`);
    }
  });

  await step('crash-restarts', async () => {
    setServerPath(server);
    let pid = await until('the server to start', () => serverPids(server)[0], 30_000);
    await until('the old server to stop', () => serverPids(oldServer).length === 0, 10_000);
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    for (let crash = 1; crash <= 5; crash++) {
      process.kill(pid, 'SIGKILL');
      // Typing at once sends didChange into the dead server's stdin (EPIPE):
      // that write error must not keep the client from restarting it.
      await page.keyboard.type(' ');
      await page.keyboard.press('Backspace');
      const prev = pid;
      pid = await until(`restart ${crash}`, () => serverPids(server).find((p) => p !== prev), 20_000);
      log(`crash ${crash}: server ${prev} killed, restarted as ${pid}`);
    }
    process.kill(pid, 'SIGKILL');
    await notification(['crashed 6 times in 3 minutes and will not be restarted']);
    await new Promise((r) => setTimeout(r, 5000)); // longer than the longest pause
    const left = serverPids(server);
    if (left.length !== 0) {
      throw new Error(`a server was started after the 6th crash: ${left}`);
    }
  });

  log(`all steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${outDir}`);
  await cleanup();
} catch (err) {
  console.error(`vscode e2e: ${err instanceof Error ? err.stack : err}`);
  await page?.screenshot({ path: path.join(outDir, 'fail-setup.png') }).catch(() => {});
  dumpLogs();
  await cleanup();
  process.exit(1);
}
