import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { RestartPolicy, maxRestarts, restartDelaysMs, restartWindowMs } from '../restart';

describe('RestartPolicy', () => {
  it('restarts 5 times with growing pauses, then gives up with a message', () => {
    let now = 1_000_000;
    const p = new RestartPolicy(() => now);
    for (let i = 0; i < maxRestarts; i++) {
      const d = p.crashed();
      assert.deepEqual(d, { restart: true, delayMs: restartDelaysMs[i], crashes: i + 1 });
      now += 1000;
    }
    assert.deepEqual(restartDelaysMs, [250, 500, 1000, 2000, 4000]);
    const last = p.crashed();
    assert.equal(last.restart, false);
    if (!last.restart) {
      assert.equal(last.crashes, 6);
      assert.match(last.message, /crashed 6 times in 3 minutes and will not be restarted/);
    }
  });

  it('counts only the crashes of the last 3 minutes', () => {
    let now = 0;
    const p = new RestartPolicy(() => now);
    for (let i = 0; i < maxRestarts; i++) {
      assert.equal(p.crashed().restart, true);
      now += 10_000;
    }
    // The first crash (at 0) leaves the window: this is the 5th in it, not the 6th.
    now = restartWindowMs;
    assert.deepEqual(p.crashed(), { restart: true, delayMs: 4000, crashes: 5 });
    // Long after, the count starts again at the shortest pause.
    now += restartWindowMs;
    assert.deepEqual(p.crashed(), { restart: true, delayMs: 250, crashes: 1 });
  });

  it('forgets the crashes on reset', () => {
    const p = new RestartPolicy(() => 0);
    for (let i = 0; i <= maxRestarts; i++) {
      p.crashed();
    }
    assert.equal(p.crashed().restart, false);
    p.reset();
    assert.deepEqual(p.crashed(), { restart: true, delayMs: 250, crashes: 1 });
  });
});
