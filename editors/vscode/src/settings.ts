// Settings → server launch options, and the argument of the generate command.
// Like binary.ts, this module does not import 'vscode', so it is unit-tested
// under Node's test runner; extension.ts feeds it VS Code's configuration.

/** The values of the flash.* settings the extension reads. */
export interface Settings {
  /** flash.server.path: the binary, or '' to search for it. */
  serverPath: string;
  /** flash.server.args: extra arguments after `serve`. */
  serverArgs: string[];
  /** flash.trace.server; vscode-languageclient reads it itself, it is here for logging. */
  trace: 'off' | 'messages' | 'verbose';
}

/** The settings whose change requires restarting the server. */
export const restartSections = ['flash.server.path', 'flash.server.args'];

/** A configuration lookup, as in vscode.WorkspaceConfiguration.get for the 'flash' section. */
export type ConfigGetter = (key: string) => unknown;

/**
 * Reads and validates the settings. A value of the wrong type is replaced by
 * its default and described in problems, so a typo in settings.json shows up
 * as a warning instead of a server started with nonsense arguments.
 */
export function readSettings(get: ConfigGetter): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const settings: Settings = { serverPath: '', serverArgs: [], trace: 'off' };

  const p = get('server.path');
  if (typeof p === 'string') {
    settings.serverPath = p;
  } else if (p !== undefined && p !== null) {
    problems.push(`flash.server.path must be a string, not ${describe(p)}`);
  }

  const a = get('server.args');
  if (Array.isArray(a) && a.every((x): x is string => typeof x === 'string')) {
    settings.serverArgs = a;
  } else if (a !== undefined && a !== null) {
    problems.push(`flash.server.args must be an array of strings, not ${describe(a)}`);
  }

  const t = get('trace.server');
  if (t === 'off' || t === 'messages' || t === 'verbose') {
    settings.trace = t;
  } else if (t !== undefined && t !== null) {
    problems.push(`flash.trace.server must be "off", "messages" or "verbose", not ${describe(t)}`);
  }
  return { settings, problems };
}

function describe(v: unknown): string {
  return Array.isArray(v) ? 'an array with non-string items' : `${typeof v} ${JSON.stringify(v)}`;
}

/** The launch of the language server, in the shape of vscode-languageclient's Executable. */
export interface ServerLaunch {
  command: string;
  args: string[];
  options: { env: NodeJS.ProcessEnv; cwd?: string };
}

/**
 * The arguments for the server: `serve` followed by the user's extra
 * arguments. A user who already wrote `serve` (or `--stdio`, which the server
 * also accepts as the first argument) does not get it twice.
 */
export function serverArgs(extra: readonly string[]): string[] {
  if (extra.length > 0 && (extra[0] === 'serve' || extra[0] === '--stdio' || extra[0] === '-stdio')) {
    return [...extra];
  }
  return ['serve', ...extra];
}

/** Builds the server launch for a resolved binary. */
export function serverLaunch(binary: string, settings: Settings, env: NodeJS.ProcessEnv, cwd?: string): ServerLaunch {
  const launch: ServerLaunch = { command: binary, args: serverArgs(settings.serverArgs), options: { env: { ...env } } };
  if (cwd !== undefined) {
    launch.options.cwd = cwd;
  }
  return launch;
}

/** A document as far as choosing the generate target is concerned. */
export interface DocumentRef {
  /** The document URI as a string (vscode.Uri.toString()). */
  uri: string;
  /** The URI scheme: only 'file' documents exist on disk for the server. */
  scheme: string;
}

/**
 * The argument list of the server's flash.generate command: the active file
 * when it is on disk (the server finds its module), otherwise the first
 * workspace folder. It returns undefined when there is neither.
 */
export function generateArguments(active: DocumentRef | undefined, folders: readonly DocumentRef[]): [{ uri: string }] | undefined {
  if (active !== undefined && active.scheme === 'file') {
    return [{ uri: active.uri }];
  }
  const folder = folders.find((f) => f.scheme === 'file');
  if (folder !== undefined) {
    return [{ uri: folder.uri }];
  }
  return undefined;
}
