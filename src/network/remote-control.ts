import { MinoError } from '../common/errors.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { controlRequest } from './control.js';
import {
  REMOTE_CONTROL_SOCKET,
  type RemoteControlRequest,
  type RemoteControlResponse,
} from './remote-proxy-protocol.js';

/**
 * Both ends of a control request to a remote session's proxy (network/remote-egress.ts): mino
 * here runs `podman exec -i PROXY …` on the engine (one podman call through the engine's tunnel:
 * the image's Node with a short script, or the single executable with `--control`) and writes
 * the request as one JSON line on its stdin; inside the proxy's container that command passes
 * the line to the proxy's control socket and prints the answer. The request (the session CA's key and the credentials' real values among them) is
 * never an argument, a variable or a file: stdin only, and the proxy container's memory.
 */

/** The largest request or answer line (the secrets carry the host's trust store). */
const MAX_LINE = 4 << 20;

/**
 * The `--control` end as a script for the image's Node (when the proxy runs from mino's bundle):
 * Node starts in a fraction of the time it takes to load the bundle. The socket is its argument;
 * the request comes on stdin, as for `--control` (runRemoteControl, the single executable's way).
 */
const CONTROL_SCRIPT = `
const net = require('node:net');
const socket = process.argv[1];
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  input += d;
  const nl = input.indexOf('\\n');
  if (nl < 0) return;
  process.stdin.pause();
  send(input.slice(0, nl + 1), Date.now() + 10000);
});
process.stdin.on('end', () => { if (!input.includes('\\n')) fail('no control request on stdin'); });
function fail(error) {
  process.stdout.write(JSON.stringify({ ok: false, error }) + '\\n');
  process.stderr.write(error + '\\n');
  process.exit(1);
}
function send(line, until) {
  let answer = '';
  const c = net.connect(socket, () => c.write(line));
  c.setEncoding('utf8');
  c.setTimeout(30000, () => fail('the egress proxy did not answer in time'));
  c.on('data', (d) => { answer += d; });
  c.on('error', (err) => {
    if ((err.code === 'ENOENT' || err.code === 'ECONNREFUSED') && Date.now() < until) setTimeout(() => send(line, until), 20);
    else fail(err.message);
  });
  c.on('close', (hadError) => {
    if (hadError) return;
    let ok = false;
    try { ok = JSON.parse(answer).ok === true; } catch {}
    process.stdout.write(answer.endsWith('\\n') ? answer : answer + '\\n');
    process.exit(ok ? 0 : 1);
  });
}
`;

/** The control command in the proxy's image: its Node with {@link CONTROL_SCRIPT}, else its own command with `--control`. */
export function remoteControlCommand(proxyCommand: readonly string[]): string[] {
  const node = proxyCommand[0] ?? '';
  return node.endsWith('/node') ? [node, '-e', CONTROL_SCRIPT, REMOTE_CONTROL_SOCKET] : [...proxyCommand, '--control'];
}

/**
 * Sends `request` to the proxy container `container` and returns its answer. Undefined when the
 * command succeeded but its output did not come back (podman's remote exec may lose the output
 * of a short command: containers/podman#25855); throws when the proxy refused or is not there.
 */
export async function sendRemoteControl(
  runtime: ContainerRuntime,
  container: string,
  proxyCommand: readonly string[],
  request: RemoteControlRequest,
): Promise<Extract<RemoteControlResponse, { ok: true }> | undefined> {
  const line = Buffer.from(`${JSON.stringify(request)}\n`);
  let out = '';
  const result = await runtime.execStreamed(container, remoteControlCommand(proxyCommand), {
    input: (async function* () {
      yield line;
    })(),
    onStdout: (chunk) => {
      if (out.length < MAX_LINE) out += chunk.toString('utf8');
    },
  });
  let answer: RemoteControlResponse | undefined;
  try {
    answer = JSON.parse(out.trim()) as RemoteControlResponse;
  } catch {
    answer = undefined;
  }
  if (answer && !answer.ok) throw new MinoError(`The egress proxy refused: ${answer.error}`);
  if (result.exitCode !== 0) {
    const why = result.stderr.trim().split('\n').pop() ?? '';
    throw new MinoError(`The egress proxy did not take the request (exit ${result.exitCode}): ${why}`);
  }
  return answer?.ok ? answer : undefined;
}

/**
 * The `--control` end, inside the proxy's container: one request line from stdin to the control
 * socket, its answer to stdout; exit status 0 when the proxy took it.
 */
export async function runRemoteControl(
  stdin: NodeJS.ReadableStream = process.stdin,
  socket = REMOTE_CONTROL_SOCKET,
): Promise<number> {
  let answer: RemoteControlResponse;
  try {
    const line = await firstLine(stdin);
    // The proxy may still be starting (its container just started): its socket comes soon.
    answer = await withRetry(() =>
      controlRequest<RemoteControlRequest, RemoteControlResponse>(
        socket,
        JSON.parse(line) as RemoteControlRequest,
        30_000,
      ),
    );
  } catch (err) {
    answer = { ok: false, error: (err as Error).message };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  if (!answer.ok) process.stderr.write(`${answer.error}\n`);
  return answer.ok ? 0 : 1;
}

/** Tries `call` for up to 10 s while the socket is not there yet. */
async function withRetry<T>(call: () => Promise<T>): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > until || !/not running/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The first line of `stream` (without its newline); throws when there is none. */
function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err?: Error): void => {
      stream.removeAllListeners('data');
      stream.pause();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
      else reject(err ?? new Error('no control request on stdin'));
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.includes('\n') || buf.length > MAX_LINE) done();
    });
    stream.once('end', () => done());
    stream.once('error', (err: Error) => done(err));
  });
}
