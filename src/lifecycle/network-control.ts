import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, MinoError } from '../common/errors.js';
import { log } from '../common/logger.js';
import { pidAlive } from '../common/pid-alive.js';
import { ControlUnavailableError, controlRequest } from '../network/control.js';
import { readEgressLaunchInfo, readHelperInfo } from '../network/egress-launch.js';
import { egressPaths, egressPathsOf } from '../network/egress-paths.js';
import { readNetworkRecord, type NetworkRecord } from '../network/network-record.js';
import { processStartTime } from '../network/proxy/netns-listener.js';
import { formatAnyRules, parseAnyRules } from '../network/l7-rule.js';
import type { PolicyText } from '../network/policy.js';
import { refuseHostAddressRules } from '../network/address-guard.js';
import { changeRemotePolicy, remoteEgressRecord } from '../network/remote-egress.js';
import { isActive, type SessionRecord } from '../session/session-record.js';
import { egressBaseOf, type SessionContext } from '../context/session-context.js';

/**
 * The network of running and finished sessions: changing a running session's policy (`mino
 * network allow|deny`), showing what a session's proxy saw (`mino network show`, `mino logs
 * --network`), and reaping proxies whose session is over (`mino gc`, reconciliation).
 */

/** True for sessions whose traffic goes through an egress proxy. */
export function hasEgress(record: Pick<SessionRecord, 'network'>): boolean {
  return record.network === 'allowlist' || record.network === 'learn';
}

/** Changes the policy of a running session's proxy; returns the policy now in force. */
export async function changeSessionPolicy(
  ctx: SessionContext,
  name: string,
  op: 'allow' | 'deny',
  values: readonly string[],
): Promise<PolicyText> {
  const parsed = parseAnyRules(values, op);
  if (op === 'allow') refuseHostAddressRules([...parsed.hosts, ...parsed.l7.map((r) => r.host)]);
  const rules = formatAnyRules(parsed);
  if (rules.length === 0)
    throw new MinoError(`No rule given to ${op}`, { hint: `mino network ${op} ${name} HOST:PORT`, exitCode: 2 });
  const record = ctx.store.require(name);
  if (!hasEgress(record)) {
    throw new MinoError(`Session '${name}' has no egress proxy (network: ${record.network ?? 'bridge'})`, {
      hint: 'Only sessions started with --network-allow, --network-preset or --network learn have one; start a new session with one',
    });
  }
  if (!isActive(record))
    throw new MinoError(`Session '${name}' is not running (status: ${record.status})`, {
      hint: "Run 'mino list -a' to see sessions",
    });
  if (record.engine !== undefined)
    return changeRemoteSessionPolicy(ctx, { ...record, engine: record.engine }, op, rules);
  const paths = egressPaths(egressBaseOf(ctx), ctx.stateKey, name);
  try {
    const res = await controlRequest(paths.control, { op, rules });
    if (!res.ok) throw new MinoError(`The egress proxy of session '${name}' refused the change: ${res.error}`);
    return res.policy;
  } catch (err) {
    if (err instanceof ControlUnavailableError) {
      throw new MinoError(`The egress proxy of session '${name}' is not reachable: ${err.message}`, {
        hint: "The session may just have ended; see 'mino list'",
      });
    }
    throw err;
  }
}

/**
 * {@link changeSessionPolicy} for a session on a remote engine: its proxy runs there, in a
 * container (network/remote-egress.ts), and takes the change through one `podman exec`; the
 * change is audited here (the audit log stays on this machine).
 */
async function changeRemoteSessionPolicy(
  ctx: SessionContext,
  record: SessionRecord & { engine: string },
  op: 'allow' | 'deny',
  rules: string[],
): Promise<PolicyText> {
  const runtime = record.engine === ctx.engine ? ctx.runtime : ctx.runtimeOf?.(record.engine);
  if (!runtime) throw new MinoError(`Engine ${record.engine} of session '${record.name}' is not known here`);
  let policy: PolicyText | undefined;
  try {
    policy = await changeRemotePolicy(runtime, ctx.stateKey, record.name, op, rules);
  } catch (err) {
    throw new MinoError(
      `The egress proxy of session '${record.name}' on engine ${record.engine} did not take the change: ${errorMessage(err)}`,
      { hint: "The session may just have ended; see 'mino list'" },
    );
  }
  ctx.audit.record('network.policy', { name: record.name, op, rules, engine: record.engine });
  if (!policy)
    throw new MinoError(`The egress proxy of session '${record.name}' took the change but did not report its policy`);
  return policy;
}

