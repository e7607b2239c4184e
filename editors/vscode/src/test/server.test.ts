// Starts the real flash-lsp the way the extension does (resolveServerBinary →
// serverLaunch) and speaks JSON-RPC to it with vscode-jsonrpc, the library
// under vscode-languageclient: the launch arguments work, the server's own
// commands do not collide with the extension's, and flash.generate accepts
// exactly the argument the "Flash: Generate handlers and manifest" command
// sends. The binary is built from this repository with `go build`.

import { execFileSync, spawn } from 'node:child_process';
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

import { isExecutableFile, resolveServerBinary } from '../binary';
import { generateArguments, serverLaunch } from '../settings';
import { checkServerVersion } from '../version';

const repo = path.resolve(__dirname, '..', '..', '..', '..');

describe('flash-lsp serve, launched like the extension', () => {
  let tmp: string;
  let binDir: string;
  let proj: string;

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'flash-vscode-server-'));
    binDir = path.join(tmp, 'bin');
    // go must be present: this is the test of the real server, not optional.
    execFileSync('go', ['build', '-o', path.join(binDir, 'flash-lsp'), './cmd/flash-lsp'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
    proj = path.join(tmp, 'quickstart');
    cpSync(path.join(repo, 'testdata', 'projects', 'quickstart'), proj, { recursive: true });
    execFileSync('go', ['mod', 'edit', '-replace', `github.com/flash-lsp/flash-lsp=${repo}`], { cwd: proj });
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('initializes, generates from the active file and exits 0 after shutdown', async () => {
    const found = await resolveServerBinary({
      configuredPath: '',
      pathEnv: binDir,
      platform: process.platform,
      homeDir: os.homedir(),
      goEnv: () => Promise.resolve(undefined),
      isExecutable: isExecutableFile,
    });
    assert.equal(found.path, path.join(binDir, 'flash-lsp'));

    const logfile = path.join(tmp, 'server.log');
    const launch = serverLaunch(found.path, { serverPath: '', serverArgs: ['--logfile', logfile], trace: 'off' }, process.env, proj);
    const proc = spawn(launch.command, launch.args, { cwd: launch.options.cwd, env: launch.options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    const messages: Array<{ type: number; message: string }> = [];
    const serverRequests: string[] = [];
    conn.onNotification('window/showMessage', (p: { type: number; message: string }) => {
      messages.push(p);
    });
    conn.onRequest((method) => {
      serverRequests.push(method); // client/registerCapability and the like: accept, as VS Code does
      return null;
    });
    conn.listen();

    try {
      const rootUri = pathToFileURL(proj).toString();
      const init = await conn.sendRequest<{
        capabilities: { executeCommandProvider?: { commands: string[] } };
        serverInfo?: { name?: string; version?: string };
      }>('initialize', {
        processId: process.pid,
        rootUri,
        workspaceFolders: [{ uri: rootUri, name: 'quickstart' }],
        capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true }, workspaceFolders: true } },
      });
      // The version handshake's server side: a go build from a checkout is "devel", which is not compared.
      assert.deepEqual(init.serverInfo, { name: 'flash-lsp', version: 'devel' });
      assert.equal(checkServerVersion(init.serverInfo).kind, 'unknown');
      const commands = init.capabilities.executeCommandProvider?.commands ?? [];
      assert.ok(commands.includes('flash.generate'), `server commands ${JSON.stringify(commands)}`);
      const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
        contributes: { commands: Array<{ command: string }> };
      };
      for (const c of manifest.contributes.commands) {
        assert.ok(!commands.includes(c.command), `${c.command} is both the extension's and the server's: activation would fail`);
      }
      await conn.sendNotification('initialized', {});

      const file = pathToFileURL(path.join(proj, 'cpu', 'cpu.go')).toString();
      const args = generateArguments({ uri: file, scheme: 'file' }, [{ uri: rootUri, scheme: 'file' }]);
      assert.deepEqual(args, [{ uri: file }]);
      await conn.sendRequest('workspace/executeCommand', { command: 'flash.generate', arguments: args });
      const deadline = Date.now() + 60_000;
      while (messages.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(messages[0]?.type, 3, `want an info message, got ${JSON.stringify(messages)}`);
      assert.ok(existsSync(path.join(proj, '.flash', 'flash_manifest.json')), 'no .flash/flash_manifest.json');
      // SPEC 13: the server watches go.mod, go.sum and *.go through a dynamic
      // registration, which vscode-languageclient turns into file watchers.
      assert.ok(serverRequests.includes('client/registerCapability'), `server requests ${JSON.stringify(serverRequests)}`);

      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit');
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      assert.equal(await Promise.race([exited, timeout]), 0, `server exit; stderr: ${stderr}`);
      assert.ok(existsSync(logfile), '--logfile from flash.server.args was not honoured');
      assert.equal(stderr, '', 'with --logfile the server must not log to stderr');
    } finally {
      conn.dispose();
      proc.kill();
    }
  });
});
