import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STOP_RETRY_MS, forwardSignals } from '../../../src/launch/signal-policy.js';
import type { SignalSource } from '../../../src/launch/signal-policy.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('forwardSignals (cold and warm runs)', () => {
  it('asks again until the run ends when the container did not exist yet, never two stops at once', async () => {
    const runtime = new FakeRuntime();
    let finish: () => void = () => undefined;
    // The first stop takes a while (podman stop waiting for the command): no second one meanwhile.
    runtime.on(
      'stop',
      () =>
        new Promise<void>((resolve) => {
          finish = resolve;
        }),
    );
    const signals = new EventEmitter();
    const release = forwardSignals(runtime, 'mino-s', signals as unknown as SignalSource);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(runtime.callsTo('stop')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(STOP_RETRY_MS * 3);
    expect(runtime.callsTo('stop')).toHaveLength(1);
    // It came back without stopping anything (podman run was still creating the container): asked again.
    runtime.off('stop');
    finish();
    await vi.advanceTimersByTimeAsync(STOP_RETRY_MS);
    expect(runtime.callsTo('stop')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(STOP_RETRY_MS);
    expect(runtime.callsTo('stop')).toHaveLength(3);
    // The run ended: no more stops.
    release();
    await vi.advanceTimersByTimeAsync(STOP_RETRY_MS * 5);
    expect(runtime.callsTo('stop')).toHaveLength(3);
    expect(runtime.callsTo('stop')[0]).toEqual(['mino-s', 10]);
  });

  it('kills on a second signal', async () => {
    const runtime = new FakeRuntime();
    const signals = new EventEmitter();
    const release = forwardSignals(runtime, 'mino-s', signals as unknown as SignalSource);
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGTERM', 'SIGTERM');
    expect(runtime.callsTo('kill')).toHaveLength(1);
    release();
  });

  it('hands SIGINT to the command at once (podman kill -s INT), no stop, no SIGTERM later', async () => {
    const runtime = new FakeRuntime();
    runtime.containers.push(fakeContainer('mino-s', 'running'));
    const signals = new EventEmitter();
    const release = forwardSignals(runtime, 'mino-s', signals as unknown as SignalSource);
    signals.emit('SIGINT', 'SIGINT');
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.callsTo('kill')).toEqual([['mino-s', 'INT']]);
    // The command decides what a Ctrl-C means: nothing else is sent, however long it runs on.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runtime.callsTo('stop')).toEqual([]);
    expect(runtime.callsTo('kill')).toHaveLength(1);
    release();
  });

  it('stops the start when SIGINT finds no running container yet (podman run still creating it)', async () => {
    const runtime = new FakeRuntime();
    const signals = new EventEmitter();
    const release = forwardSignals(runtime, 'mino-s', signals as unknown as SignalSource);
    signals.emit('SIGINT', 'SIGINT');
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.callsTo('kill')).toEqual([['mino-s', 'INT']]);
    expect(runtime.callsTo('stop')).toEqual([['mino-s', 10]]);
    await vi.advanceTimersByTimeAsync(STOP_RETRY_MS);
    expect(runtime.callsTo('stop')).toHaveLength(2);
    release();
    await vi.advanceTimersByTimeAsync(STOP_RETRY_MS * 3);
    expect(runtime.callsTo('stop')).toHaveLength(2);
  });

  it('kills on a second signal after SIGINT', async () => {
    const runtime = new FakeRuntime();
    runtime.containers.push(fakeContainer('mino-s', 'running'));
    const signals = new EventEmitter();
    const release = forwardSignals(runtime, 'mino-s', signals as unknown as SignalSource);
    signals.emit('SIGINT', 'SIGINT');
    signals.emit('SIGINT', 'SIGINT');
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.callsTo('kill')).toEqual([['mino-s', 'INT'], ['mino-s']]);
    release();
  });
});
