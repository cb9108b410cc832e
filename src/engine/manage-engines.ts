import { accessSync, constants } from 'node:fs';
import { UsageError, MinoError } from '../common/errors.js';
import {
  findEngine,
  readEngineRegistry,
  validateIdentityPath,
  writeEngineRegistry,
  type EngineRecord,
  type EngineRegistry,
} from './engine-registry.js';
import { LOCAL_ENGINE, validateEngineName } from './engine-name.js';
import { parseEngineUrl } from './engine-url.js';
import { closeEngineTunnel } from './engine-runtime.js';

/**
 * The `mino engine` use cases on the registry (engine-registry.ts). Every input is checked
 * before anything is written; the engine itself is checked by the caller's `check` before the
 * record is written, so a failed add leaves nothing behind.
 */

/** What `mino engine add` takes. */
export interface AddEngineInput {
  name: string;
  url: string;
  identity?: string;
  /** Connects to the engine; its facts go into the record. Throws when the engine is unusable. */
  check?: (engine: EngineRecord) => Promise<{ version: string; rootless: boolean }>;
  env?: NodeJS.ProcessEnv;
}

/** Adds an engine (checked first); returns its record. */
export async function addEngine(input: AddEngineInput): Promise<EngineRecord> {
  const name = validateEngineName(input.name);
  if (name === LOCAL_ENGINE) throw new UsageError(`'${LOCAL_ENGINE}' is this machine's engine`, 'Pick another name');
  const url = parseEngineUrl(input.url);
  const registry = readEngineRegistry(input.env);
  if (registry.engines.some((e) => e.name === name)) {
    throw new UsageError(`Engine '${name}' already exists`, `Remove it first: mino engine remove ${name}`);
  }
  let engine: EngineRecord = { name, url };
  if (input.identity !== undefined) {
    const identity = validateIdentityPath(input.identity);
    try {
      accessSync(identity, constants.R_OK);
    } catch {
      throw new UsageError(`Cannot read the ssh key ${identity}`, 'Give the path of a private key file you can read');
    }
    engine = { ...engine, identity };
  }
  if (url.scheme === 'unix' && engine.identity !== undefined) {
    throw new UsageError('--identity is for ssh:// engines only', 'Leave it out for a unix:// socket');
  }
  if (input.check) engine = { ...engine, ...(await input.check(engine)) };
  writeEngineRegistry({ ...registry, engines: [...registry.engines, engine] }, input.env);
  return engine;
}

/**
 * Removes an engine; refused while a session on it is active (`activeSessions`: their names).
 * `before` runs once the checks passed, before the engine is forgotten (its tunnel still up).
 */
export async function removeEngine(
  name: string,
  activeSessions: readonly string[],
  env?: NodeJS.ProcessEnv,
  before?: () => Promise<void>,
): Promise<void> {
  const registry = readEngineRegistry(env);
  const engine = findEngine(registry, name);
  if (activeSessions.length > 0) {
    throw new MinoError(`Engine '${name}' is in use by session(s) ${activeSessions.join(', ')}`, {
      hint: `Stop them first: mino stop ${activeSessions[0]}`,
    });
  }
  await before?.();
  const next: EngineRegistry = { engines: registry.engines.filter((e) => e.name !== name) };
  if (registry.default !== undefined && registry.default !== name) next.default = registry.default;
  writeEngineRegistry(next, env);
  closeEngineTunnel(engine, env);
}

/** Makes `name` the default engine of runs (`local`: this machine's again). */
export function setDefaultEngine(name: string, env?: NodeJS.ProcessEnv): void {
  const registry = readEngineRegistry(env);
  if (name === LOCAL_ENGINE) {
    writeEngineRegistry({ engines: registry.engines }, env);
    return;
  }
  findEngine(registry, name);
  writeEngineRegistry({ ...registry, default: name }, env);
}

/** Records what a check learnt about an engine. */
export function recordEngineFacts(
  name: string,
  facts: { version: string; rootless: boolean },
  env?: NodeJS.ProcessEnv,
): void {
  const registry = readEngineRegistry(env);
  findEngine(registry, name);
  writeEngineRegistry(
    { ...registry, engines: registry.engines.map((e) => (e.name === name ? { ...e, ...facts } : e)) },
    env,
  );
}
