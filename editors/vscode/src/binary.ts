// Finding the flash-lsp binary. This module does not import 'vscode' so that
// Node's test runner can exercise it directly: every effect it needs (the file
// system, `go env`) comes in through ResolveOptions.

import { execFile } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The command that installs the server, quoted in every "not found" error. */
export const installCommand = 'go install github.com/flash-lsp/flash-lsp/cmd/flash-lsp@latest';

/** The subset of `go env` the resolver reads. */
export interface GoEnv {
  GOBIN?: string;
  GOPATH?: string;
}

export interface ResolveOptions {
  /** The flash.server.path setting; empty means "search". */
  configuredPath: string;
  /** The PATH environment variable. */
  pathEnv: string | undefined;
  /** PATHEXT on Windows; ignored elsewhere. */
  pathExt?: string | undefined;
  platform: NodeJS.Platform;
  homeDir: string;
  /** Relative configured paths are resolved against this folder. */
  workspaceFolder?: string | undefined;
  /** Reports `go env GOBIN GOPATH`, or undefined when go is not available. Called only when needed. */
  goEnv: () => Promise<GoEnv | undefined>;
  isExecutable: (file: string) => Promise<boolean>;
}

/** Where the binary was found. */
export type Source = 'flash.server.path' | 'PATH' | 'GOBIN' | 'GOPATH';

export interface Resolution {
  path: string;
  source: Source;
}

/** Raised when no usable binary exists; its message says how to install one. */
export class BinaryNotFoundError extends Error {
  constructor(
    message: string,
    /** Every candidate file that was checked, in order. */
    readonly searched: string[],
  ) {
    super(message);
    this.name = 'BinaryNotFoundError';
  }
}

/** The executable's file name on this platform. */
export function binaryName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'flash-lsp.exe' : 'flash-lsp';
}

/**
 * Finds flash-lsp: the flash.server.path setting when it is set (and then
 * nothing else, so a wrong setting is reported rather than silently
 * bypassed), otherwise PATH, then $(go env GOBIN), then the bin directory of
 * the first GOPATH entry, where `go install` puts it.
 */
export async function resolveServerBinary(opts: ResolveOptions): Promise<Resolution> {
  const p = pathApi(opts.platform);
  const configured = opts.configuredPath.trim();
  if (configured !== '') {
    const expanded = expandHome(configured, opts.homeDir, p);
    if (!hasSeparator(expanded, opts.platform)) {
      // A bare command name: look it up on PATH like a shell would.
      const searched: string[] = [];
      for (const candidate of pathCandidates(expanded, opts)) {
        searched.push(candidate);
        if (await opts.isExecutable(candidate)) {
          return { path: candidate, source: 'flash.server.path' };
        }
      }
      throw new BinaryNotFoundError(
        `flash.server.path is "${configured}", which is not an executable on PATH; ` +
          `set it to the full path of flash-lsp, or install flash-lsp with \`${installCommand}\``,
        searched,
      );
    }
    const file = p.isAbsolute(expanded)
      ? expanded
      : p.resolve(opts.workspaceFolder ?? opts.homeDir, expanded);
    if (await opts.isExecutable(file)) {
      return { path: file, source: 'flash.server.path' };
    }
    throw new BinaryNotFoundError(
      `flash.server.path is "${configured}", but ${file} is not an executable file; ` +
        `fix the setting, or clear it and install flash-lsp with \`${installCommand}\``,
      [file],
    );
  }

  const name = binaryName(opts.platform);
  const searched: string[] = [];
  for (const candidate of pathCandidates(name, opts)) {
    searched.push(candidate);
    if (await opts.isExecutable(candidate)) {
      return { path: candidate, source: 'PATH' };
    }
  }

  const env = await opts.goEnv();
  const goDirs: Array<[string, Source]> = [];
  if (env?.GOBIN) {
    goDirs.push([env.GOBIN, 'GOBIN']);
  }
  const firstGopath = env?.GOPATH?.split(p.delimiter).find((d) => d !== '');
  if (firstGopath) {
    goDirs.push([p.join(firstGopath, 'bin'), 'GOPATH']);
  }
  for (const [dir, source] of goDirs) {
    const candidate = p.join(dir, name);
    if (searched.includes(candidate)) {
      continue;
    }
    searched.push(candidate);
    if (await opts.isExecutable(candidate)) {
      return { path: candidate, source };
    }
  }

  const where = env === undefined ? 'PATH (go is not installed, so GOPATH/bin was not searched)' : 'PATH, GOBIN or GOPATH/bin';
  throw new BinaryNotFoundError(
    `flash-lsp was not found on ${where}; install it with \`${installCommand}\` ` +
      `or set flash.server.path to its location`,
    searched,
  );
}

/** Lists the files named `name` in each PATH directory (with PATHEXT extensions on Windows). */
function pathCandidates(name: string, opts: ResolveOptions): string[] {
  const p = pathApi(opts.platform);
  const dirs = (opts.pathEnv ?? '').split(p.delimiter).filter((d) => d !== '');
  let names = [name];
  if (opts.platform === 'win32' && p.extname(name) === '') {
    const exts = (opts.pathExt ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((e) => e !== '');
    names = exts.map((e) => name + e.toLowerCase());
  }
  const out: string[] = [];
  for (const dir of dirs) {
    for (const n of names) {
      out.push(p.join(dir, n));
    }
  }
  return out;
}

function expandHome(file: string, home: string, p: path.PlatformPath): string {
  if (file === '~') {
    return home;
  }
  if (file.startsWith('~/') || file.startsWith('~\\')) {
    return p.join(home, file.slice(2));
  }
  return file;
}

function hasSeparator(file: string, platform: NodeJS.Platform): boolean {
  return file.includes('/') || (platform === 'win32' && file.includes('\\'));
}

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** Reports whether file is a regular file this process may execute. */
export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      await fs.access(file, fsConstants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `go env -json GOBIN GOPATH` with the given go command. It resolves to
 * undefined, rather than failing, when go is missing or broken: the caller
 * then reports that flash-lsp was not found.
 */
export function goEnvFromTool(goCommand = 'go', timeoutMs = 10_000): Promise<GoEnv | undefined> {
  return new Promise((resolve) => {
    execFile(goCommand, ['env', '-json', 'GOBIN', 'GOPATH'], { timeout: timeoutMs }, (err, stdout) => {
      if (err) {
        resolve(undefined);
        return;
      }
      try {
        const parsed = JSON.parse(stdout) as Record<string, unknown>;
        const env: GoEnv = {};
        if (typeof parsed.GOBIN === 'string' && parsed.GOBIN !== '') {
          env.GOBIN = parsed.GOBIN;
        }
        if (typeof parsed.GOPATH === 'string' && parsed.GOPATH !== '') {
          env.GOPATH = parsed.GOPATH;
        }
        resolve(env);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** ResolveOptions for this process: the real PATH, file system and go tool. */
export function processResolveOptions(configuredPath: string, workspaceFolder?: string): ResolveOptions {
  return {
    configuredPath,
    pathEnv: process.env.PATH,
    pathExt: process.env.PATHEXT,
    platform: process.platform,
    homeDir: os.homedir(),
    workspaceFolder,
    goEnv: () => goEnvFromTool(),
    isExecutable: isExecutableFile,
  };
}
