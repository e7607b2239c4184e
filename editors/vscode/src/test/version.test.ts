import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { installCommand } from '../binary';
import { checkServerVersion, compareVersions, minimumServerVersion, parseVersion } from '../version';

describe('checkServerVersion', () => {
  it('accepts the minimum and newer', () => {
    for (const v of [minimumServerVersion, `v${minimumServerVersion}`, 'v0.1.1', 'v0.2.0-rc.1', 'v1.0.0', '0.10.0', 'v0.1.0+build.5']) {
      assert.deepEqual(checkServerVersion({ name: 'flash-lsp', version: v }), { kind: 'ok', version: v }, v);
    }
  });

  it('warns about older releases, naming both versions and the install command', () => {
    for (const v of ['v0.0.9', '0.0.1', 'v0.1.0-rc.1']) {
      const r = checkServerVersion({ name: 'flash-lsp', version: v });
      assert.equal(r.kind, 'old', v);
      if (r.kind === 'old') {
        assert.ok(r.message.includes(v) && r.message.includes('0.1.0 or newer') && r.message.includes(installCommand), r.message);
      }
    }
  });

  it('does not compare development builds or missing versions', () => {
    assert.deepEqual(checkServerVersion(undefined), { kind: 'unknown', version: undefined });
    assert.deepEqual(checkServerVersion({ name: 'flash-lsp' }), { kind: 'unknown', version: undefined });
    for (const v of ['devel', '(devel)', 'v0.0.0-20261203101010-abcdefabcdef', 'v0.0.10-0.20261203101010-abcdefabcdef', 'banana']) {
      assert.deepEqual(checkServerVersion({ version: v }), { kind: 'unknown', version: v }, v);
    }
  });

  it('honours another minimum', () => {
    assert.equal(checkServerVersion({ version: 'v0.3.0' }, '0.4.0').kind, 'old');
    assert.equal(checkServerVersion({ version: 'v0.4.0' }, '0.4.0').kind, 'ok');
  });
});

describe('compareVersions', () => {
  const cmp = (a: string, b: string) => Math.sign(compareVersions(parseVersion(a)!, parseVersion(b)!));
  it('orders by major, minor, patch, then prerelease', () => {
    assert.equal(cmp('v1.0.0', 'v0.9.9'), 1);
    assert.equal(cmp('v0.1.10', 'v0.1.9'), 1);
    assert.equal(cmp('v0.1.0', 'v0.1.0'), 0);
    assert.equal(cmp('v0.1.0-rc.1', 'v0.1.0'), -1);
    assert.equal(cmp('v0.1.0', 'v0.1.0-rc.1'), 1);
    assert.equal(cmp('v0.1.0-alpha', 'v0.1.0-beta'), -1);
  });
  it('rejects what is not a version', () => {
    for (const v of ['', 'devel', '1.2', 'v1.2.3.4', 'x1.2.3']) {
      assert.equal(parseVersion(v), undefined, v);
    }
  });
});
