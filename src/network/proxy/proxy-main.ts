import { closeSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import type { Server } from 'node:net';
import { AuditLog } from '../../audit/audit-log.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { pidAlive } from '../../common/pid-alive.js';
import { serveControl, type ControlRequest, type ControlResponse } from '../control.js';
import { readEgressLaunch, readHelperInfo, type EgressHelperInfo, type EgressLaunch } from '../egress-launch.js';
import type { EgressPaths } from '../egress-paths.js';
import { answerHook, readHookRequests } from '../hook-fifo.js';
import { newNetworkRecord, writeNetworkRecord } from '../network-record.js';
import { policyOf, policyText, withRules } from '../policy.js';
import { moveToSession } from '../warm-handover.js';
import { formatAnyRules, parseAnyRules } from '../l7-rule.js';
import { l7Enforcer } from '../l7-gate.js';
import { DestinationLog } from './destination-log.js';
import { createDialer } from './dialer.js';
import { EgressServer, type EgressServerOptions } from './egress-server.js';
import { findProgram } from '../../common/find-program.js';
import { openListenerInNetns, processStartTime } from './netns-listener.js';
import { credentialsOf, readEgressSecrets, type ProxiedCredential } from '../egress-secrets.js';
import { tlsServerOptions, tlsStages } from './tls-setup.js';

/**
 * The egress proxy process of one session (`mino _egress-proxy DIR`, started detached by `mino
 * run`). It lives exactly as long as its session:
 * - it tells `mino run` it is ready (fd 3) once its control socket and the hook's FIFO are open;
 * - the container's OCI hook hands it the container's PID; it opens its listener in the
 *   container's network namespace and answers the hook;
 * - it watches that PID and stops when the container's process is gone (the session ended,
 *   attached or detached), when `mino run` sends `finish`, or, before any container attached,
 *   when the `mino run` that started it died or the start-up timeout passed.
 * On stopping it writes the session's network record a last time and removes its directory.
 *
 * A warm container's proxy (launch.warm, started by the pool) attaches the same way, with a
 * policy that allows nothing, and writes no record: it becomes a session's proxy when a run
 * claims its container (control `claim`: the session's name, policy, presets and audit setting;
 * see warm-handover.ts), before that run's command starts.
 */

/** Interval of the container and owner liveness checks. */
const WATCH_MS = 500;
/** Buffer size of proxied sockets (bulk downloads). */
const HIGH_WATER_MARK = 256 * 1024;

function signalReady(text: string): void {
  try {
    writeSync(3, `${text}\n`);
    closeSync(3);
  } catch {
    // mino run is gone or did not ask: nothing to tell
  }
}

/** Runs the proxy for the session directory `paths.dir`; resolves when it stopped. */
export async function runEgressProxy(initialPaths: EgressPaths): Promise<void> {
  let paths = initialPaths;
  let launchInfo;
  try {
    launchInfo = readEgressLaunch(paths.launch);
  } catch (err) {
    signalReady(`error: ${(err as Error).message}`);
    throw err;
  }
  let launch: EgressLaunch = launchInfo.launch;
  /** A session's proxy (a warm one once claimed): it keeps records and audits. */
  let claimed = launch.warm !== true;
  let tls: ReturnType<typeof tlsStages>;
  // L7 rules judge requests over the live policy (`proxy.policy`, replaced by `mino network`);
  // the terminating handler asks them which tunnels to terminate, and about each request.
  const l7 = l7Enforcer(() => proxy.policy, { request: (...args) => log.request(...args) });
  try {
    // The secrets come through stdin (a pipe from mino run), read to its end before serving.
    tls = tlsStages(launch.secrets ? readEgressSecrets(0) : undefined, l7);
  } catch (err) {
    signalReady(`error: ${(err as Error).message}`);
    throw err;
  }
  const nsenter = findProgram('nsenter');
  if (!nsenter) {
    signalReady('error: nsenter (util-linux) is not installed; it is needed to give the session its egress listener');
    throw new Error('nsenter not found');
  }
  let audit = new AuditLog(launch.stateDir, { enabled: launch.audit });
  /** The record of the session `of` names; an unclaimed warm proxy's is kept nowhere. */
  const sessionLog = (of: EgressLaunch, keep: boolean): DestinationLog =>
    new DestinationLog(
      newNetworkRecord(of.session, of.policy.mode, of.policy, of.presets),
      (record) => {
        if (!keep) return;
        try {
          writeNetworkRecord(of.stateDir, record);
        } catch {
          // a full disk must not take the session's network down
        }
      },
      (d) => {
        if (!keep) return;
        audit.record('network.denied', {
          name: of.session,
          destination: d.destination,
          host: d.host,
          port: d.port,
          reason: d.reason,
          detail: d.detail,
          protocol: d.protocol,
        });
      },
    );
  let log = sessionLog(launch, claimed);
  log.flush();
  // Kept by the server as given: a claim renames the session and replaces its log here.
  const serverOptions: EgressServerOptions = {
    session: launch.session,
    policy: launchInfo.policy,
    dialer: createDialer({ highWaterMark: HIGH_WATER_MARK }),
    log,
    ...tlsServerOptions(tls, l7, () => log),
  };
  const proxy: EgressServer = new EgressServer(serverOptions);

  let listener: Server | undefined;
  let container: { pid: number; start: string } | undefined;
  let stopping = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const timers: NodeJS.Timeout[] = [];

  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    for (const t of timers) clearInterval(t);
    listener?.close();
    proxy.close();
    tls.close();
    control.close();
    fifo.destroy();
    log.flush(true);
    if (reason !== 'finish' && claimed) audit.record('network.stopped', { name: launch.session, reason });
    // The directory is this proxy's unless a new session of the same name took it over.
    if (readHelperInfo(paths.helper)?.pid === process.pid) rmSync(paths.dir, { recursive: true, force: true });
    done();
  };

  /** A run claimed this warm proxy's container: it becomes that session's proxy (see the module comment). */
  const claim = (req: Extract<ControlRequest, { op: 'claim' }>): ControlResponse => {
    if (claimed) return { ok: false, error: 'this egress proxy serves a session already' };
    if (!container || processStartTime(container.pid) !== container.start)
      return { ok: false, error: 'the warm container of this egress proxy is not running' };
    const policy = policyOf(req.policy);
    let credentials: ProxiedCredential[] | undefined;
    if (req.credentials !== undefined) {
      if (!launch.secrets) return { ok: false, error: 'this egress proxy was started without a CA' };
      try {
        credentials = credentialsOf(req.credentials);
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    }
    const moved = moveToSession(paths, launch, info, {
      session: String(req.session),
      policy: req.policy,
      presets: Array.isArray(req.presets) ? req.presets.map(String) : [],
      audit: req.audit === true,
    });
    ({ paths, launch, helper: info } = moved);
    claimed = true;
    audit = new AuditLog(launch.stateDir, { enabled: launch.audit });
    log = sessionLog(launch, true);
    serverOptions.log = log;
    serverOptions.session = launch.session;
    proxy.policy = policy;
    if (credentials) {
      tls.addCredentials(credentials);
      serverOptions.requestGuard = tls.requestGuard;
      if (tls.bodyGuard) serverOptions.bodyGuard = tls.bodyGuard;
    }
    audit.record('network.attached', { name: launch.session, mode: launch.policy.mode, pid: container.pid });
    return { ok: true, policy: policyText(proxy.policy), record: log.flush() };
  };

  const handleControl = (req: ControlRequest): ControlResponse => {
    if (req.op === 'claim') return claim(req);
    if (req.op === 'allow' || req.op === 'deny') {
      const rules = parseAnyRules(Array.isArray(req.rules) ? req.rules.map(String) : [], req.op);
      proxy.policy = withRules(proxy.policy, req.op, rules);
      log.setPolicy(policyText(proxy.policy));
      audit.record('network.policy', { name: launch.session, op: req.op, rules: formatAnyRules(rules) });
    }
    const record = req.op === 'finish' ? log.flush(true) : log.snapshot();
    if (req.op === 'finish') setImmediate(() => stop('finish'));
    return { ok: true, policy: policyText(proxy.policy), record };
  };

  try {
    unlinkSync(paths.control);
  } catch {
    // none left over
  }
  const control = await serveControl(paths.control, handleControl);

  let queue = Promise.resolve();
  const fifo = readHookRequests(paths.attach, (line) => {
    queue = queue.then(() => attach(line));
  });
  const answer = (text: string): Promise<boolean> => answerHook(paths.attached, text);

  const attach = async (line: string): Promise<void> => {
    const pid = Number(line);
    const start = Number.isInteger(pid) && pid > 1 ? processStartTime(pid) : undefined;
    if (start === undefined || stopping) {
      await answer(`the egress proxy got no running container (${line.slice(0, 20)})`);
      return;
    }
    try {
      const server = await openListenerInNetns({
        pid,
        rootless: launch.rootless,
        host: launch.listen.host,
        port: launch.listen.port,
        nsenter,
      });
      // Connections the listener accepts: half-open allowed (a client may end its side and wait for
      // the answer) and large buffers for bulk transfers.
      Object.assign(server, { allowHalfOpen: true, highWaterMark: HIGH_WATER_MARK });
      listener?.close();
      listener = server;
      container = { pid, start };
      proxy.attach(server);
      await answer('ok');
      if (claimed) audit.record('network.attached', { name: launch.session, mode: launch.policy.mode, pid });
    } catch (err) {
      await answer(`the egress proxy could not listen in the container: ${(err as Error).message}`);
    }
  };

  let info: EgressHelperInfo = {
    pid: process.pid,
    start: processStartTime(process.pid) ?? '',
    session: launch.session,
    stateKey: launch.stateKey,
  };
  writeFileAtomic(paths.helper, `${JSON.stringify(info)}\n`, { mode: 0o600 });

  const started = Date.now();
  timers.push(
    setInterval(() => {
      if (container) {
        if (processStartTime(container.pid) !== container.start) stop('container ended');
      } else if (!pidAlive(launch.ownerPid)) {
        stop('mino run ended before its container started');
      } else if (Date.now() - started > launch.startupTimeoutMs) {
        stop('no container attached in time');
      }
    }, WATCH_MS),
  );
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stop(`signal ${sig}`));

  signalReady('ready');
  proxy.warm();
  await finished;
}
