import { afterEach, describe, expect, it, vi } from 'vitest';

/** A fresh copy of the module (its "asked" flag is per process). */
async function fresh(): Promise<typeof import('../../../src/common/exit-early.js')> {
  vi.resetModules();
  return import('../../../src/common/exit-early.js');
}

/** Lets the callbacks queued with setImmediate run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Every turn exitEarlyIfIdle may look (and one more). */
async function turns(): Promise<void> {
  for (let i = 0; i < 5; i++) await turn();
}

describe('exit-early', () => {
  afterEach(() => vi.restoreAllMocks());

  it('counts sockets waiting for their peers as idle, anything else as work', async () => {
    const { onlyIdle } = await fresh();
    expect(onlyIdle([])).toBe(true);
    expect(onlyIdle(['PipeWrap', 'SimpleShutdownWrap', 'TCPWrap'])).toBe(true);
    for (const busy of ['ProcessWrap', 'Timeout', 'FSReqCallback', 'WriteWrap', 'Immediate'])
      expect(onlyIdle(['PipeWrap', busy])).toBe(false);
  });

  it('does nothing unless the command asked for it', async () => {
    const m = await fresh();
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    vi.spyOn(process, 'getActiveResourcesInfo').mockReturnValue([]);
    m.exitEarlyIfIdle();
    await turns();
    expect(exit).not.toHaveBeenCalled();
  });

  it('exits after the callbacks already queued, when only idle resources are left', async () => {
    const m = await fresh();
    const order: string[] = [];
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => {
      order.push('exit');
    }) as never);
    vi.spyOn(process, 'getActiveResourcesInfo').mockReturnValue(['PipeWrap']);
    m.exitWhenIdle();
    setImmediate(() => order.push('queued before'));
    m.exitEarlyIfIdle();
    await turns();
    expect(exit).toHaveBeenCalledOnce();
    expect(order).toEqual(['queued before', 'exit']);
  });

  it('leaves the process alone while a child process, timer or file request is pending', async () => {
    const m = await fresh();
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    vi.spyOn(process, 'getActiveResourcesInfo').mockReturnValue(['PipeWrap', 'ProcessWrap']);
    m.exitWhenIdle();
    m.exitEarlyIfIdle();
    await turns();
    expect(exit).not.toHaveBeenCalled();
  });

  it('looks again on the next turns: a child that just exited closes its handle a turn later', async () => {
    const m = await fresh();
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    vi.spyOn(process, 'getActiveResourcesInfo').mockReturnValueOnce(['ProcessWrap']).mockReturnValue(['PipeWrap']);
    m.exitWhenIdle();
    m.exitEarlyIfIdle();
    await turns();
    expect(exit).toHaveBeenCalledOnce();
  });
});
