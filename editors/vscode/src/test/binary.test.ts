import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  BinaryNotFoundError,
  binaryName,
  goEnvFromTool,
  installCommand,
  isExecutableFile,
  resolveServerBinary,
  type GoEnv,
  type ResolveOptions,
} from '../binary';

// These tests use real files in a temporary directory: a candidate counts only
// when it is a regular file with the execute bit, as the extension checks it.
describe('resolveServerBinary', () => {
  let root: string;
  let home: string;
  let pathDir: string;
  let gobin: string;
  let gopath: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'flash-binary-'));
    home = path.join(root, 'home');
    pathDir = path.join(root, 'path');
    gobin = path.join(root, 'gobin');
    gopath = path.join(root, 'gopath');
    for (const d of [home, pathDir, gobin, path.join(gopath, 'bin'), path.join(root, 'ws', 'tools')]) {
      await fs.mkdir(d, { recursive: true });
    }
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  async function executable(file: string): Promise<string> {
    await fs.writeFile(file, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return file;
  }

  function options(over: Partial<ResolveOptions>, goEnv?: GoEnv): ResolveOptions & { goEnvCalls: number } {
    const o = {
      configuredPath: '',
      pathEnv: [path.join(root, 'missing'), pathDir].join(path.delimiter),
      platform: process.platform,
      homeDir: home,
      workspaceFolder: path.join(root, 'ws'),
      goEnvCalls: 0,
      goEnv: () => {
        o.goEnvCalls++;
        return Promise.resolve(goEnv);
      },
      isExecutable: isExecutableFile,
      ...over,
    };
    return o;
  }

  it('prefers flash.server.path, and does not run go for it', async () => {
    const bin = await executable(path.join(root, 'configured-flash-lsp'));
    await executable(path.join(pathDir, 'flash-lsp'));
    const o = options({ configuredPath: bin }, { GOPATH: gopath });
    assert.deepEqual(await resolveServerBinary(o), { path: bin, source: 'flash.server.path' });
    assert.equal(o.goEnvCalls, 0);
    await fs.rm(path.join(pathDir, 'flash-lsp'));
  });

  it('expands ~ and resolves relative settings against the workspace folder', async () => {
    const inHome = await executable(path.join(home, 'flash-lsp-home'));
    assert.equal((await resolveServerBinary(options({ configuredPath: '~/flash-lsp-home' }))).path, inHome);
    const inWs = await executable(path.join(root, 'ws', 'tools', 'flash-lsp'));
    assert.equal((await resolveServerBinary(options({ configuredPath: './tools/flash-lsp' }))).path, inWs);
  });

  it('looks a bare configured name up on PATH', async () => {
    const bin = await executable(path.join(pathDir, 'my-flash'));
    assert.deepEqual(await resolveServerBinary(options({ configuredPath: 'my-flash' })), {
      path: bin,
      source: 'flash.server.path',
    });
  });

  it('reports a configured path that is missing, a directory or not executable, without searching further', async () => {
    await executable(path.join(pathDir, 'flash-lsp'));
    const plain = path.join(root, 'not-executable');
    await fs.writeFile(plain, 'data', { mode: 0o644 });
    for (const configured of [path.join(root, 'nope'), root, plain]) {
      await assert.rejects(resolveServerBinary(options({ configuredPath: configured })), (err: unknown) => {
        assert.ok(err instanceof BinaryNotFoundError);
        assert.match(err.message, /flash\.server\.path/);
        assert.ok(err.message.includes(installCommand), err.message);
        return true;
      });
    }
    await fs.rm(path.join(pathDir, 'flash-lsp'));
  });

  it('finds the binary on PATH before asking go', async () => {
    const bin = await executable(path.join(pathDir, binaryName(process.platform)));
    const o = options({}, { GOPATH: gopath });
    assert.deepEqual(await resolveServerBinary(o), { path: bin, source: 'PATH' });
    assert.equal(o.goEnvCalls, 0);
    await fs.rm(bin);
  });

  it('falls back to GOBIN, then to the first GOPATH entry', async () => {
    const inGopath = await executable(path.join(gopath, 'bin', 'flash-lsp'));
    const both = { GOBIN: gobin, GOPATH: [gopath, path.join(root, 'second')].join(path.delimiter) };
    assert.deepEqual(await resolveServerBinary(options({}, both)), { path: inGopath, source: 'GOPATH' });
    const inGobin = await executable(path.join(gobin, 'flash-lsp'));
    assert.deepEqual(await resolveServerBinary(options({}, both)), { path: inGobin, source: 'GOBIN' });
    await fs.rm(inGobin);
    await fs.rm(inGopath);
  });

  it('explains how to install when nothing is found', async () => {
    await assert.rejects(resolveServerBinary(options({}, { GOPATH: gopath })), (err: unknown) => {
      assert.ok(err instanceof BinaryNotFoundError);
      assert.equal(
        err.message,
        'flash-lsp was not found on PATH, GOBIN or GOPATH/bin; install it with ' +
          '`go install github.com/flash-lsp/flash-lsp/cmd/flash-lsp@latest` or set flash.server.path to its location',
      );
      assert.deepEqual(err.searched, [
        path.join(root, 'missing', 'flash-lsp'),
        path.join(pathDir, 'flash-lsp'),
        path.join(gopath, 'bin', 'flash-lsp'),
      ]);
      return true;
    });
    await assert.rejects(resolveServerBinary(options({}, undefined)), /go is not installed/);
  });

  it('uses PATHEXT and backslashes on Windows', async () => {
    const seen: string[] = [];
    const found = await resolveServerBinary({
      configuredPath: '',
      pathEnv: 'C:\\bin;C:\\go\\bin',
      pathExt: '.COM;.EXE',
      platform: 'win32',
      homeDir: 'C:\\Users\\me',
      goEnv: () => Promise.resolve(undefined),
      isExecutable: (f) => {
        seen.push(f);
        return Promise.resolve(f === 'C:\\go\\bin\\flash-lsp.exe');
      },
    });
    assert.deepEqual(found, { path: 'C:\\go\\bin\\flash-lsp.exe', source: 'PATH' });
    assert.deepEqual(seen, ['C:\\bin\\flash-lsp.exe', 'C:\\go\\bin\\flash-lsp.exe']);

    // A bare configured name gets each PATHEXT extension, like cmd.exe does.
    seen.length = 0;
    const named = await resolveServerBinary({
      configuredPath: 'flash',
      pathEnv: 'C:\\bin',
      pathExt: '.COM;.EXE',
      platform: 'win32',
      homeDir: 'C:\\Users\\me',
      goEnv: () => Promise.reject(new Error('go must not run')),
      isExecutable: (f) => {
        seen.push(f);
        return Promise.resolve(f.endsWith('.exe'));
      },
    });
    assert.deepEqual(named, { path: 'C:\\bin\\flash.exe', source: 'flash.server.path' });
    assert.deepEqual(seen, ['C:\\bin\\flash.com', 'C:\\bin\\flash.exe']);
  });
});

describe('goEnvFromTool', () => {
  it('reads GOPATH from the real go command', async (t) => {
    const env = await goEnvFromTool('go');
    if (env === undefined) {
      t.skip('go is not on PATH');
      return;
    }
    assert.ok(env.GOPATH && path.isAbsolute(env.GOPATH.split(path.delimiter)[0] ?? ''), `GOPATH ${env.GOPATH}`);
  });

  it('resolves to undefined when the go command does not exist', async () => {
    assert.equal(await goEnvFromTool(path.join(os.tmpdir(), 'no-such-go-command')), undefined);
  });
});
