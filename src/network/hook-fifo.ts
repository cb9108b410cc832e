import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';

/**
 * The two FIFOs between a session's OCI hook and its proxy (see netns-hook.ts): the hook writes
 * the container's PID to `attach` and reads one answer line from `attached`.
 */

/**
 * Reads PID lines from the `attach` FIFO. It is opened read-write, so the hook's write never
 * blocks on a missing reader and a hook closing its end is not end-of-file. Returns the stream
 * (destroy it to stop).
 */
export function readHookRequests(path: string, onLine: (line: string) => void): Socket {
  const fifo = new Socket({
    fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
  fifo.setEncoding('utf8');
  let pending = '';
  fifo.on('data', (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      onLine(line);
    }
  });
  fifo.on('error', () => fifo.destroy());
  return fifo;
}

/**
 * Writes one answer line to the `attached` FIFO once the hook has opened it for reading (it does
 * right after writing its PID); gives up after `timeoutMs`.
 */
export async function answerHook(path: string, text: string, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        writeSync(fd, `${text.replace(/[\r\n]+/g, ' ')}\n`);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