/** What a session's proxy saw: live from the proxy when it runs, else from its last record. */
export async function sessionNetwork(
  ctx: SessionContext,
  name: string,
): Promise<{ session: SessionRecord; record: NetworkRecord | undefined; live: boolean }> {
  const session = ctx.store.require(name);
  if (!hasEgress(session)) return { session, record: undefined, live: false };
  if (isActive(session) && session.engine !== undefined) {
    // A remote session's proxy reports through the engine's logs (network/remote-egress.ts).
    const runtime = session.engine === ctx.engine ? ctx.runtime : safely(() => ctx.runtimeOf?.(session.engine));
    const record = runtime && (await remoteEgressRecord(runtime, ctx.stateKey, name));
    if (record) return { session, record, live: true };
  } else if (isActive(session)) {
    try {
      const res = await controlRequest(
        egressPaths(egressBaseOf(ctx), ctx.stateKey, name).control,
        { op: 'status' },
        3000,
      );
      if (res.ok) return { session, record: res.record, live: true };
    } catch {
      // not running (any more): the record on disk is what there is
    }
  }
  return { session, record: readNetworkRecord(ctx.stateDir, name), live: false };
}

function safely<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}

/** Waits (briefly) for a session's proxy to finish after its container stopped; its final record. */
export async function finalSessionNetwork(
  ctx: SessionContext,
  name: string,
  timeoutMs = 3000,
): Promise<NetworkRecord | undefined> {
  const paths = egressPaths(egressBaseOf(ctx), ctx.stateKey, name);
  const helper = readHelperInfo(paths.helper);
  const until = Date.now() + timeoutMs;
  while (helper && pidAlive(helper.pid) && processStartTime(helper.pid) === helper.start && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return readNetworkRecord(ctx.stateDir, name);
}

/** A proxy that was reaped. */
export interface ReapedProxy {
  session: string;
  pid: number | undefined;
}

/**
 * Stops the egress proxies of this state directory whose session is no longer active (or gone)
 * and removes their leftover directories. A proxy stops on its own when its container ends; this
 * catches the rest (a proxy that hung, a mino killed at the wrong moment). A warm container's
 * proxy belongs to no session until a run claims it: it is left to its container, and only its
 * directory is removed once it is gone.
 */
export function reapEgressProxies(
  ctx: SessionContext,
  sessions: readonly SessionRecord[] = ctx.store.list().sessions,
): ReapedProxy[] {
  const base = egressBaseOf(ctx);
  let entries: string[];
  try {
    entries = readdirSync(base).filter((e) => /^[0-9a-f]{16}$/.test(e));
  } catch {
    return [];
  }
  const reaped: ReapedProxy[] = [];
  for (const entry of entries) {
    const paths = egressPathsOf(join(base, entry));
    const launch = readEgressLaunchInfo(paths.launch);
    if (!launch || launch.stateKey !== ctx.stateKey) continue;
    if (paths.dir !== egressPaths(base, ctx.stateKey, launch.session).dir) continue;
    const session = sessions.find((s) => s.name === launch.session);
    if (session && isActive(session)) continue;
    const helper = readHelperInfo(paths.helper);
    const alive = helper !== undefined && pidAlive(helper.pid) && processStartTime(helper.pid) === helper.start;
    if (launch.warm) {
      if (helper !== undefined && !alive) rmSync(paths.dir, { recursive: true, force: true });
      continue;
    }
    if (alive) {
      try {
        process.kill(helper.pid, 'SIGTERM');
      } catch (err) {
        log.debug('reaping an egress proxy failed', { error: String(err) });
      }
    } else {
      rmSync(paths.dir, { recursive: true, force: true });
    }
    reaped.push({ session: launch.session, pid: alive ? helper.pid : undefined });
  }
  return reaped;
}
