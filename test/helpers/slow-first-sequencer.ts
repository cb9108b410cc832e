import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { REPO_ROOT } from './test-env.js';

/**
 * Seconds each test file took in a full run (`node scripts/test-durations.mjs <vitest json report>`
 * writes it). Files not listed count as short.
 */
const DURATIONS = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'helpers', 'file-durations.json'), 'utf8')) as Record<
  string,
  number
>;

/** Seconds a file not in DURATIONS is assumed to take. */
const UNKNOWN_INTEGRATION_SECONDS = 10;
const UNKNOWN_UNIT_SECONDS = 0.5;

/**
 * The resource a test file holds through exclusive() (test/helpers/exclusive.ts), or the remote
 * rig through useRemoteRig() (test/helpers/remote-engine-rig.ts), if any.
 */
function heldResource(file: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  if (/^const \w+ = useRemoteRig\(/m.test(text)) return 'remote-rig';
  return /^exclusive\('([a-z-]+)'\);$/m.exec(text)?.[1];
}

/**
 * Orders test files for a run on several workers, the same on a fresh clone as on a developer's
 * machine (vitest's own order needs the durations of a previous run): it plays the run through
 * with the recorded durations, each free worker taking the longest file left whose resource no
 * other file holds, so the long files start first and files that hold one resource do not queue
 * up behind each other while other files wait.
 */
export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // vitest runs the groups (sequence.groupOrder) one after another: each is played through on
    // its own, with its own number of workers.
    const groups = new Map<number, TestSpecification[]>();
    for (const spec of files) {
      const group = spec.project.config.sequence.groupOrder ?? 0;
      groups.set(group, [...(groups.get(group) ?? []), spec]);
    }
    const order: TestSpecification[] = [];
    for (const group of [...groups.keys()].sort((a, b) => a - b)) {
      const specs = groups.get(group)!;
      const workers = Math.max(1, Number(specs[0]!.project.config.maxWorkers || this.ctx.config.maxWorkers) || 1);
      order.push(...playThrough(specs, workers));
    }
    return order;
  }
}

/** The order in which `workers` workers should take `files` (see SlowFirstSequencer). */
function playThrough(files: TestSpecification[], workers: number): TestSpecification[] {
  const left = files
    .map((spec) => {
      const name = relative(REPO_ROOT, spec.moduleId);
      const seconds =
        DURATIONS[name] ?? (name.startsWith('test/integration/') ? UNKNOWN_INTEGRATION_SECONDS : UNKNOWN_UNIT_SECONDS);
      return { spec, name, seconds, resource: heldResource(spec.moduleId) };
    })
    .sort((a, b) => b.seconds - a.seconds || a.name.localeCompare(b.name));
  const busyUntil: number[] = Array.from({ length: workers }, () => 0);
  const heldUntil = new Map<string, number>();
  const order: TestSpecification[] = [];
  while (left.length > 0) {
    const now = Math.min(...busyUntil);
    const worker = busyUntil.indexOf(now);
    const freeAt = (r: string | undefined): number => (r === undefined ? 0 : (heldUntil.get(r) ?? 0));
    let at = left.findIndex((f) => freeAt(f.resource) <= now);
    if (at < 0) at = left.reduce((best, f, i) => (freeAt(f.resource) < freeAt(left[best]!.resource) ? i : best), 0);
    const [next] = left.splice(at, 1);
    const end = Math.max(now, freeAt(next!.resource)) + next!.seconds;
    busyUntil[worker] = end;
    if (next!.resource !== undefined) heldUntil.set(next!.resource, end);
    order.push(next!.spec);
  }
  return order;
}
