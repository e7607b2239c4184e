import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { generateArguments, readSettings, serverArgs, serverLaunch } from '../settings';

describe('readSettings', () => {
  it('reads valid values', () => {
    const values: Record<string, unknown> = {
      'server.path': '/opt/flash-lsp',
      'server.args': ['--logfile', '/tmp/f.log'],
      'trace.server': 'verbose',
    };
    assert.deepEqual(readSettings((k) => values[k]), {
      settings: { serverPath: '/opt/flash-lsp', serverArgs: ['--logfile', '/tmp/f.log'], trace: 'verbose' },
      problems: [],
    });
  });

  it('defaults missing values silently', () => {
    assert.deepEqual(readSettings(() => undefined), {
      settings: { serverPath: '', serverArgs: [], trace: 'off' },
      problems: [],
    });
  });

  it('replaces values of the wrong type by their defaults and says so', () => {
    const values: Record<string, unknown> = { 'server.path': 3, 'server.args': ['-x', 1], 'trace.server': 'loud' };
    const { settings, problems } = readSettings((k) => values[k]);
    assert.deepEqual(settings, { serverPath: '', serverArgs: [], trace: 'off' });
    assert.deepEqual(problems, [
      'flash.server.path must be a string, not number 3',
      'flash.server.args must be an array of strings, not an array with non-string items',
      'flash.trace.server must be "off", "messages" or "verbose", not string "loud"',
    ]);
  });
});

describe('serverArgs', () => {
  const cases: Array<[string[], string[]]> = [
    [[], ['serve']],
    [['--logfile', 'x'], ['serve', '--logfile', 'x']],
    [['serve', '--logfile', 'x'], ['serve', '--logfile', 'x']],
    [['--stdio'], ['--stdio']],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => {
      assert.deepEqual(serverArgs(input), want);
    });
  }

  it('does not alias the settings array', () => {
    const extra = ['serve'];
    const got = serverArgs(extra);
    got.push('x');
    assert.deepEqual(extra, ['serve']);
  });
});

describe('serverLaunch', () => {
  it('runs the binary with serve, a copy of the environment and the folder as cwd', () => {
    const env = { PATH: '/bin' };
    const launch = serverLaunch('/go/bin/flash-lsp', { serverPath: '', serverArgs: ['--logfile', 'l'], trace: 'off' }, env, '/ws');
    assert.deepEqual(launch, {
      command: '/go/bin/flash-lsp',
      args: ['serve', '--logfile', 'l'],
      options: { env: { PATH: '/bin' }, cwd: '/ws' },
    });
    assert.notEqual(launch.options.env, env);
    assert.equal('cwd' in serverLaunch('/x', { serverPath: '', serverArgs: [], trace: 'off' }, env).options, false);
  });
});

describe('generateArguments', () => {
  const file = { uri: 'file:///ws/api/api.go', scheme: 'file' };
  const folder = { uri: 'file:///ws', scheme: 'file' };
  const virtual = { uri: 'vscode-vfs://github/x', scheme: 'vscode-vfs' };

  it('uses the active file on disk', () => {
    assert.deepEqual(generateArguments(file, [folder]), [{ uri: 'file:///ws/api/api.go' }]);
  });
  it('falls back to the first folder on disk', () => {
    assert.deepEqual(generateArguments({ uri: 'output:Flash', scheme: 'output' }, [virtual, folder]), [{ uri: 'file:///ws' }]);
    assert.deepEqual(generateArguments(undefined, [folder]), [{ uri: 'file:///ws' }]);
  });
  it('has no target without a file or folder on disk', () => {
    assert.equal(generateArguments(undefined, []), undefined);
    assert.equal(generateArguments(virtual, [virtual]), undefined);
  });
});
