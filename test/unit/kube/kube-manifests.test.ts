import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { CacheMount } from '../../../src/cache/cache-mounts.js';
import { formatKube, parseKubeFormat } from '../../../src/kube/kube-format.js';
import { podmanPlayFlags, renderKube } from '../../../src/kube/kube-manifests.js';
import type { KubeRenderOptions } from '../../../src/kube/kube-objects.js';
import { buildRunPlan, type RunPlan } from '../../../src/launch/run-plan.js';
import { SESSION_ENV_PATH } from '../../../src/credentials/session-env-file.js';
import { minoErrorOf } from '../../helpers/thrown.js';
import { typicalInput } from '../launch/plan-input.js';

/** Loose access to rendered objects in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test access to plain rendered data
type Obj = any;

const P = '/home/alice/src/webapp';
const POD: KubeRenderOptions = { form: 'pod', claims: false, warm: 0, projectRepo: '' };

const npmCache: CacheMount = {
  ecosystem: 'npm',
  hash: 'a1b2c3d4e5f6',
  lockfile: 'package-lock.json',
  volume: 'mino-cache-npm-a1b2c3d4e5f6',
  target: '/cache/npm',
  readOnly: false,
  state: 'miss',
  finalize: true,
  create: true,
};

/** A typical plan: mino image (uid 1000), home volume, an npm cache, a secret variable, protected paths. */
function typicalPlan(over: Parameters<typeof typicalInput>[0] = {}): RunPlan {
  return buildRunPlan(
    typicalInput({
      home: true,
      caches: [npmCache],
      cliEnv: ['DEBUG=1'],
      credentials: {
        envFile: { hostPath: '/run/user/1001/mino/env/demo', variables: ['ANTHROPIC_API_KEY'] },
        loginsVolume: 'mino-logins-abc123',
      },
      protect: {
        roots: [
          {
            hostDir: P,
            stubs: true,
            ancestors: { '.git': 'dir' },
            candidates: [
              { path: '.git/hooks', rule: { kind: 'dir', stub: '' }, found: 'dir' },
              { path: '.mcp.json', rule: { kind: 'file', stub: '{}\n' }, found: 'absent' },
            ],
          },
        ],
      },
      ...over,
    }),
  );
}

const kinds = (objects: Obj[]): string[] => objects.map((o) => o.kind);
const byKind = (objects: Obj[], kind: string): Obj => objects.find((o) => o.kind === kind);

