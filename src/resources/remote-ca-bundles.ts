import { readFileSync } from 'node:fs';
import type { SessionContext } from '../context/session-context.js';
import { sessionCaBundlePath } from '../credentials/host-ca-bundle.js';
import {
  caBundleDigest,
  caBundleDigestOf,
  caBundleSecretName,
  LABEL_CA_BUNDLE,
  rememberOnEngine,
} from '../engine/engine-ca-secrets.js';
import { listPoolKeys, readPool } from '../pool/pool-index.js';
import { poolCaSecrets } from '../pool/remote-warm-tls.js';

/**
 * The host CA bundle secrets of a remote engine (engine/engine-ca-secrets.ts) for `mino cache`:
 * listed with mino's images (kind `ca-bundle`); in use while they are the bundle of the host's
 * CAs now (the next run mounts it) or a pool of this state on that engine mounts them (its pool
 * CA's too).
 * `mino cache clear --images` removes the others.
 */

/** The bundle secrets of this state on `engine` (ctx.runtime's), with what uses each. */
export async function caBundlesOnEngine(
  ctx: SessionContext,
  engine: string,
): Promise<Array<{ name: string; id: string; inUseBy?: string }>> {
  const secrets = await ctx.runtime.secretList({ 'io.mino.state': ctx.stateKey, [LABEL_CA_BUNDLE]: '' });
  const users = new Map<string, string>();
  try {
    const current = caBundleSecretName(
      ctx.stateKey,
      caBundleDigest(readFileSync(sessionCaBundlePath(ctx.stateDir), 'utf8')),
    );
    users.set(current, "the host's CAs now");
  } catch {
    // no host bundle
  }
  for (const key of listPoolKeys(ctx.stateDir)) {
    const record = readPool(ctx.stateDir, key);
    if (record?.engine !== engine) continue;
    // Its spec's (the host's bundle), or its pool CA's (a terminating pool: pool/remote-warm-tls.ts).
    for (const secret of [...(record.spec.secretFiles ?? []).map((f) => f.secret), ...poolCaSecrets(ctx.stateDir, key)])
      if (!users.has(secret)) users.set(secret, `pool ${key.slice(0, 12)}`);
  }
  return secrets
    .filter((s) => caBundleDigestOf(ctx.stateKey, s.name) !== undefined)
    .map((s) => {
      const who = users.get(s.name);
      return { name: s.name, id: s.id, ...(who === undefined ? {} : { inUseBy: who }) };
    });
}

/** Removes bundle secret `name` from ctx's engine, and from the memo of what exists there. */
export async function removeCaBundle(ctx: SessionContext, name: string): Promise<void> {
  await ctx.runtime.secretRemove(name);
  if (ctx.engine !== undefined) rememberOnEngine(ctx.stateDir, ctx.engine, name, false);
}
