import { lstatSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { MinoError } from '../common/errors.js';
import { trace } from '../common/trace.js';
import type { SignalSource } from './signal-policy.js';
import { encodeFrame, FrameReader } from './warm-agent-frames.js';

/**
 * The host end of the warm agent (pool/warm-agent-script.ts): runs one command in a warm
 * container through its unix socket, without podman. Before anything is sent the socket must be
 * a socket (never a symbolic link) owned by this user, and the agent must greet first within a
 * deadline; until then every failure is "unavailable" (nothing ran: the caller takes another
 * road). Once the command was asked for, a failure is an error, never a second attempt: the
 * command may have run.
 */

/** The hello an agent sends first. */
const AGENT_NAME = 'mino-warm-agent';

/** How long an agent may take to greet before the run takes another road. */
const AGENT_HELLO_TIMEOUT_MS = 2000;

/** One command for the agent. */
export interface AgentRequest {
  argv: readonly string[];
  cwd?: string;
  /** Variables set on top of the container's environment. */
  env?: Record<string, string>;
  /** Forward this process's stdin (else the command's stdin is closed at once). */
  interactive: boolean;
}

/** Where the command's streams and signals come from and go to. */
export interface AgentIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signals: SignalSource;
  helloTimeoutMs?: number;
  /** The socket's owner must be this uid (default: this process's). */
  uid?: number;
  /**
   * Asked once the command exited: how many seconds the agent is to keep its container before it
   * exits (0: at once, the default), so that it is removed later (see warm-agent-script.ts).
   */
  lingerSeconds?: () => number;
}

/** How a run through the agent ended: the command's exit code, or no agent to run it (nothing ran). */
export type AgentOutcome = { kind: 'exited'; exitCode: number } | { kind: 'unavailable'; reason: string };

/** Why `path` cannot be an agent's socket now, or undefined when it can. Never follows a link. */
export function agentSocketProblem(path: string, uid = process.getuid?.() ?? 0): string | undefined {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return 'no agent socket';
  }
  if (!st.isSocket()) return 'the agent socket is not a socket';
  if (st.uid !== uid) return `the agent socket belongs to uid ${st.uid}, not ${uid}`;
  return undefined;
}

/** Runs `req` through the agent listening on `socket` (see the module comment). */
export async function runThroughAgent(socket: string, req: AgentRequest, io: AgentIo): Promise<AgentOutcome> {
  const problem = agentSocketProblem(socket, io.uid);
  if (problem) return { kind: 'unavailable', reason: problem };
  const net = process.getBuiltinModule('node:net');
  return new Promise<AgentOutcome>((resolve, reject) => {
    const conn = net.createConnection(socket);
    const reader = new FrameReader();
    let phase: 'hello' | 'asked' | 'running' | 'done' = 'hello';
    // The last frame was sent with end(): the socket closes once it is out.
    let ending = false;
    let signals = 0;
    let forwarded = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      const send = signals > 1 ? 'SIGKILL' : signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
      trace('agent signal', send);
      if (!conn.destroyed) conn.write(encodeFrame('S', send));
    };
    const onStdin = (chunk: Buffer): void => {
      forwarded = true;
      if (!conn.write(encodeFrame('I', chunk))) {
        io.stdin.pause();
        conn.once('drain', () => io.stdin.resume());
      }
    };
    const onStdinEnd = (): void => {
      if (!conn.destroyed) conn.write(encodeFrame('E', ''));
    };
    const cleanup = (final: boolean): void => {
      clearTimeout(timer);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) io.signals.off(s, onSignal);
      io.stdin.off('data', onStdin);
      io.stdin.off('end', onStdinEnd);
      io.stdin.pause();
      // Read by this run: let go of it, or this process would wait for more input after the run.
      // Another road (unavailable) gets file descriptor 0 untouched.
      if (final && req.interactive && io.stdin === process.stdin) process.stdin.destroy();
    };
    const settle = (outcome: AgentOutcome | Error): void => {
      if (phase === 'done') return;
      phase = 'done';
      cleanup(!('kind' in outcome) || outcome.kind === 'exited');
      if (!ending) conn.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const lost = (why: string): void => {
      if (phase === 'hello') settle({ kind: 'unavailable', reason: why });
      else
        settle(
          new MinoError(`The warm container's agent ended before the command did (${why})`, {
            hint: 'The command may have run in part; run it again (mino run --fresh starts a new container)',
          }),
        );
    };
    const helloMs = io.helloTimeoutMs ?? AGENT_HELLO_TIMEOUT_MS;
    const timer = setTimeout(() => {
      if (phase === 'hello') settle({ kind: 'unavailable', reason: `no answer from the agent in ${helloMs} ms` });
    }, helloMs);
    conn.on('error', (err) => lost(err.message));
    conn.on('close', () => lost('connection closed'));
    conn.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (err) {
        lost((err as Error).message);
        return;
      }
      for (const f of frames) {
        if (phase === 'done') return;
        if (phase === 'hello') {
          if (f.type !== 'H' || !isHello(f.body)) {
            settle({ kind: 'unavailable', reason: 'the socket did not greet as a mino agent' });
            return;
          }
          trace('agent hello');
          clearTimeout(timer);
          phase = 'asked';
          conn.write(
            encodeFrame('R', {
              argv: req.argv,
              ...(req.cwd ? { cwd: req.cwd } : {}),
              ...(req.env ? { env: req.env } : {}),
            }),
          );
          for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) io.signals.on(s, onSignal);
          if (req.interactive) {
            io.stdin.on('data', onStdin);
            io.stdin.on('end', onStdinEnd);
            io.stdin.resume();
          } else {
            onStdinEnd();
          }
        } else if (f.type === 'F') {
          // Nothing was started (the agent said so): another road may run it, unless stdin was read.
          const why = `the agent could not start the command: ${f.body.toString('utf8')}`;
          settle(
            forwarded
              ? new MinoError(why, { hint: 'Run it again with --fresh' })
              : { kind: 'unavailable', reason: why },
          );
        } else if (f.type === 'P') {
          phase = 'running';
          trace('agent started');
        } else if (f.type === 'O') {
          if (!io.stdout.write(f.body)) {
            conn.pause();
            io.stdout.once('drain', () => conn.resume());
          }
        } else if (f.type === 'X') {
          io.stderr.write(f.body);
        } else if (f.type === 'Q') {
          const code = exitCodeOf(f.body);
          trace('agent exit', `code ${code}`);
          const linger = io.lingerSeconds?.() ?? 0;
          if (linger > 0 && !conn.destroyed) {
            ending = true;
            conn.end(encodeFrame('L', String(linger)));
          }
          settle({ kind: 'exited', exitCode: code });
        }
      }
    });
  });
}

function isHello(body: Buffer): boolean {
  try {
    return (JSON.parse(body.toString('utf8')) as { agent?: unknown }).agent === AGENT_NAME;
  } catch {
    return false;
  }
}

function exitCodeOf(body: Buffer): number {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { code?: unknown }).code;
    return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1;
  } catch {
    return 1;
  }
}
