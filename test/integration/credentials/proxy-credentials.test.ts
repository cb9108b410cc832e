import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionCa, LeafCertificates } from '../../../src/network/proxy/tls-ca.js';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { TEST_IMAGE } from '../../helpers/test-env.js';
import { CredSandbox, leaked, processList, scratchDir } from './cred-helpers.js';
import { egressProxyPids } from '../network/network-helpers.js';
import { sandboxCounters } from '../pool/pool-helpers.js';

requirePrerequisites();

/**
 * Credentials that never enter the sandbox, on real Podman (rootful and rootless). A local HTTPS
 * server on the host (its certificate from a throwaway CA, given to mino as network.upstream_ca)
 * stands in for an API; a `[credentials.canary]` binds CANARY_TOKEN to it. The session sees
 * placeholders only (CANARY_TOKEN, ANTHROPIC_API_KEY, GH_TOKEN/GITHUB_TOKEN from a fake gh); the
 * proxy terminates TLS for the bound host with the session's CA (trusted inside: curl verifies
 * it, rootful on mino-base) and puts the real value in; a placeholder sent to another allowed host
 * is blocked, audited and shown by `mino logs --network`. Then the canary scan: the real values
 * are nowhere in the container's processes or changed files, the logins volume, podman inspect,
 * mino's state (session JSON, audit, network record, logs), the host's process list or the output.
 */

const BASE = 'localhost/mino-base:latest';

const upstreamCa = createSessionCa('test-upstream');
const leaf = new LeafCertificates(upstreamCa).issue('host.containers.internal');
const seen: Array<{ url: string; headers: IncomingMessage['headers'] }> = [];
const plainHits: string[] = [];
let tlsServer: Server;
let plainServer: Server;
let tlsPort = 0;
let plainPort = 0;
let caDir = '';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '0.0.0.0', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  tlsServer = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.end(`tls-ok ${req.url}\n`);
  });
  plainServer = createHttpServer((req, res) => {
    plainHits.push(req.url ?? '');
    res.end('plain-ok\n');
  });
  tlsPort = await listen(tlsServer);
  plainPort = await listen(plainServer);
  caDir = scratchDir('mino-upstream-ca-');
  writeFileSync(join(caDir, 'ca.pem'), upstreamCa.certPem, { mode: 0o644 });
});

