import type { RunPlan } from '../launch/run-plan.js';
import { sessionLabels } from './session-labels.js';
import type { YamlValue } from './yaml-emit.js';

/**
 * The egress policy of a session (`--network-allow`, `--network-preset`, `--network learn`) in a
 * Pod. On this machine the proxy runs on the host and the container has no network; in a Pod the
 * containers share one network namespace, so:
 * - the proxy is a sidecar (an init container with `restartPolicy: Always`: it starts before the
 *   agent and lives as long as the Pod) listening on the Pod's loopback at the address the agent's
 *   proxy variables already name (127.0.0.1:3128), running as a uid of its own;
 * - an init container with NET_ADMIN (the "fence") lets only that uid out: every other uid of the
 *   Pod reaches loopback only (iptables owner match, as service-mesh sidecars do);
 * - a NetworkPolicy (pod-wide, it cannot tell containers apart) lets the Pod out to DNS and the
 *   allowlist's ports only, a second wall around the proxy;
 * - the policy is a ConfigMap mounted into the proxy; credentials the plan keeps out of the sandbox
 *   (proxy-only, the agent sees placeholders) are a Secret mounted into the proxy only.
 * On paper: mino has no proxy image and its proxy no in-Pod listener yet (docs/kubernetes.md).
 */

/** The image of the proxy sidecar and the fence (mino with iptables; not built by mino yet). */
const PROXY_IMAGE = 'localhost/mino-egress-proxy:latest';
/** Where the proxy reads its policy (the ConfigMap). */
const EGRESS_CONFIG_DIR = '/etc/mino/egress';
/** Where the proxy reads the credentials it injects (the Secret). */
const PROXY_SECRETS_DIR = '/run/secrets/mino-proxy';

const DNS: YamlValue = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};

/** Private, link-local and loopback ranges: `--network learn` allows everything but these. */
const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '127.0.0.0/8'];

/** The parts the egress policy adds to a session's Pod. */
export interface EgressSidecar {
  /** The proxy (a native sidecar: an init container that keeps running). */
  proxy: YamlValue;
  /** The init container that lets only the proxy's uid out. */
  fence: YamlValue;
  /** Pod volumes of the ConfigMap and the Secret. */
  volumes: YamlValue[];
  /** The ConfigMap of the policy and the Secret of proxy-only credentials. */
  objects: YamlValue[];
  /** The Pod's NetworkPolicy egress rules. */
  egress: YamlValue[];
  notes: string[];
}

/** The TCP ports of allow rules (`host:port`, `[v6]:port`), ascending. */
export function rulePorts(rules: readonly string[]): number[] {
  const ports = rules.map((r) => Number(r.slice(r.lastIndexOf(':') + 1))).filter((p) => Number.isInteger(p) && p > 0);
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** The fence's script: loopback for everyone, the network for `uid` only (IPv4 and IPv6). */
function fenceScript(uid: number): string {
  return ['iptables', 'ip6tables']
    .map(
      (t) =>
        `${t} -A OUTPUT -o lo -j ACCEPT && ${t} -A OUTPUT -m owner --uid-owner ${uid} -j ACCEPT && ${t} -A OUTPUT -j REJECT`,
    )
    .join(' && ');
}

/** The sidecar parts of `plan`'s egress policy; `base` names the objects. */
export function egressSidecar(plan: RunPlan, base: string): EgressSidecar {
  const egress = plan.network.egress;
  if (!egress) throw new Error('egressSidecar: the plan has no egress policy');
  const agentUid = plan.identity.imageUser;
  const proxyUid = agentUid === 2000 ? 2001 : 2000;
  const rules = plan.credentials.proxy;
  const config = `${base}-egress`;
  const secret = `${base}-proxy-credentials`;
  const hardened = {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
  };
  const proxy: YamlValue = {
    name: 'egress-proxy',
    image: PROXY_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    restartPolicy: 'Always',
    args: ['mino', '_egress-proxy', EGRESS_CONFIG_DIR],
    securityContext: {
      ...hardened,
      runAsUser: proxyUid,
      runAsGroup: proxyUid,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'egress-config', mountPath: EGRESS_CONFIG_DIR, readOnly: true },
      ...(rules.length > 0 ? [{ name: 'proxy-credentials', mountPath: PROXY_SECRETS_DIR, readOnly: true }] : []),
    ],
  };
  const fence: YamlValue = {
    name: 'egress-fence',
    image: PROXY_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', fenceScript(proxyUid)],
    securityContext: {
      ...hardened,
      runAsUser: 0,
      runAsNonRoot: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
    },
  };
  const policy = {
    mode: egress.policy.mode,
    listen: `${egress.listen.host}:${egress.listen.port}`,
    allow: egress.policy.allow,
    deny: egress.policy.deny,
    credentials: rules.map((r) => ({
      variable: r.variable,
      placeholder: r.placeholder,
      hosts: r.hosts,
      header: r.header,
      prefix: r.prefix,
      file: `${PROXY_SECRETS_DIR}/${r.variable}`,
    })),
  };
  const objects: YamlValue[] = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: config, labels: sessionLabels(plan) },
      data: { 'policy.json': `${JSON.stringify(policy, null, 2)}\n` },
    },
  ];
  const volumes: YamlValue[] = [{ name: 'egress-config', configMap: { name: config } }];
  if (rules.length > 0) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secret, labels: sessionLabels(plan) },
      type: 'Opaque',
      stringData: Object.fromEntries(rules.map((r) => [r.variable, ''])),
    });
    volumes.push({ name: 'proxy-credentials', secret: { secretName: secret, defaultMode: 0o400 } });
  }
  const notes: string[] = [];
  let netRules: YamlValue[];
  if (egress.policy.mode === 'learn') {
    netRules = [DNS, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: PRIVATE_V4 } }] }];
  } else {
    const ports = rulePorts(egress.policy.allow);
    netRules = ports.length > 0 ? [DNS, { ports: ports.map((port) => ({ protocol: 'TCP', port })) }] : [DNS];
  }
  if (egress.policy.allow.some((r) => r.startsWith('host.containers.internal:')))
    notes.push('host.containers.internal names this machine: in a cluster the proxy cannot reach it');
  return { proxy, fence, volumes, objects, egress: netRules, notes };
}
