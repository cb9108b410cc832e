import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { rulePorts } from '../../../src/kube/egress-sidecar.js';
import { formatKube } from '../../../src/kube/kube-format.js';
import { podmanPlayFlags, renderKube } from '../../../src/kube/kube-manifests.js';
import type { KubeRenderOptions } from '../../../src/kube/kube-objects.js';
import { buildRunPlan, type RunPlan } from '../../../src/launch/run-plan.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseRules } from '../../../src/network/rule.js';
import { typicalInput } from '../launch/plan-input.js';

/** Loose access to rendered objects in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test access to plain rendered data
type Obj = any;

const SANDBOX: KubeRenderOptions = {
  form: 'agent-sandbox',
  claims: false,
  warm: 3,
  projectRepo: 'https://git.example.test/team/webapp.git',
};

const ghRule = {
  variable: 'GH_TOKEN',
  placeholder: 'mino-proxy-managed-gh_token-00',
  hosts: ['api.github.com'],
  header: 'Authorization',
  prefix: 'Bearer ',
};

/** `mino run --network-allow api.anthropic.com:443,github.com:22` with a secret and a proxy-only GH_TOKEN. */
function egressPlan(mode: 'allowlist' | 'learn' = 'allowlist'): RunPlan {
  const egress = buildEgressPlan({
    mode,
    rules: parseRules(mode === 'learn' ? [] : ['api.anthropic.com:443', 'github.com:22', 'registry.test:443']),
    presets: [],
    paths: egressPaths('/run/user/1001/mino/egress', 'abc123', 'demo'),
    systemHooksDirs: [],
  });
  return buildRunPlan(
    typicalInput({
      home: true,
      egress,
      credentials: {
        envFile: { hostPath: '/run/user/1001/mino/env/demo', variables: ['ANTHROPIC_API_KEY'] },
        proxy: [ghRule],
        caBundle: '/home/alice/.local/state/mino/ca/session-ca.crt',
      },
    }),
  );
}

const byKind = (objects: Obj[], kind: string): Obj => objects.find((o) => o.kind === kind);

