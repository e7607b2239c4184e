// Packages the extension with @vscode/vsce into a temporary directory and
// checks the .vsix: it must exist and hold the compiled extension and its
// runtime dependency, but not sources, tests or development tools.
// Run by `npm test` (and so by `make test`) so packaging cannot silently break;
// vsce runs the vscode:prepublish script (compile) first, which also builds
// the unit tests that `npm test` runs next.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'flash-vsix-'));
const vsix = join(dir, 'flash-lsp.vsix');

/** Lists the entry names of a zip file from its central directory. */
function zipEntries(buf) {
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new Error('not a zip file: no end of central directory');
  }
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) {
      throw new Error(`bad central directory entry at ${off}`);
    }
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    names.push(buf.toString('utf8', off + 46, off + 46 + nameLen));
    off += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

let failed = false;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}`);
  if (!ok) {
    failed = true;
  }
}

try {
  const vsce = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
  execFileSync(vsce, ['package', '--skip-license', '--out', vsix], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const size = statSync(vsix).size;
  check(size > 0, `vsce wrote ${vsix} (${size} bytes)`);

  const names = zipEntries(readFileSync(vsix));
  for (const want of [
    'extension.vsixmanifest',
    'extension/package.json',
    'extension/readme.md',
    'extension/out/extension.js',
    'extension/out/binary.js',
    'extension/out/settings.js',
    'extension/out/version.js',
    'extension/out/restart.js',
    'extension/node_modules/vscode-languageclient/package.json',
    'extension/node_modules/vscode-languageclient/lib/node/main.js',
  ]) {
    check(names.includes(want), `vsix contains ${want}`);
  }
  for (const prefix of ['extension/go.mod', 'extension/src/', 'extension/out/test/', 'extension/scripts/', 'extension/e2e/', 'extension/node_modules/typescript/', 'extension/node_modules/@vscode/vsce/']) {
    check(!names.some((n) => n.startsWith(prefix)), `vsix leaves out ${prefix}`);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  check(names.length > 0, `${names.length} entries in ${pkg.name}-${pkg.version}`);
} catch (err) {
  check(false, `packaging: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  process.exitCode = 1;
}