describe('renderKube: the Pod form', () => {
  const plan = typicalPlan();
  const out = renderKube(plan, POD);
  const pod = byKind(out.objects, 'Pod');
  const agent = pod.spec.containers[0];

  it('renders the Secret of the secret variables and the Pod, no claims unless asked', () => {
    expect(kinds(out.objects)).toEqual(['Secret', 'Pod']);
    expect(kinds(renderKube(plan, { ...POD, claims: true }).objects)).toEqual([
      'Secret',
      'PersistentVolumeClaim',
      'PersistentVolumeClaim',
      'PersistentVolumeClaim',
      'Pod',
    ]);
    expect(pod.metadata).toMatchObject({
      name: 'mino-demo',
      labels: { 'app.kubernetes.io/managed-by': 'mino', 'io.mino.session': 'demo' },
    });
  });

  it("runs the image's command as args with the plan's user, workdir and hardening", () => {
    expect(agent).toMatchObject({
      name: 'agent',
      image: 'localhost/mino-base:latest',
      args: ['claude', '--resume'],
      workingDir: '/webapp',
      securityContext: { allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } },
    });
    // The session prelude (the env file's reader) is not needed: secrets come by reference.
    expect(plan.spec.command[0]).not.toBe('claude');
    expect(agent.command).toBeUndefined();
    expect(agent.securityContext.readOnlyRootFilesystem).toBeUndefined();
    expect(pod.spec.securityContext).toEqual({
      runAsUser: 1000,
      runAsGroup: 1000,
      runAsNonRoot: true,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(agent.stdin).toBeUndefined();
  });

  it('gives the container the same variable names, secret ones from the Secret with empty values', () => {
    const names = agent.env.map((e: Obj) => e.name);
    expect(names).toEqual([...Object.keys(plan.spec.env ?? {}), 'ANTHROPIC_API_KEY']);
    expect(names).toContain('DEBUG');
    expect(names).toContain('npm_config_cache');
    expect(agent.env.at(-1)).toEqual({
      name: 'ANTHROPIC_API_KEY',
      valueFrom: { secretKeyRef: { name: 'mino-demo-env', key: 'ANTHROPIC_API_KEY' } },
    });
    expect(byKind(out.objects, 'Secret')).toMatchObject({
      metadata: { name: 'mino-demo-env' },
      type: 'Opaque',
      stringData: { ANTHROPIC_API_KEY: '' },
    });
    expect(out.notes.join('\n')).toMatch(/Fill in the values of the Secret mino-demo-env \(ANTHROPIC_API_KEY\)/);
  });

  it('mounts the project as a hostPath, the named volumes as claims, protected paths of their own, never the env file', () => {
    const mounts = agent.volumeMounts as Obj[];
    const volumes = Object.fromEntries((pod.spec.volumes as Obj[]).map((v) => [v.name, v]));
    const at = (path: string): Obj => mounts.find((m) => m.mountPath === path);
    expect(volumes[at('/webapp').name]).toEqual({ name: 'project', hostPath: { path: P, type: 'Directory' } });
    expect(volumes[at('/home/developer').name].persistentVolumeClaim).toEqual({ claimName: plan.homeVolume });
    expect(volumes[at('/cache/npm').name].persistentVolumeClaim).toEqual({ claimName: 'mino-cache-npm-a1b2c3d4e5f6' });
    expect(volumes[at('/opt/mino/logins').name].persistentVolumeClaim).toEqual({ claimName: 'mino-logins-abc123' });
    // An existing protected path: its own read-only hostPath (podman 4.3 ignores subPath there).
    expect(at('/webapp/.git/hooks')).toMatchObject({ readOnly: true });
    expect(at('/webapp/.git/hooks').subPath).toBeUndefined();
    expect(volumes[at('/webapp/.git/hooks').name].hostPath).toEqual({ path: `${P}/.git/hooks` });
    // A stand-in mino run would create is left out, and said.
    expect(at('/webapp/.mcp.json')).toBeUndefined();
    expect(out.notes.join('\n')).toContain(
      'Not protected in the Pod (absent from the project; mino run protects a stand-in): /webapp/.mcp.json',
    );
    expect(at(SESSION_ENV_PATH)).toBeUndefined();
    expect(JSON.stringify(pod)).not.toContain('/run/user/1001/mino/env');
    expect(new Set(mounts.map((m) => m.name)).size).toBeLessThanOrEqual(Object.keys(volumes).length);
    for (const m of mounts) expect(volumes[m.name], m.name).toBeDefined();
  });

  it('maps --read-only onto readOnlyRootFilesystem and in-memory emptyDirs named after the session', () => {
    const ro = byKind(renderKube(typicalPlan({ readOnly: true }), POD).objects, 'Pod');
    expect(ro.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    const tmp = (ro.spec.volumes as Obj[]).filter((v) => v.emptyDir);
    expect(tmp.map((v) => v.name)).toEqual(['mino-demo-tmp-1', 'mino-demo-tmp-2', 'mino-demo-tmp-3']);
    expect(tmp[0].emptyDir).toEqual({ medium: 'Memory' });
    expect(
      ro.spec.containers[0].volumeMounts
        .filter((m: Obj) => m.name.startsWith('mino-demo-tmp-'))
        .map((m: Obj) => m.mountPath),
    ).toEqual(['/tmp', '/run', '/root']);
  });

  it('names the podman kube play flags of the plan in its header: the rootless mapping, --network none', () => {
    expect(podmanPlayFlags(plan)).toEqual(['--userns=keep-id:uid=1000,gid=1000']);
    const none = typicalPlan({ network: 'none' });
    expect(podmanPlayFlags(none)).toEqual(['--userns=keep-id:uid=1000,gid=1000', '--network=none']);
    expect(podmanPlayFlags(typicalPlan({ rootless: false }))).toEqual([]);
    expect(renderKube(none, POD).comments[1]).toBe(
      'Here: podman kube play --userns=keep-id:uid=1000,gid=1000 --network=none FILE   then: podman kube down FILE',
    );
  });

  it('fences --network none with a deny-all NetworkPolicy and --network host with hostNetwork', () => {
    const none = renderKube(typicalPlan({ network: 'none' }), POD).objects;
    expect(kinds(none)).toEqual(['Secret', 'NetworkPolicy', 'Pod']);
    expect(byKind(none, 'NetworkPolicy').spec).toEqual({
      podSelector: { matchLabels: { 'io.mino.session': 'demo' } },
      policyTypes: ['Egress'],
      egress: [],
    });
    const host = byKind(renderKube(typicalPlan({ network: 'host' }), POD).objects, 'Pod');
    expect(host.spec.hostNetwork).toBe(true);
  });

  it('asks a cluster for a non-root user when the image runs as root, and says so', () => {
    const rootImage = renderKube(typicalPlan({ image: 'localhost/other:1', imageUser: 0, imageGid: 0 }), POD);
    expect(byKind(rootImage.objects, 'Pod').spec.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(rootImage.notes.join('\n')).toMatch(/The image runs as root/);
  });

  it('keeps stdin (and a terminal) for a shell', () => {
    const shell = byKind(renderKube(typicalPlan({ command: [] }), POD).objects, 'Pod').spec.containers[0];
    expect(shell).toMatchObject({ args: ['/bin/bash'], stdin: true, tty: true });
  });

  it('names the objects of any session name validly', () => {
    const odd = renderKube(typicalPlan({ sessionName: 'Fix_Tests' }), POD);
    const name = byKind(odd.objects, 'Pod').metadata.name as string;
    expect(name).toMatch(/^mino-fix-tests-[0-9a-f]{8}$/);
    expect(byKind(odd.objects, 'Secret').metadata.name).toBe(`${name}-env`);
    const long = byKind(renderKube(typicalPlan({ sessionName: 'a'.repeat(64) }), POD).objects, 'Pod').metadata.name;
    expect(long.length).toBeLessThanOrEqual(45);
    // Label values: the session name when Kubernetes takes it, else the base name; the policy selects by the same.
    expect(byKind(odd.objects, 'Pod').metadata.labels['io.mino.session']).toBe('Fix_Tests');
    const trailing = renderKube(typicalPlan({ sessionName: 'fix_', network: 'none' }), POD).objects;
    const label = byKind(trailing, 'Pod').metadata.labels['io.mino.session'];
    expect(label).toMatch(/^mino-fix-[0-9a-f]{8}$/);
    expect(byKind(trailing, 'NetworkPolicy').spec.podSelector.matchLabels['io.mino.session']).toBe(label);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('writes YAML a YAML parser reads back as the objects, and JSON as one List', () => {
    const yaml = formatKube(out, 'yaml');
    expect(yaml.startsWith('# mino kube render: the Pod of session demo')).toBe(true);
    expect(parseAllDocuments(yaml).map((d) => d.toJS())).toEqual(out.objects);
    expect(JSON.parse(formatKube(out, 'json'))).toEqual({ apiVersion: 'v1', kind: 'List', items: out.objects });
  });

  it('refuses an unknown output format as a usage error', () => {
    expect(parseKubeFormat('json')).toBe('json');
    const err = minoErrorOf(() => parseKubeFormat('xml'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe("Invalid output format 'xml'");
  });
});
