import type { Destination } from '../destination.js';
import type { EgressSecrets } from '../egress-secrets.js';
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
  close(): void;
}

/** Builds the stages (none without secrets). */
export function tlsStages(secrets: EgressSecrets | undefined, rules?: RequestRules): TlsStages {
  const rewriters = new RewriterRegistry();
  if (!secrets)
    return { rewriters, requestGuard: undefined, bodyGuard: undefined, handlers: () => [], close: () => undefined };
  const credentialRules = registerCredentials(rewriters, secrets.credentials);
  const bound = boundToCredential(credentialRules);
  const guard = secrets.credentials.length > 0 ? placeholderGuard(secrets.credentials) : undefined;
  const bodyGuard = secrets.credentials.length > 0 ? placeholderBodyGuard(secrets.credentials) : undefined;
  let closeHandler = (): void => undefined;
  return {
    rewriters,
    requestGuard: guard,
    bodyGuard,
    handlers(denied) {
      if (!secrets.ca) return [];
      const certificates = new LeafCertificates(secrets.ca);
      // The leaves of the credentials' exact hosts are made in the background at start, not on the
      // session's first request to them (a signature, and forge cold: milliseconds).
      void certificates.prepare().then(() => {
        for (const rule of credentialRules) {
          if (rule.host.startsWith('*.')) continue;
          try {
            certificates.contextFor(rule.host);
          } catch {
            // made again, and its error met, on the first connection to it
          }
        }
      });
      const handler = terminatingHandler({
        certificates,
        terminates: (dest) => bound(dest) || (rules?.terminates(dest) ?? false),
        gate: rules?.gate ?? allowAllRequests,
        ...(guard ? { afterRewrite: guard } : {}),
        ...(bodyGuard ? { bodyGuard } : {}),
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
    close: () => closeHandler(),
  };
}