afterAll(() => {
  tlsServer?.close();
  plainServer?.close();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

/** TLS for busybox (its wget sends https URLs to a proxy without CONNECT): CONNECT, then ssl_client. */
const BUSYBOX_TLS = `#!/bin/sh
printf 'CONNECT host.containers.internal:%s HTTP/1.1\\r\\n\\r\\n' "$1"
read -r status
case "$status" in *" 200 "*) ;; *) echo failed; exit 1;; esac
while read -r l; do [ -z "$(echo "$l" | tr -d '\\r')" ] && break; done
exec 3<&0
printf 'GET /swap HTTP/1.0\\r\\nHost: host.containers.internal:%s\\r\\nAuthorization: Bearer %s\\r\\n\\r\\n' "$1" "$CANARY_TOKEN" | ssl_client -s 3 -n host.containers.internal > /tmp/tls-out 2>&1
`;

for (const as of MODES) {
  const mode = modeLabel(as);
  const rootful = mode === 'rootful';
  describe(`credentials stay outside the sandbox [${mode}]`, () => {
    let s: CredSandbox;
    afterAll(() => s?.cleanup());

    it('placeholders inside, the real value swapped in at the proxy for its host only, exfiltration blocked and reported, 0 canary hits', async () => {
      s = new CredSandbox(as);
      const project = s.project('proj');
      if (rootful && podmanAs(as, ['image', 'exists', BASE]).status !== 0)
        throw new Error("mino-base is not built: run 'bin/mino setup --yes' before the integration tests");
      const canary = `canary-REAL-${s.tokens.aws.slice(-10)}`;
      const anthropic = `sk-ant-REAL-${s.tokens.az.slice(-10)}`;
      const secrets = [canary, anthropic, s.tokens.gh];
      s.config(
        [
          '[credentials.canary]',
          'variable = "CANARY_TOKEN"',
          `hosts = ["host.containers.internal:${tlsPort}"]`,
          '[network]',
          `upstream_ca = ["${join(caDir, 'ca.pem')}"]`,
          '',
        ].join('\n'),
      );
      const probeDir = scratchDir('mino-tls-probe-');
      writeFileSync(join(probeDir, 'tls.sh'), BUSYBOX_TLS, { mode: 0o755 });
      const env = { CANARY_TOKEN: canary, ANTHROPIC_API_KEY: anthropic };
      const flags = [
        '-p',
        project,
        '--image',
        rootful ? BASE : TEST_IMAGE,
        '--no-home',
        '--volume',
        `${probeDir}:/probe:ro`,
        '--network-allow',
        `host.containers.internal:${tlsPort},host.containers.internal:${plainPort}`,
      ];
      try {
        const dry = await s.minoEnv(['run', '--dry-run', ...flags, '--', 'true'], env);
        expect(dry.exitCode, dry.stderr).toBe(0);
        expect(dry.stdout).toContain("-e 'CANARY_TOKEN=***'");
        expect(dry.stdout).toMatch(/\.ca\.crt:\/run\/mino\/ca-certificates\.crt:ro/);
        expect(dry.stdout).toContain('NODE_EXTRA_CA_CERTS=/run/mino/ca-certificates.crt');
        expect(leaked(dry.stdout + dry.stderr, secrets)).toEqual([]);

        const run = await s.minoEnv(['-vv', 'run', '-d', '-n', 'tls', ...flags, '--', 'sleep', '120'], env);
        expect(run.exitCode, run.stderr).toBe(0);
        const exec = async (script: string): Promise<string> => {
          const r = await s.mino(['exec', 'tls', '--', 'sh', '-c', script]);
          expect(r.exitCode, r.stderr).toBe(0);
          return r.stdout;
        };

        const inside = await exec('printf "%s\\n" "$CANARY_TOKEN" "$ANTHROPIC_API_KEY" "$GH_TOKEN" "$GITHUB_TOKEN"');
        const placeholders = inside.trim().split('\n');
        expect(placeholders).toHaveLength(4);
        for (const p of placeholders) expect(p).toMatch(/^mino-proxy-managed-[a-z_]+-[0-9a-f]{16}$/);

        // The bound host gets the real value (rootful: curl verifies the session CA it trusts).
        const swap = rootful
          ? await exec(
              `curl -sS https://host.containers.internal:${tlsPort}/swap -H "Authorization: Bearer $CANARY_TOKEN"`,
            )
          : await exec(
              `timeout 10 nc 127.0.0.1 3128 -e /probe/tls.sh ${tlsPort} >/dev/null 2>&1; cat /tmp/tls-out; rm -f /tmp/tls-out`,
            );
        expect(swap, swap).toContain('tls-ok /swap');
        expect(seen.at(-1)?.headers.authorization).toBe(`Bearer ${canary}`);

        // A placeholder sent elsewhere is blocked, never forwarded.
        const leak = await exec(
          rootful
            ? `curl -sS http://host.containers.internal:${plainPort}/leak -H "X-T: $GH_TOKEN"`
            : `wget -q -O - --header "X-T: $GH_TOKEN" http://host.containers.internal:${plainPort}/leak 2>&1; true`,
        );
        if (rootful) expect(leak).toContain('placeholder of GH_TOKEN');
        expect(plainHits).not.toContain('/leak');
        const logs = await s.mino(['logs', 'tls', '--network']);
        expect(logs.stdout).toContain(`host.containers.internal:${plainPort}`);
        expect(logs.stdout).toContain('the placeholder of GH_TOKEN was sent to');
        expect(logs.stdout).toContain(
          `Possible exfiltration: a credential placeholder was sent to host.containers.internal:${plainPort}`,
        );

        // The canary scan, while the session runs.
        const changed = podmanAs(as, ['diff', '--format', 'json', 'mino-tls']);
        expect(changed.status, changed.stderr).toBe(0);
        const paths = [
          ...new Set(
            Object.values(JSON.parse(changed.stdout || '{}') as Record<string, string[]>)
              .flat()
              .filter((p) => !p.startsWith('/proc') && !p.startsWith('/sys') && !p.startsWith('/dev')),
          ),
        ];
        const dump = await exec(
          `for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do cat "$f" 2>/dev/null; echo; done; ` +
            `for f in ${paths.map((p) => `'${p}'`).join(' ')} /opt/mino/logins /run/mino; do ` +
            `[ -e "$f" ] && find "$f" -type f -exec cat {} + 2>/dev/null; done; echo scan-done`,
        );
        expect(dump).toContain('scan-done');
        expect(dump).toContain('mino-proxy-managed-');
        expect(leaked(dump, secrets)).toEqual([]);
        const projectFiles = readdirSync(project).filter((f) => statSync(join(project, f)).isFile());
        expect(leaked(projectFiles.map((f) => readFileSync(join(project, f), 'utf8')).join('\n'), secrets)).toEqual([]);
        const inspect = podmanAs(as, ['inspect', 'mino-tls']);
        expect(inspect.status).toBe(0);
        expect(leaked(inspect.stdout, secrets)).toEqual([]);
        expect(leaked(processList(), secrets)).toEqual([]);
        // The proxy holds them in memory only: not in its environment either.
        const proxies = egressProxyPids(s.stateKey, 'tls');
        expect(proxies).toHaveLength(1);
        expect(leaked(readFileSync(`/proc/${proxies[0]}/environ`, 'latin1'), secrets)).toEqual([]);
        expect(s.sessionEnvFiles()).toEqual([]);
        const minoLogs = await s.mino(['logs', 'tls']);
        expect(leaked(run.stdout + run.stderr + minoLogs.stdout + minoLogs.stderr + logs.stdout, secrets)).toEqual([]);

        expect((await s.mino(['stop', '-f', 'tls'])).exitCode).toBe(0);
        const state = s.stateTexts();
        expect(state).toContain('credential-leak');
        expect(leaked(state, secrets)).toEqual([]);
      } finally {
        rmSync(probeDir, { recursive: true, force: true });
      }
    });

    it("served warm: the warm container trusts a CA of its own, the claim hands its proxy the run's credentials, the command gets the placeholders", async () => {
      const w = new CredSandbox(as);
      const project = w.project('proj');
      const probeDir = scratchDir('mino-tls-probe-');
      writeFileSync(join(probeDir, 'tls.sh'), BUSYBOX_TLS, { mode: 0o755 });
      const canary = `canary-WARM-${w.tokens.aws.slice(-10)}`;
      const secrets = [canary, ...w.secrets()];
      w.config(
        [
          '[credentials.canary]',
          'variable = "CANARY_TOKEN"',
          `hosts = ["host.containers.internal:${tlsPort}"]`,
          '[network]',
          `upstream_ca = ["${join(caDir, 'ca.pem')}"]`,
          '[pool]',
          'warm_ttl = 300',
          '',
        ].join('\n'),
      );
      const env = { CANARY_TOKEN: canary };
      const flags = [
        '-p',
        project,
        '--image',
        rootful ? BASE : TEST_IMAGE,
        '--no-home',
        '--no-github',
        '--volume',
        `${probeDir}:/probe:ro`,
        '--network-allow',
        `host.containers.internal:${tlsPort}`,
      ];
      try {
        const warm = await w.minoEnv(['pool', 'warm', '-n', '1', ...flags], env);
        expect(warm.exitCode, warm.stderr).toBe(0);
        const dry = await w.minoEnv(['run', '--dry-run', ...flags, '--', 'true'], env);
        expect(dry.stdout).toMatch(/# Pool: a warm container would serve this run/);
        // The warm container holds no credential before a run claims it.
        const warmName = podmanAs(as, [
          'ps',
          '--format',
          '{{.Names}}',
          '--filter',
          `label=io.mino.state=${w.stateKey}`,
        ]);
        expect(warmName.stdout).toMatch(/mino\.warm\./);
        expect(leaked(podmanAs(as, ['inspect', warmName.stdout.trim().split('\n')[0]!]).stdout, secrets)).toEqual([]);
        const swap = rootful
          ? `curl -sS https://host.containers.internal:${tlsPort}/warm -H "Authorization: Bearer $CANARY_TOKEN"`
          : `cp /probe/tls.sh /tmp/tls.sh; sed -i 's#GET /swap#GET /warm#' /tmp/tls.sh; timeout 10 nc 127.0.0.1 3128 -e /tmp/tls.sh ${tlsPort} >/dev/null 2>&1; cat /tmp/tls-out`;
        const hits = Number(sandboxCounters(w).pool_hits ?? 0);
        const run = await w.minoEnv(['run', ...flags, '--', 'sh', '-c', `echo "token=$CANARY_TOKEN"; ${swap}`], env);
        expect(run.exitCode, run.stderr).toBe(0);
        expect(sandboxCounters(w).pool_hits, run.stderr).toBe(hits + 1);
        expect(run.stdout).toMatch(/^token=mino-proxy-managed-canary_token-[0-9a-f]{16}$/m);
        expect(run.stdout, run.stdout).toContain('tls-ok /warm');
        expect(seen.at(-1)).toMatchObject({ url: '/warm', headers: { authorization: `Bearer ${canary}` } });
        expect(leaked(run.stdout + run.stderr, secrets)).toEqual([]);
        expect(leaked(w.stateTexts(), secrets)).toEqual([]);
        expect(leaked(processList(), secrets)).toEqual([]);
      } finally {
        await w.mino(['pool', 'drain']);
        w.cleanup();
        rmSync(probeDir, { recursive: true, force: true });
      }
    });
  });
}
