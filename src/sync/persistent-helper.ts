import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { log } from '../common/logger.js';
import { trace } from '../common/trace.js';
import type { ContainerRuntime, ContainerSpec, RunOutput, StreamedRun } from '../runtime/container-runtime.js';
import { ConflictError } from '../runtime/runtime-errors.js';
import { execInHelper } from './helper-exec.js';

/**
 * The persistent sync helper of a project copy on an engine: the helper container
 * (sync-helper.ts) started detached by the first trip that needs one and kept for the next
 * trips, which `podman exec` into it instead of starting a container each; it ends by itself
 * {@link helperIdleSeconds} after its last trip (helper-exec.ts HELPER_MAIN). Its name follows
 * from the copy's volume and image ({@link persistentHelperName}), so every mino process finds the
 * same one and two that start it at once converge (the name is taken: the other's is used); a
 * copy whose image changed gets a new one (the old one idles out). A small local record
 * (`<copy record>.helper`) says until when it should live: past that, a trip starts one at once
 * instead of trying an exec first. Trips hold the copy's lock, so one copy's helper never serves
 * two trips that write at once.
 */

/** Label of every persistent helper (with mino's state label): `engine remove` and tests find them. */
export const LABEL_SYNC_HELPER = 'io.mino.sync.helper';

/** Seconds a persistent helper lives after its last trip. */
const IDLE_SECONDS = 60;

/**
 * Seconds a persistent helper lives after its last trip: 60, or `MINO_SYNC_HELPER_IDLE` (whole
 * seconds, 1–3600; for tests) when set to a valid value.
 */
export function helperIdleSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MINO_SYNC_HELPER_IDLE;
  if (raw === undefined || !/^[0-9]{1,4}$/.test(raw)) return IDLE_SECONDS;
  const n = Number(raw);
  return n >= 1 && n <= 3600 ? n : IDLE_SECONDS;
}

/** The container name of the persistent helper of `volume` running `image` (valid for podman). */
export function persistentHelperName(volume: string, image: string): string {
  return `mino.sync.${createHash('sha256').update(`${volume}\0${image}`).digest('hex').slice(0, 20)}`;
}

/** The local record of a copy's persistent helper. */
interface HelperRecord {
  name: string;
  /** Seconds since the epoch until which it lives at least (its last trip's end + its idle time). */
  until: number;
}

function readRecord(path: string): HelperRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<HelperRecord>;
    return typeof r.name === 'string' && typeof r.until === 'number' ? (r as HelperRecord) : undefined;
  } catch {
    return undefined;
  }
}

function writeRecord(path: string, name: string, idle: number): void {
  try {
    const next: HelperRecord = { name, until: Math.floor(Date.now() / 1000) + idle };
    writeFileAtomic(path, `${JSON.stringify(next)}\n`, { mode: 0o600, mkdirMode: 0o700, durable: false });
  } catch (err) {
    log.debug('could not record the sync helper', { error: String(err) });
  }
}

/** Where and how a copy's persistent helper runs. */
export interface PersistentHelper {
  runtime: ContainerRuntime;
  /** The helper's container (detached, named, labelled; see sync-helper.ts persistentHelperSpec). */
  spec: ContainerSpec & { name: string };
  /** The local record's path. */
  record: string;
  idleSeconds: number;
}

/**
 * Runs `script` in the copy's persistent helper: an exec into the live one (one podman call), or,
 * when the record says there is none or the exec finds it gone, a start (a name already taken:
 * another mino started it) and an exec. Undefined when no helper could take the script (the
 * streams untouched): the caller runs it in a container of its own.
 */
export async function runInPersistentHelper(
  helper: PersistentHelper,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput | undefined> {
  const { runtime, spec, record, idleSeconds } = helper;
  const known = readRecord(record);
  if (known?.name === spec.name && known.until > Math.floor(Date.now() / 1000) + 1) {
    const result = await execInHelper(runtime, spec.name, script, args, streams);
    if (result) {
      writeRecord(record, spec.name, idleSeconds);
      trace('sync trip in the helper', spec.name);
      return result;
    }
    trace('sync helper gone', spec.name);
  }
  try {
    await runtime.run(spec);
    trace('sync helper started', spec.name);
  } catch (err) {
    if (!(err instanceof ConflictError)) {
      log.debug('could not start the sync helper', { error: String(err) });
      return undefined;
    }
  }
  const result = await execInHelper(runtime, spec.name, script, args, streams);
  if (result) {
    writeRecord(record, spec.name, idleSeconds);
    trace('sync trip in the helper', spec.name);
  }
  return result;
}

/**
 * Whether a persistent helper of a copy on `engine` may still run: one of the local records in
 * `<stateDir>/sync` (`<engine>--<volume>.json.helper`) says it lives until a time not long past.
 */
function mayHaveHelpers(stateDir: string, engine: string): boolean {
  let names: string[];
  try {
    names = readdirSync(join(stateDir, 'sync'));
  } catch {
    return false;
  }
  // A helper busy with a trip lives on past its record: a margin covers the trips of a while.
  const since = Math.floor(Date.now() / 1000) - 3600;
  return names.some(
    (n) =>
      n.startsWith(`${engine}--`) &&
      n.endsWith('.json.helper') &&
      (readRecord(join(stateDir, 'sync', n))?.until ?? 0) > since,
  );
}

/**
 * Removes the persistent helpers of mino state `stateKey` on `engine` (driven by `runtime`), for
 * `mino engine remove`; returns how many. Asks the engine only when a local record says one may
 * still run. An engine that does not answer keeps them: they end themselves after their idle time.
 */
export async function removePersistentHelpers(
  runtime: ContainerRuntime,
  where: { stateKey: string; stateDir: string; engine: string },
): Promise<number> {
  if (!mayHaveHelpers(where.stateDir, where.engine)) return 0;
  let listed: { id: string; name: string }[];
  try {
    listed = await runtime.listContainers({ 'io.mino.state': where.stateKey, [LABEL_SYNC_HELPER]: '1' });
  } catch (err) {
    log.warn('could not list the sync helpers of an engine', { error: String(err) });
    return 0;
  }
  await Promise.all(
    listed.map((c) =>
      runtime
        .remove(c.id)
        .catch((err: unknown) => log.warn('could not remove a sync helper', { name: c.name, error: String(err) })),
    ),
  );
  return listed.length;
}