describe('renderKube --agent-sandbox with a warm pool and an egress allowlist', () => {
  const plan = egressPlan();
  const out = renderKube(plan, SANDBOX);
  const template = byKind(out.objects, 'SandboxTemplate');
  const spec = template.spec.podTemplate.spec;
  const agent = spec.containers[0];
  const init = Object.fromEntries((spec.initContainers as Obj[]).map((c) => [c.name, c]));

  it('renders the template, the warm pool, a claim, the Secrets, the policy ConfigMap and the claims (CRD field names)', () => {
    expect(out.objects.map((o: Obj) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`)).toEqual([
      'v1 Secret mino-demo-env',
      'v1 ConfigMap mino-demo-egress',
      'v1 Secret mino-demo-proxy-credentials',
      `v1 PersistentVolumeClaim ${plan.homeVolume}`,
      'extensions.agents.x-k8s.io/v1beta1 SandboxTemplate mino-demo',
      'extensions.agents.x-k8s.io/v1beta1 SandboxWarmPool mino-demo-pool',
      'extensions.agents.x-k8s.io/v1beta1 SandboxClaim mino-demo',
    ]);
    expect(byKind(out.objects, 'SandboxWarmPool').spec).toEqual({
      replicas: 3,
      sandboxTemplateRef: { name: 'mino-demo' },
    });
    expect(byKind(out.objects, 'SandboxClaim').spec).toEqual({ warmPoolRef: { name: 'mino-demo-pool' } });
    // As mino's warm containers: the warm sandboxes idle; the claim names the session's command.
    expect(agent.args.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(agent.args[2]).toMatch(/^trap "exit 0" TERM INT; while :; do sleep 3600/);
    expect(byKind(out.objects, 'SandboxClaim').metadata.annotations).toEqual({
      'io.mino.command': '["claude","--resume"]',
    });
    expect(out.notes.join('\n')).toContain('kubectl exec -it POD -c agent -- claude --resume');
    expect(Object.keys(template.spec)).toEqual([
      'podTemplate',
      'volumeClaimTemplates',
      'networkPolicyManagement',
      'networkPolicy',
    ]);
    expect(template.spec.podTemplate.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'mino',
      'io.mino.session': 'demo',
    });
    // Several warm sandboxes mount the home claim: ReadWriteMany, and a note.
    expect(byKind(out.objects, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(out.notes.join('\n')).toMatch(/ReadWriteMany/);
  });

  it('delivers the project by an init container cloning into the project claim template', () => {
    expect(template.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'project' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
      },
    ]);
    expect((spec.initContainers as Obj[]).map((c) => c.name)).toEqual(['project', 'egress-fence', 'egress-proxy']);
    expect(init.project).toMatchObject({
      image: 'localhost/mino-base:latest',
      env: [
        { name: 'MINO_PROJECT_REPO', value: SANDBOX.projectRepo },
        { name: 'MINO_PROJECT_DIR', value: '/webapp' },
      ],
      volumeMounts: [{ name: 'project', mountPath: '/webapp' }],
    });
    expect(init.project.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(init.project.command[2]).toContain('git fetch -q origin');
    expect(agent.volumeMounts).toContainEqual({ name: 'project', mountPath: '/webapp' });
    // No host path reaches a cluster: the CA bundle is left out, with a note.
    expect(JSON.stringify(out.objects)).not.toContain('hostPath');
    expect(out.notes.join('\n')).toMatch(
      /\/run\/mino\/ca-certificates.crt .* is left out: a cluster has no such host path/,
    );
    // …and the variables naming it, which would point the tools at nothing.
    const names = (agent.env as Obj[]).map((e) => e.name);
    for (const v of ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE']) {
      expect(plan.spec.env?.[v]).toBe('/run/mino/ca-certificates.crt');
      expect(names).not.toContain(v);
    }
    expect(out.notes.join('\n')).toMatch(/Left out with the files they name: .*SSL_CERT_FILE/);
    // The protected paths' git excludes file is one of them: its GIT_CONFIG pair goes whole.
    const git = buildRunPlan(
      typicalInput({
        protect: {
          roots: [{ hostDir: '/home/alice/src/webapp', stubs: true, ancestors: {}, candidates: [] }],
          gitExclude: '/home/alice/.local/share/mino/protect/git-exclude',
        },
      }),
    );
    expect(git.spec.env?.GIT_CONFIG_COUNT).toBe('1');
    const gitEnv = (
      byKind(renderKube(git, SANDBOX).objects, 'SandboxTemplate').spec.podTemplate.spec.containers[0].env as Obj[]
    ).map((e) => e.name);
    expect(gitEnv.filter((n) => n.startsWith('GIT_CONFIG'))).toEqual([]);
  });

  it('runs the egress proxy as a sidecar of its own uid, fenced so only it gets out', () => {
    expect(init['egress-proxy']).toMatchObject({
      restartPolicy: 'Always',
      securityContext: {
        runAsUser: 2000,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    });
    expect(init['egress-fence'].securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN'] });
    expect(init['egress-fence'].command[2]).toContain('iptables -A OUTPUT -m owner --uid-owner 2000 -j ACCEPT');
    expect(init['egress-fence'].command[2]).toContain('ip6tables -A OUTPUT -j REJECT');
    // The agent keeps the proxy variables of mino run (the proxy listens on the Pod's loopback).
    const env = Object.fromEntries((agent.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.HTTPS_PROXY).toBe('http://127.0.0.1:3128');
    const policy = JSON.parse(byKind(out.objects, 'ConfigMap').data['policy.json']);
    expect(policy).toMatchObject({
      mode: 'allowlist',
      listen: '127.0.0.1:3128',
      allow: ['api.anthropic.com:443', 'github.com:22', 'registry.test:443'],
    });
  });

  it('mounts the proxy-only credentials into the proxy only; the agent sees their placeholders', () => {
    const proxyMounts = (init['egress-proxy'].volumeMounts as Obj[]).map((m) => m.name);
    expect(proxyMounts).toEqual(['egress-config', 'proxy-credentials']);
    const agentMounts = (agent.volumeMounts as Obj[]).map((m) => m.name);
    expect(agentMounts).not.toContain('proxy-credentials');
    expect(agentMounts).not.toContain('egress-config');
    expect(spec.volumes).toContainEqual({
      name: 'proxy-credentials',
      secret: { secretName: 'mino-demo-proxy-credentials', defaultMode: 0o400 },
    });
    expect(byKind(out.objects.slice(2), 'Secret').stringData).toEqual({ GH_TOKEN: '' });
    expect(agent.env).toContainEqual({ name: 'GH_TOKEN', value: ghRule.placeholder });
    expect(agent.env.find((e: Obj) => e.name === 'ANTHROPIC_API_KEY').valueFrom).toEqual({
      secretKeyRef: { name: 'mino-demo-env', key: 'ANTHROPIC_API_KEY' },
    });
  });

  it("lets the Pod out to DNS and the allowlist's ports only (the template's NetworkPolicy)", () => {
    expect(template.spec.networkPolicyManagement).toBe('Managed');
    expect(template.spec.networkPolicy).toEqual({
      egress: [
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        {
          ports: [
            { protocol: 'TCP', port: 22 },
            { protocol: 'TCP', port: 443 },
          ],
        },
      ],
    });
    expect(rulePorts(['a:443', '[::1]:8443', '*.b.test:443', 'c:22'])).toEqual([22, 443, 8443]);
  });

  it('reads back through a YAML parser', () => {
    expect(parseAllDocuments(formatKube(out, 'yaml')).map((d) => d.toJS())).toEqual(out.objects);
  });
});

describe('renderKube --agent-sandbox without a warm pool', () => {
  it('renders one Sandbox and a NetworkPolicy object of its own', () => {
    const out = renderKube(egressPlan(), { ...SANDBOX, warm: 0, projectRepo: '' });
    expect(out.objects.map((o: Obj) => o.kind)).toEqual([
      'Secret',
      'ConfigMap',
      'Secret',
      'PersistentVolumeClaim',
      'NetworkPolicy',
      'Sandbox',
    ]);
    const sandbox = byKind(out.objects, 'Sandbox');
    expect(sandbox.spec.podTemplate.spec.containers[0].args).toEqual(['claude', '--resume']);
    expect(sandbox.apiVersion).toBe('agents.x-k8s.io/v1beta1');
    expect(Object.keys(sandbox.spec)).toEqual(['podTemplate', 'volumeClaimTemplates']);
    expect(byKind(out.objects, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(out.notes.join('\n')).toMatch(/Set MINO_PROJECT_REPO .* \(--project-repo\)/);
  });

  it('allows --network learn out to everything but private ranges', () => {
    const out = renderKube(egressPlan('learn'), { ...SANDBOX, warm: 0 });
    const rules = byKind(out.objects, 'NetworkPolicy').spec.egress;
    expect(rules[1].to[0].ipBlock.cidr).toBe('0.0.0.0/0');
    expect(rules[1].to[0].ipBlock.except).toContain('10.0.0.0/8');
    expect(rules[1].to[0].ipBlock.except).toContain('169.254.0.0/16');
  });

  it('leaves the policy to the controller for a plain bridge session, and denies all for --network none', () => {
    const bridge = renderKube(buildRunPlan(typicalInput()), SANDBOX);
    expect(byKind(bridge.objects, 'SandboxTemplate').spec.networkPolicy).toBeUndefined();
    const none = renderKube(buildRunPlan(typicalInput({ network: 'none' })), SANDBOX);
    expect(byKind(none.objects, 'SandboxTemplate').spec.networkPolicy).toEqual({ egress: [] });
  });
});

describe('renderKube: the Pod form of an egress session', () => {
  it('carries the proxy sidecar and the NetworkPolicy, and says it cannot be played here', () => {
    const out = renderKube(egressPlan(), { form: 'pod', claims: false, warm: 0, projectRepo: '' });
    expect(out.objects.map((o: Obj) => o.kind)).toEqual(['Secret', 'ConfigMap', 'Secret', 'NetworkPolicy', 'Pod']);
    const pod = byKind(out.objects, 'Pod');
    expect((pod.spec.initContainers as Obj[]).map((c) => c.name)).toEqual(['egress-fence', 'egress-proxy']);
    expect(out.comments[1]).toBe(
      'Here: not for podman kube play (the egress proxy sidecar has no image yet; on paper)',
    );
    expect(podmanPlayFlags(egressPlan())).toEqual(['--userns=keep-id:uid=1000,gid=1000']);
  });
});

describe('renderKube: the Pod form for a cluster (--project-repo)', () => {
  it('clones the project into an emptyDir by the init container and leaves host paths out', () => {
    const repo = 'https://git.example.test/team/webapp.git';
    const plan = buildRunPlan(
      typicalInput({ credentials: { caBundle: '/home/alice/.local/state/mino/ca/session-ca.crt' } }),
    );
    const out = renderKube(plan, { form: 'pod', claims: true, warm: 0, projectRepo: repo });
    const pod = byKind(out.objects, 'Pod');
    expect(pod.spec.volumes[0]).toEqual({ name: 'project', emptyDir: {} });
    expect((pod.spec.initContainers as Obj[]).map((c) => c.name)).toEqual(['project']);
    expect(pod.spec.initContainers[0].env[0]).toEqual({ name: 'MINO_PROJECT_REPO', value: repo });
    expect(pod.spec.initContainers[0].securityContext).toEqual(pod.spec.containers[0].securityContext);
    expect(JSON.stringify(out.objects)).not.toContain('hostPath');
    expect(out.comments.slice(1)).toEqual([
      'Here: not for podman kube play (the project is cloned from its repository)',
      'A cluster: kubectl apply -f FILE',
    ]);
  });
});
