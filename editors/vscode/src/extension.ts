// The VS Code side of flash-lsp: it starts `flash-lsp serve` for Go files,
// next to the Go extension and gopls (it neither contributes nor claims the
// 'go' language), and adds two commands. The logic that does not need VS Code
// (finding the binary, building the launch) lives in binary.ts and settings.ts.

import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

import { BinaryNotFoundError, installCommand, processResolveOptions, resolveServerBinary } from './binary';
import { generateArguments, readSettings, restartSections, serverLaunch } from './settings';

/** The server-side command behind "Flash: Generate handlers and manifest". */
const serverGenerateCommand = 'flash.generate';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;
// Starts and stops run one after another, so that a restart requested while
// the server is still starting does not leave two servers running (or
// register flash.generate twice).
let lifecycle: Promise<void> = Promise.resolve();

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
  };
  // The id 'flash' makes the client read flash.trace.server by itself. The
  // client registers the server's commands (flash.generate) on start and
  // unregisters them on stop; the extension must never register them.
  const c = new LanguageClient('flash', 'Flash', serverOptions, clientOptions);
  client = c;
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
