/**
 * `--trace` / `MINO_TRACE=1`: a timeline of one mino process on stderr, one line per event, in
 * milliseconds since the process started (`performance.now()`): each program mino starts (its
 * argv head, its exit code and duration), each wait (locks, sockets), the files that matter. It
 * answers "why is it slow" without a profiler. Off, every call is one boolean test: nothing is
 * formatted or measured.
 */

// Read on first use, not when the module loads: the single executable's start-up snapshot loads
// its modules before the process has an environment.
let enabled: boolean | undefined;

function on(): boolean {
  enabled ??= process.env.MINO_TRACE === '1';
  return enabled;
}

/** Turns the timeline on (`--trace`); events before this call are not shown. */
export function enableTrace(): void {
  enabled = true;
}

/** Most arguments of a command line shown (the head says what it is; secrets are never on it anyway). */
const ARGV_HEAD = 6;

/** The first words of a command line, for a timeline line. */
export function argvHead(argv: readonly string[]): string {
  const head = argv.slice(0, ARGV_HEAD).map((a) => (a.length > 60 ? `${a.slice(0, 57)}...` : a));
  return argv.length > ARGV_HEAD ? `${head.join(' ')} ... (+${argv.length - ARGV_HEAD})` : head.join(' ');
}

function stamp(): string {
  return performance.now().toFixed(1).padStart(8);
}

/** Writes one event of the timeline (nothing when it is off). */
export function trace(event: string, detail = ''): void {
  if (!on()) return;
  process.stderr.write(`mino-trace ${stamp()} ms  ${event}${detail ? `  ${detail}` : ''}\n`);
}

/** A span that started: call it with what came out when it ends. */
export type TraceEnd = (outcome?: string) => void;

const noop: TraceEnd = () => undefined;

/**
 * Starts a span (`event` … `event done in N ms`); returns the function that ends it. Off, it
 * returns one shared no-op.
 */
export function traceSpan(event: string, detail = ''): TraceEnd {
  if (!on()) return noop;
  const started = performance.now();
  trace(event, detail);
  return (outcome = '') => {
    trace(`${event} done`, `${(performance.now() - started).toFixed(1)} ms${outcome ? `, ${outcome}` : ''}`);
  };
}

/** `, cpu N ms` (this process's CPU time so far, user and system) for a timeline line; empty when it is off. */
export function traceCpu(): string {
  if (!on()) return '';
  const { user, system } = process.cpuUsage();
  return `, cpu ${((user + system) / 1000).toFixed(1)} ms`;
}
