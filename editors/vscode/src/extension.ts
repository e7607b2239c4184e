// The VS Code side of flash-lsp: it starts `flash-lsp serve` for Go files,
// next to the Go extension and gopls (it neither contributes nor claims the
// 'go' language), and adds two commands. The logic that does not need VS Code
// (finding the binary, building the launch, the version handshake, the
// restart policy) lives in binary.ts, settings.ts, version.ts and restart.ts.

import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
} from 'vscode-languageclient/node';

import { BinaryNotFoundError, installCommand, processResolveOptions, resolveServerBinary } from './binary';
import { RestartPolicy } from './restart';
import { generateArguments, readSettings, restartSections, serverLaunch } from './settings';
import { checkServerVersion } from './version';

/** The server-side command behind "Flash: Generate handlers and manifest". */
const serverGenerateCommand = 'flash.generate';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;
// Starts and stops run one after another, so that a restart requested while
// the server is still starting does not leave two servers running (or
// register flash.generate twice).
let lifecycle: Promise<void> = Promise.resolve();
// Crashes of the server since the user last (re)started it.
const crashes = new RestartPolicy();
// The server versions already warned about, so a restart does not repeat it.
const warnedVersions = new Set<string>();

export function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Flash');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('flash.restartServer', () => restart()),
    vscode.commands.registerCommand('flash.generateHandlers', () => generate()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (restartSections.some((s) => e.affectsConfiguration(s))) {
        void restart();
      }
    }),
  );
  return enqueue(start);
}

export function deactivate(): Promise<void> {
  return enqueue(stop);
}

function enqueue(step: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(step, step);
  return lifecycle;
}

function restart(): Promise<void> {
  return enqueue(async () => {
    crashes.reset();
    await stop();
    await start();
  });
}

async function start(): Promise<void> {
  const out = output!;
  const { settings, problems } = readSettings((key) => vscode.workspace.getConfiguration('flash').get(key));
  for (const p of problems) {
    out.appendLine(`warning: ${p}`);
    void vscode.window.showWarningMessage(`Flash: ${p}`);
  }

  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
  let binary: string;
  try {
    const found = await resolveServerBinary(processResolveOptions(settings.serverPath, folder));
    binary = found.path;
    out.appendLine(`using ${binary} (from ${found.source})`);
  } catch (err) {
    reportNotFound(err);
    return;
  }

  const launch = serverLaunch(binary, settings, process.env, folder);
  const serverOptions: ServerOptions = { run: launch, debug: launch };
  const clientOptions: LanguageClientOptions = {
    // Only Go files on disk: the server analyses modules, which untitled
    // buffers and virtual documents do not belong to.
    documentSelector: [{ scheme: 'file', language: 'go' }],
    outputChannel: out,
    errorHandler: {
      // A write to a server that just died fails (EPIPE) before the close is
      // noticed. Shutting down here would stop the client for good instead
      // of letting closed() restart it: carry on and let closed() decide.
      error: (err): ErrorHandlerResult => {
        out.appendLine(`connection to the language server: ${err.message}`);
        return { action: ErrorAction.Continue, handled: true };
      },
      closed: () => onServerClosed(c),
    },
  };
  // The id 'flash' makes the client read flash.trace.server by itself. The
  // client registers the server's commands (flash.generate) on start and
  // unregisters them on stop; the extension must never register them.
  const c: LanguageClient = new LanguageClient('flash', 'Flash', serverOptions, clientOptions);
  client = c;
  // After every start, restarts included: the binary may have been replaced.
  c.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      checkVersion(c);
    }
  });
  try {
    await c.start();
  } catch (err) {
    out.appendLine(`the language server failed to start: ${message(err)}`);
    void vscode.window.showErrorMessage(`Flash: the language server failed to start: ${message(err)}`);
  }
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c === undefined) {
    return;
  }
  try {
    await c.dispose(2000);
  } catch (err) {
    output?.appendLine(`stopping the language server: ${message(err)}`);
  }
}

/** Decides what happens when the server of client c exits by itself. */
async function onServerClosed(c: LanguageClient): Promise<CloseHandlerResult> {
  const out = output!;
  const d = crashes.crashed();
  if (!d.restart) {
    out.appendLine(d.message);
    const again = 'Restart server';
    void vscode.window.showErrorMessage(`Flash: ${d.message}`, again).then((choice) => {
      if (choice === again) {
        void restart();
      }
    });
    return { action: CloseAction.DoNotRestart, handled: true };
  }
  out.appendLine(`the language server exited unexpectedly (${d.crashes} in 3 minutes); restarting it in ${d.delayMs} ms`);
  await new Promise((r) => setTimeout(r, d.delayMs));
  if (client !== c) {
    // Stopped or replaced (a restart, a settings change) while waiting.
    return { action: CloseAction.DoNotRestart, handled: true };
  }
  return { action: CloseAction.Restart, handled: true };
}

function checkVersion(c: LanguageClient): void {
  const info = c.initializeResult?.serverInfo;
  const v = checkServerVersion(info);
  output?.appendLine(`server ${info?.name ?? '(unnamed)'} version ${info?.version ?? '(none)'}: ${v.kind}`);
  if (v.kind !== 'old' || warnedVersions.has(v.version)) {
    return;
  }
  warnedVersions.add(v.version);
  const copy = 'Copy install command';
  void vscode.window.showWarningMessage(`Flash: ${v.message}`, copy).then(async (choice) => {
    if (choice === copy) {
      await vscode.env.clipboard.writeText(installCommand);
    }
  });
}

function reportNotFound(err: unknown): void {
  const out = output!;
  const text = message(err);
  out.appendLine(text);
  if (err instanceof BinaryNotFoundError && err.searched.length > 0) {
    out.appendLine(`searched: ${err.searched.join(', ')}`);
  }
  const copy = 'Copy install command';
  const open = 'Open Settings';
  void vscode.window.showErrorMessage(`Flash: ${text}`, copy, open).then(async (choice) => {
    if (choice === copy) {
      await vscode.env.clipboard.writeText(installCommand);
    } else if (choice === open) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'flash.server.path');
    }
  });
}

async function generate(): Promise<void> {
  await lifecycle;
  const c = client;
  if (c === undefined || !c.isRunning()) {
    void vscode.window.showErrorMessage('Flash: the language server is not running; see the "Flash" output for why');
    return;
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  const args = generateArguments(
    active && { uri: active.toString(), scheme: active.scheme },
    (vscode.workspace.workspaceFolders ?? []).map((f) => ({ uri: f.uri.toString(), scheme: f.uri.scheme })),
  );
  if (args === undefined) {
    void vscode.window.showErrorMessage('Flash: open a Go file or a folder of a Go module to generate handlers');
    return;
  }
  try {
    // The server reports the outcome itself with window/showMessage.
    await c.sendRequest(ExecuteCommandRequest.type, { command: serverGenerateCommand, arguments: args });
  } catch (err) {
    void vscode.window.showErrorMessage(`Flash: generate failed: ${message(err)}`);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
