import type { Destination } from '../destination.js';
import { unterminatedGuard, type L7Enforcer } from '../l7-gate.js';
import type { DestinationLog } from './destination-log.js';
import type { EgressServerOptions } from './egress-server.js';
import type { EgressSecrets, ProxiedCredential } from '../egress-secrets.js';
import type { DenyReason } from '../policy.js';
import { RewriterRegistry, allowAllRequests, type RequestGate, type TunnelHandler } from './pipeline.js';
import { LeafCertificates } from './tls-ca.js';
import {
  boundToCredential,
  placeholderBodyGuard,
  placeholderGuard,
  registerCredentials,
  type BodyGuard,
} from './tls-credentials.js';
import { terminatingHandler } from './tls-terminator.js';

/**
 * The TLS stages of a session's proxy, from what `mino run` passed it: the credential rewriters,
 * the placeholder guard (plain HTTP and terminated requests), and the terminating handler for the
 * hosts that have a credential or (with `rules`, the L7 rules) a rule that needs the request.
 */

/** L7 rules' part: which destinations they need terminated, and their gate. */
export interface RequestRules {
  terminates(dest: Destination): boolean;
  gate: RequestGate;
}

/** What the proxy plugs into its EgressServer. */
export interface TlsStages {
  rewriters: RewriterRegistry;
  requestGuard: RequestGate | undefined;
  /** What request bodies to a destination must not carry (placeholders of other hosts). */
  bodyGuard: ((dest: Destination) => BodyGuard | undefined) | undefined;
  /** The tunnel handlers (the terminating one when there is a CA), reporting refusals to `denied`. */
  handlers(denied: (dest: Destination, reason: DenyReason, detail: string) => void): TunnelHandler[];
  /**
   * Takes the credentials of the run that claimed a warm proxy (started with a CA and none):
   * afterwards `rewriters`, `requestGuard` and `bodyGuard` serve them (read them again), and the
   * terminating handler terminates their hosts. Throws when this proxy has credentials already.
   */
  addCredentials(credentials: readonly ProxiedCredential[]): void;
  close(): void;
}

/** Builds the stages (none without secrets). */
export function tlsStages(secrets: EgressSecrets | undefined, rules?: RequestRules): TlsStages {
  const rewriters = new RewriterRegistry();
  if (!secrets)
    return {
      rewriters,
      requestGuard: undefined,
      bodyGuard: undefined,
      handlers: () => [],
      addCredentials: () => {
        throw new Error('this egress proxy was started without a CA: it cannot take credentials');
      },
      close: () => undefined,
    };
  // What the credentials decide (see take); replaced once by a claim's (addCredentials).
  let credentials: readonly ProxiedCredential[] = [];
  let credentialRules: ReturnType<typeof registerCredentials> = [];
  let bound = boundToCredential(credentialRules);
  let guard: RequestGate | undefined;
  let bodyGuard: TlsStages['bodyGuard'];
  let certificates: LeafCertificates | undefined;
  /**
   * Makes the leaves of the credentials' exact hosts in the background, not on the session's first
   * request to them (a signature, and forge cold: milliseconds).
   */
  const prepareLeaves = (): void => {
    const leaves = certificates;
    if (!leaves) return;
    void leaves.prepare().then(() => {
      for (const rule of credentialRules) {
        if (rule.host.startsWith('*.')) continue;
        try {
          leaves.contextFor(rule.host);
        } catch {
          // made again, and its error met, on the first connection to it
        }
      }
    });
  };
  let closeHandler = (): void => undefined;
  const stages: TlsStages = {
    rewriters,
    requestGuard: undefined,
    bodyGuard: undefined,
    handlers(denied) {
      if (!secrets.ca) return [];
      certificates = new LeafCertificates(secrets.ca);
      prepareLeaves();
      const handler = terminatingHandler({
        certificates,
        terminates: (dest) => bound(dest) || (rules?.terminates(dest) ?? false),
        gate: rules?.gate ?? allowAllRequests,
        afterRewrite: (request) => guard?.(request) ?? { allow: true },
        bodyGuard: (dest) => bodyGuard?.(dest),
        ...(secrets.upstreamCa.length > 0 ? { upstreamCa: secrets.upstreamCa } : {}),
        denied,
      });
      setImmediate(() => {
        try {
          handler.prepare();
        } catch {
          // a bad CA fails again, with its error, on the first connection
        }
      });
      closeHandler = () => handler.close();
      return [handler];
    },
    addCredentials(claimed) {
      if (credentials.length > 0) throw new Error('this egress proxy has credentials already');
      if (!secrets.ca) throw new Error('this egress proxy was started without a CA: it cannot take credentials');
      take([...claimed]);
      prepareLeaves();
    },
    close: () => closeHandler(),
  };
  /** Makes `list` the credentials: their rewriters, the hosts they terminate, and both placeholder guards. */
  const take = (list: readonly ProxiedCredential[]): void => {
    credentials = list;
    credentialRules = registerCredentials(rewriters, list);
    bound = boundToCredential(credentialRules);
    guard = list.length > 0 ? placeholderGuard(list) : undefined;
    bodyGuard = list.length > 0 ? placeholderBodyGuard(list) : undefined;
    stages.requestGuard = guard;
    stages.bodyGuard = bodyGuard;
  };
  take(secrets.credentials);
  return stages;
}

/**
 * The options of a session proxy's EgressServer that the TLS stages and the L7 rules decide (the
 * local proxy's and a remote engine's alike); refusals go to `log()`, the session's log of the
 * moment (a warm proxy's is replaced by its claim).
 */
export function tlsServerOptions(
  tls: TlsStages,
  l7: L7Enforcer,
  log: () => Pick<DestinationLog, 'denied'>,
): Pick<EgressServerOptions, 'gate' | 'handlers' | 'rewriters' | 'requestGuard' | 'bodyGuard'> {
  return {
    gate: l7.gate,
    handlers: [
      ...tls.handlers((dest, reason, detail) => log().denied(dest, reason, detail, 'https')),
      unterminatedGuard(l7, (dest, detail) => log().denied(dest, 'request', detail, 'connect')),
    ],
    rewriters: tls.rewriters,
    requestGuard: tls.requestGuard,
    ...(tls.bodyGuard ? { bodyGuard: tls.bodyGuard } : {}),
  };
}
