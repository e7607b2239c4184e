// When the language server dies: restart it after a growing pause, at most
// maxRestarts times in restartWindowMs, then stop and tell the user. No
// 'vscode' import: extension.ts feeds it the crashes.

/** Pauses before the 1st … 5th restart within the window. */
export const restartDelaysMs = [250, 500, 1000, 2000, 4000];
export const maxRestarts = restartDelaysMs.length;
export const restartWindowMs = 3 * 60 * 1000;

export type CrashDecision =
  | { restart: true; delayMs: number; crashes: number }
  | { restart: false; crashes: number; message: string };

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a crash and says whether, and after what pause, to restart. */
  crashed(): CrashDecision {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => t - c < restartWindowMs);
    this.crashes.push(t);
    const n = this.crashes.length;
    if (n > maxRestarts) {
      return {
        restart: false,
        crashes: n,
        message:
          `the language server crashed ${n} times in 3 minutes and will not be restarted; ` +
          'see the "Flash" output, then run "Flash: Restart server"',
      };
    }
    return { restart: true, delayMs: restartDelaysMs[n - 1], crashes: n };
  }

  /** Forgets the crashes: the user restarted the server or changed its settings. */
  reset(): void {
    this.crashes = [];
  }
}
