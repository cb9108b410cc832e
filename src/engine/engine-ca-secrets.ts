import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { jsonObject, readJsonCache, writeJsonCache } from '../common/json-cache-file.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';

/**
 * The host's CA bundle on another engine: ONE podman secret per engine and bundle content,
 * named after the content's hash (`mino-ca-<state>.<16 hex digits of its SHA-256>`; the dot keeps
 * it apart from a session's own `mino-ca-<state>-<session>`, since session names have no dot).
 * The plan of a remote run (launch/remote-plan.ts) and the warm containers of a remote pool mount
 * the same one, so a pool key includes the bundle's hash through its name. It is made once and
 * kept: a private memo here (`<state>/engine-ca-secrets.json`: engine → names) says which exist,
 * so a run whose bundle secret exists makes no podman secret call at all. Removed behind mino's
 * back, the run fails before podman creates anything (podman 4.3 checks secrets first), and mino
 * makes it again and retries once ({@link repairCaBundleSecret}). `mino cache clear --engine`
 * removes unused ones, `mino engine remove` all of them. Public content only: certificates,
 * never a key (the bundle is the host's trust store, or that and a pool CA's certificate).
 */

/** Label on a bundle secret: the digest of its content. */
export const LABEL_CA_BUNDLE = 'io.mino.ca-bundle';

/** The digest in a bundle secret's name (16 hex digits of the content's SHA-256). */
export function caBundleDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The bundle secret of content digest `digest` for state `stateKey`. */
export function caBundleSecretName(stateKey: string, digest: string): string {
  return `mino-ca-${stateKey}.${digest}`;
}

/** The digest of a bundle secret's name of state `stateKey`; undefined for any other name. */
export function caBundleDigestOf(stateKey: string, name: string): string | undefined {
  const m = /^mino-ca-([0-9a-f]+)\.([0-9a-f]{16})$/.exec(name);
  return m?.[1] === stateKey ? m[2] : undefined;
}

/** The labels of a bundle secret. */
function caBundleLabels(stateKey: string, digest: string): Record<string, string> {
  return { 'io.mino.state': stateKey, [LABEL_CA_BUNDLE]: digest };
}

/** Where the memo of a state directory is. */
function memoPath(stateDir: string): string {
  return join(stateDir, 'engine-ca-secrets.json');
}

/** The memo: engine → bundle secret names known to exist there. */
function readMemo(stateDir: string): Record<string, string[]> {
  return (
    readJsonCache(memoPath(stateDir), (v) => {
      const o = jsonObject(v);
      if (!o) return undefined;
      const out: Record<string, string[]> = {};
      for (const [k, names] of Object.entries(o))
        if (Array.isArray(names)) out[k] = names.filter((n): n is string => typeof n === 'string');
      return out;
    }) ?? {}
  );
}

/** The bundle secrets the memo says exist on `engine`. */
export function knownBundles(stateDir: string, engine: string): string[] {
  return readMemo(stateDir)[engine] ?? [];
}

/** Whether the memo says `name` exists on `engine`. */
export function knownOnEngine(stateDir: string, engine: string, name: string): boolean {
  return readMemo(stateDir)[engine]?.includes(name) ?? false;
}

/** Records that `name` exists on `engine` (true) or not (false). */
export function rememberOnEngine(stateDir: string, engine: string, name: string, exists: boolean): void {
  const memo = readMemo(stateDir);
  const names = new Set(memo[engine] ?? []);
  if (exists === names.has(name)) return;
  if (exists) names.add(name);
  else names.delete(name);
  if (names.size > 0) memo[engine] = [...names].sort();
  else delete memo[engine];
  writeJsonCache(memoPath(stateDir), memo);
}

/** Forgets everything the memo says of `engine` (it was removed). */
export function forgetEngine(stateDir: string, engine: string): void {
  const memo = readMemo(stateDir);
  if (!(engine in memo)) return;
  delete memo[engine];
  writeJsonCache(memoPath(stateDir), memo);
}

/** What the bundle functions need. */
export interface CaBundleTarget {
  runtime: ContainerRuntime;
  engine: string;
  stateDir: string;
  stateKey: string;
}

/**
 * Makes sure bundle secret `name` exists on the engine: no podman call when the memo says it
 * does; else it is made from `text()` (an existing one is kept: same name, same content).
 * Throws when `text()` does not match the name (the bundle changed since the plan was made).
 */
export async function ensureCaBundleSecret(target: CaBundleTarget, name: string, text: () => string): Promise<void> {
  if (knownOnEngine(target.stateDir, target.engine, name)) return;
  await createBundle(target, name, text);
}

/**
 * After a start on the engine failed: when bundle secret `name` is missing there (removed behind
 * mino's back), makes it again and returns true (the caller retries once); false when it is there.
 */
export async function repairCaBundleSecret(target: CaBundleTarget, name: string, text: () => string): Promise<boolean> {
  const digest = caBundleDigestOf(target.stateKey, name);
  if (digest === undefined) return false;
  const present = await target.runtime.secretList({ [LABEL_CA_BUNDLE]: digest });
  if (present.some((s) => s.name === name)) {
    rememberOnEngine(target.stateDir, target.engine, name, true);
    return false;
  }
  rememberOnEngine(target.stateDir, target.engine, name, false);
  await createBundle(target, name, text);
  return true;
}

/** Whether `text` is certificates only: no private key of any kind (a bundle is public). */
export function isPublicBundle(text: string): boolean {
  return !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
}

/** Makes the secret (an existing one of the name is kept: its content is the same). */
async function createBundle(target: CaBundleTarget, name: string, text: () => string): Promise<void> {
  const digest = caBundleDigestOf(target.stateKey, name);
  if (digest === undefined) throw new Error(`Internal error: ${name} is not a CA bundle secret of this state`);
  const content = text();
  if (!isPublicBundle(content)) throw new Error('Internal error: a CA bundle with a private key in it');
  if (caBundleDigest(content) !== digest)
    throw new Error(`the host's CA certificates changed since this run was planned (bundle secret ${name})`);
  await target.runtime.secretCreate(name, content, caBundleLabels(target.stateKey, digest), { keep: true });
  rememberOnEngine(target.stateDir, target.engine, name, true);
}
