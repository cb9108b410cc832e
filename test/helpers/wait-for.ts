/**
 * Polls `check` until it holds, for at most `ms` (15 s by default); resolves true, or throws
 * `what` did not happen in time. The one poll loop of the integration tests.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<true> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= until) throw new Error(`${what} not met in time (${ms} ms)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
