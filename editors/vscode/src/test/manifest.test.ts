// Checks package.json against what SPEC section 10 and the Go extension's
// neighbourhood require: it is the contract VS Code reads, so a typo here
// breaks the extension without any TypeScript error.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const root = path.join(__dirname, '..', '..');

interface Command {
  command: string;
  title: string;
  category?: string;
}

interface Manifest {
  name: string;
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  capabilities?: { untrustedWorkspaces?: { supported: boolean | 'limited'; restrictedConfigurations?: string[] } };
  contributes: Record<string, unknown> & {
    commands: Command[];
    configuration: { properties: Record<string, { type: string; default: unknown }> };
  };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

function readJSON<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(path.join(root, ...parts), 'utf8')) as T;
}

const manifest = readJSON<Manifest>('package.json');

function minVersion(range: string): number[] {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(range);
  assert.ok(m, `no version in ${range}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) {
      return (a[i] ?? 0) - (b[i] ?? 0);
    }
  }
  return 0;
}

describe('package.json', () => {
  it('activates on Go files and leaves the go language to the Go extension', () => {
    assert.deepEqual(manifest.activationEvents, ['onLanguage:go']);
    for (const key of ['languages', 'grammars', 'snippets', 'debuggers']) {
      assert.equal(key in manifest.contributes, false, `contributes.${key} would compete with the Go extension`);
    }
  });

  it('declares the two commands under the Flash category', () => {
    const titles = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`);
    assert.deepEqual(titles, ['Flash: Generate handlers and manifest', 'Flash: Restart server']);
    const ids = manifest.contributes.commands.map((c) => c.command);
    assert.deepEqual(ids, ['flash.generateHandlers', 'flash.restartServer']);
  });

  it('never registers the server command flash.generate itself', () => {
    // The language client registers every command the server announces;
    // a second registration makes activation fail.
    assert.equal(manifest.contributes.commands.some((c) => c.command === 'flash.generate'), false);
    const source = readFileSync(path.join(root, 'src', 'extension.ts'), 'utf8');
    const registered = [...source.matchAll(/registerCommand\(\s*'([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual(registered.sort(), ['flash.generateHandlers', 'flash.restartServer']);
  });

  it('has the three settings with their defaults', () => {
    const props = manifest.contributes.configuration.properties;
    assert.deepEqual(Object.keys(props).sort(), ['flash.server.args', 'flash.server.path', 'flash.trace.server']);
    assert.equal(props['flash.server.path']?.default, '');
    assert.deepEqual(props['flash.server.args']?.default, []);
    assert.equal(props['flash.trace.server']?.default, 'off');
  });

  it('does not let an untrusted workspace choose the server binary or its arguments', () => {
    const trust = manifest.capabilities?.untrustedWorkspaces;
    assert.equal(trust?.supported, 'limited');
    assert.deepEqual([...(trust?.restrictedConfigurations ?? [])].sort(), ['flash.server.args', 'flash.server.path']);
  });

  it('targets a VS Code that the language client and the typings support', () => {
    const engine = minVersion(manifest.engines.vscode);
    const client = readJSON<{ engines: { vscode: string } }>('node_modules', 'vscode-languageclient', 'package.json');
    assert.ok(compare(minVersion(client.engines.vscode), engine) <= 0, `vscode-languageclient needs ${client.engines.vscode}`);
    // vsce refuses to package when @types/vscode is newer than the engine.
    assert.ok(compare(minVersion(manifest.devDependencies['@types/vscode'] ?? ''), engine) <= 0);
    assert.match(manifest.devDependencies['@vscode/vsce'] ?? '', /^\^3\./, '@vscode/vsce 4 needs Node 22');
  });

  it('has a lockfile without download locations', () => {
    const lock = readJSON<{ packages: Record<string, { resolved?: string }> }>('package-lock.json');
    const withResolved = Object.entries(lock.packages)
      .filter(([, p]) => p.resolved !== undefined)
      .map(([name]) => name);
    assert.deepEqual(withResolved, []);
  });
});
