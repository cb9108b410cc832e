import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AuditLog } from '../audit/audit-log.js';
import { log } from '../common/logger.js';
import { minoPaths } from '../common/xdg-paths.js';
import { egressBase } from '../network/egress-paths.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { SessionStore } from '../session/session-store.js';
import { SessionEnvStore, sessionEnvDir } from '../credentials/session-env-store.js';

/** What the session use cases work with. */
export interface SessionContext {
  runtime: ContainerRuntime;
  /** The registered engine `runtime` drives (undefined: this machine's; see src/engine/). */
  engine?: string;
  /**
   * The runtime of another engine's sessions (`undefined`: this machine's), for commands that
   * reach sessions of every engine (list, gc). Without it only `engine`'s sessions are reconciled;
   * throws for an engine that is not registered.
   */
  runtimeOf?: (engine: string | undefined) => ContainerRuntime;
  /**
   * The same engine on the user's own podman store, when `runtime` is on mino's own store
   * (src/runtime/own-store.ts): where a run looks for the user's images (plain-image.ts).
   */
  userRuntime?: ContainerRuntime;
  store: SessionStore;
  audit: AuditLog;
  stateDir: string;
  /** Key of this state directory, put on containers (label io.mino.state). */
  stateKey: string;
  /** Where sessions' egress proxies keep their runtime files (network/egress-paths.ts). */
  egressBase?: string;
  /** Where session env files live (credentials/session-env-store.ts); default `<stateDir>/session-env`. */
  sessionEnvDir?: string;
  /**
   * mino's data directory (XDG_DATA_HOME), for files sessions mount: the protected paths' private
   * copies live apart from the state directory, so a full state directory never stops a session
   * from starting. Default (contexts built by hand, tests): `<stateDir>/data`.
   */
  dataDir?: string;
}

/** The data directory of a context (see {@link SessionContext.dataDir}). */
export function dataDirOf(ctx: SessionContext): string {
  return ctx.dataDir ?? join(ctx.stateDir, 'data');
}

/** The session env files of a context. */
export function sessionEnvOf(ctx: SessionContext): SessionEnvStore {
  return new SessionEnvStore(ctx.sessionEnvDir ?? join(ctx.stateDir, 'session-env'));
}

/** First 12 hex digits of sha256(stateDir): identifies whose containers are whose. */
export function stateKeyFor(stateDir: string): string {
  return createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
}

/** The egress base directory of a context (computed from this process when the context has none). */
export function egressBaseOf(ctx: SessionContext): string {
  return ctx.egressBase ?? egressBase(process.env, ctx.stateDir, process.getuid?.() ?? 0);
}

/** Builds the context from the environment's XDG directories. */
export function sessionContext(
  runtime: ContainerRuntime,
  env: NodeJS.ProcessEnv = process.env,
  userRuntime?: ContainerRuntime,
): SessionContext {
  const { stateDir, dataDir } = minoPaths(env);
  const stateKey = stateKeyFor(stateDir);
  return {
    ...(userRuntime && userRuntime !== runtime ? { userRuntime } : {}),
    egressBase: egressBase(env, stateDir, process.getuid?.() ?? 0),
    runtime,
    store: new SessionStore(stateDir),
    audit: new AuditLog(stateDir, env.MINO_AUDIT_LOG !== '0', (err) =>
      log.warn('audit log write failed', { error: String(err) }),
    ),
    stateDir,
    dataDir,
    stateKey,
    sessionEnvDir: sessionEnvDir(stateDir, stateKey, env, process.getuid?.()),
  };
}
