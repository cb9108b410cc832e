import { errnoCode } from '../common/errno.js';

/**
 * Ends mino quietly when whoever reads its stdout has gone away (`mino run --dry-run … | head -1`,
 * `mino list | head`): a write then fails with EPIPE, which Node reports as an unhandled 'error'
 * event with a stack trace. Like a C tool killed by SIGPIPE, mino stops at once, with the exit
 * code it already had (0 unless something failed before). Any other stream error is rethrown.
 */
export function exitQuietlyOnBrokenPipe(
  stream: NodeJS.WriteStream = process.stdout,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on('error', (err) => {
    if (errnoCode(err) !== 'EPIPE') throw err;
    const code = process.exitCode;
    exit(typeof code === 'number' ? code : 0);
  });
}
