import { redactArgs } from '../common/redact.js';
import { launchCommand } from '../runtime/launch-command.js';
import type { RunPlan } from './run-plan.js';

/**
 * The podman command line of a plan, for the executor and for `mino run --dry-run`.
 */

/** Exact `podman` arguments of the plan (without `podman`), unredacted: what the executor runs. */
export function planArgs(plan: RunPlan): string[] {
  return launchCommand(plan.launchVerb, plan.spec).args;
}

/**
 * The full podman argv (`podman run …`) of the plan, with the value of every `-e KEY=VALUE` whose key
 * looks secret (common/redact.ts) replaced by `***`. Only environment arguments are redacted:
 * labels, mounts and the command are shown exactly. Secret passthrough (`--secret name,…`) only
 * carries secret names, never values.
 */
export function formatPlan(plan: RunPlan): string[] {
  const { program, args } = launchCommand(plan.launchVerb, plan.spec);
  const out = [program];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    out.push(i > 0 && args[i - 1] === '-e' ? (redactArgs([arg])[0] ?? arg) : arg);
  }
  return out;
}

const SHELL_SAFE = /^[A-Za-z0-9_\-+=/.,:@%]+$/;

/** Quotes one word for a POSIX shell (`'…'`, with `'` written as `'\''`). */
export function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** {@link formatPlan} as one copy-pasteable shell line, for `--dry-run` output. */
export function formatPlanLine(plan: RunPlan): string {
  return formatPlan(plan).map(shellQuote).join(' ');
}
