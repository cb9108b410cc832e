import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { IN_CI, TEST_IMAGE } from '../../helpers/test-env.js';
import { MODES, Sandbox, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { hostResolver, probeResults, resolvableName, startHostServers, type HostServers } from './network-helpers.js';

requirePrerequisites();

/**
 * An allowlisted session against a process inside it that actively tries to get out, on real
 * Podman, rootful and rootless. The same probes run in a `--network bridge` session first: there
 * they reach the host's servers (so each probe can detect a leak); with an allowlist only the
 * allowed servers answer, through the proxy, whatever the probe does: the proxy variables,
 * unsetting them, `curl --noproxy '*'`, the host's address, the podman gateway, DNS through the
 * resolver, a UDP datagram, SOCKS5, raw TCP through CONNECT, TLS end to end.
 *
 * Rootful sessions run mino-base (curl, bash, getent); rootless ones the busybox test image
 * (wget, nc, nslookup), since the rootless test user has no mino-base. (BusyBox 1.35's `wget -T`
 * crashes, hence `timeout 5 wget`.)
 */

const BASE = 'localhost/mino-base:latest';

let servers: HostServers;
let dnsName: string | undefined;
let resolver: string | undefined;

beforeAll(async () => {
  servers = await startHostServers();
  dnsName = await resolvableName();
  resolver = hostResolver();
});
afterAll(async () => {
  await servers?.close();
});

/** The probe script for mino-base (bash, curl, getent). */
function bashProbe(s: HostServers, name: string, res: string): string {
  return `
A=${s.allowedHttp}; D=${s.deniedHttp}; E=${s.echo}; DE=${s.deniedEcho}; T=${s.tls}; U=${s.udp}; HOSTIP=${s.hostIp}
code() { curl -sS -m 5 -o /dev/null -w '%{http_code}' "$@" 2>/dev/null || true; }
echo "proxy-allowed=$(code http://host.containers.internal:$A/p1)"
echo "proxy-denied=$(code http://host.containers.internal:$D/p2)"
echo "unset=$(env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy -u ALL_PROXY -u all_proxy curl -sS -m 5 -o /dev/null -w '%{http_code}' http://host.containers.internal:$A/p3 2>/dev/null || true)"
echo "noproxy=$(code --noproxy '*' http://host.containers.internal:$A/p4)"
echo "by-ip=$(code --noproxy '*' http://$HOSTIP:$A/p5)"
echo "by-ip-proxy=$(code http://$HOSTIP:$A/p6)"
i=0; for g in ${s.gatewayIps.join(' ')}; do echo "gateway$i=$(code --noproxy '*' http://$g:$A/p7)"; echo "gateway-proxy$i=$(code http://$g:$A/p8)"; i=$((i+1)); done
echo "dns=$(getent hosts ${name} >/dev/null 2>&1 && echo resolved || echo failed)"
q='\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00'
for part in $(echo ${name} | tr . ' '); do q="$q$(printf '\\\\x%02x' \${#part})$part"; done
q="$q\\x00\\x00\\x01\\x00\\x01"
echo "dns-udp=$( (exec 3<>/dev/udp/${res}/53 && printf "$q" >&3 && timeout 3 head -c 12 <&3 | wc -c) 2>/dev/null || echo 0)"
echo "udp=$( (exec 3<>/dev/udp/$HOSTIP/$U && printf ping >&3 && timeout 3 head -c 4 <&3) 2>/dev/null || echo failed)"
echo "tls=$(curl -sS -m 5 --cacert /ca/ca.pem https://host.containers.internal:$T/t1 2>/dev/null || echo failed)"
echo "socks=$(code -x socks5h://127.0.0.1:3128 http://host.containers.internal:$A/s1)"
tunnel() {
  exec 3<>/dev/tcp/127.0.0.1/3128 2>/dev/null || { echo failed; return; }
  printf 'CONNECT host.containers.internal:%s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' "$1" >&3
  IFS= read -r -t 5 status <&3
  while IFS= read -r -t 5 l <&3 && [ -n "$(echo "$l" | tr -d '\\r')" ]; do :; done
  case "$status" in
    *" 200 "*) printf 'ping-%s\\n' "$1" >&3; IFS= read -r -t 5 back <&3; echo "$back";;
    *) echo "$status" | tr -d '\\r';;
  esac
  exec 3>&-
}
echo "echo=$(tunnel $E)"
echo "echo-denied=$(tunnel $DE)"
L=${s.l7Http}
echo "l7-get=$(code http://host.containers.internal:$L/ok/1)"
echo "l7-head=$(code -I http://host.containers.internal:$L/ok/2)"
echo "l7-post=$(code -X POST -d x http://host.containers.internal:$L/ok/3)"
echo "l7-path=$(code http://host.containers.internal:$L/secret)"
echo "l7-climb=$(code --path-as-is http://host.containers.internal:$L/ok/../secret2)"
echo "l7-socks=$(code -x socks5h://127.0.0.1:3128 http://host.containers.internal:$L/ok/socks)"
echo "l7-tunnel=$(tunnel $L)"
raw() { exec 3<>/dev/tcp/127.0.0.1/3128 2>/dev/null || { echo failed; return; }; printf "$1" >&3; timeout 5 cat <&3 | grep -a '^HTTP/' | cut -d' ' -f2 | tr '\\n' ',' ; exec 3>&-; }
echo "keepalive=$(raw "GET http://host.containers.internal:$A/k1 HTTP/1.1\\r\\nHost: host.containers.internal:$A\\r\\n\\r\\nGET http://host.containers.internal:$D/k2 HTTP/1.1\\r\\nHost: host.containers.internal:$A\\r\\nConnection: close\\r\\n\\r\\n")"
echo "http10=$(raw "GET http://host.containers.internal:$D/h10 HTTP/1.0\\r\\nHost: host.containers.internal:$A\\r\\n\\r\\n")"
echo "front-host=$(raw "GET http://host.containers.internal:$A/f1 HTTP/1.1\\r\\nHost: host.containers.internal:$D\\r\\nConnection: close\\r\\n\\r\\n")"
echo "own-port=$(code http://127.0.0.1:$D/o1)"
echo "own-port-proxy=$(raw "GET http://localhost:$A/o2 HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n")"
echo "v6-proxy=$(raw "GET http://[::ffff:$HOSTIP]:$A/v6 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")"
echo "v6-loopback=$(raw "CONNECT [::1]:$A HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")"
echo "v6-direct=$(code --noproxy '*' -g "http://[::ffff:$HOSTIP]:$A/v6d")"
`;
}

/**
 * TLS for the busybox probes, run by `nc -e` on a connection to the proxy (BusyBox's wget sends
 * https URLs to a proxy without CONNECT): CONNECT, then BusyBox's TLS client on the tunnel.
 */
const BUSYBOX_TLS = `#!/bin/sh
printf 'CONNECT host.containers.internal:%s HTTP/1.1\\r\\n\\r\\n' "$1"
read -r status
case "$status" in *" 200 "*) ;; *) echo failed; exit 1;; esac
while read -r l; do [ -z "$(echo "$l" | tr -d '\\r')" ] && break; done
exec 3<&0
printf 'GET /t1 HTTP/1.0\\r\\nHost: host.containers.internal\\r\\n\\r\\n' | ssl_client -s 3 -n host.containers.internal > /tmp/tls-out
`;

/** The probe script for the busybox image (sh, wget, nc, nslookup, tftp for UDP). */
function busyboxProbe(s: HostServers, name: string, res: string): string {
  return `
A=${s.allowedHttp}; D=${s.deniedHttp}; E=${s.echo}; DE=${s.deniedEcho}; T=${s.tls}; U=${s.udp}; HOSTIP=${s.hostIp}
ok() { if timeout 5 wget -q -O /dev/null "$@" 2>/dev/null; then echo ok; else echo failed; fi; }
echo "proxy-allowed=$(ok http://host.containers.internal:$A/p1)"
echo "proxy-denied=$(ok http://host.containers.internal:$D/p2)"
echo "unset=$(env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy -u ALL_PROXY -u all_proxy wget -q -T 5 -O /dev/null http://host.containers.internal:$A/p3 2>/dev/null && echo ok || echo failed)"
echo "noproxy=$(ok -Y off http://host.containers.internal:$A/p4)"
echo "by-ip=$(ok -Y off http://$HOSTIP:$A/p5)"
echo "by-ip-proxy=$(ok http://$HOSTIP:$A/p6)"
i=0; for g in ${s.gatewayIps.join(' ')}; do echo "gateway$i=$(ok -Y off http://$g:$A/p7)"; echo "gateway-proxy$i=$(ok http://$g:$A/p8)"; i=$((i+1)); done
echo "dns=$(nslookup ${name} >/dev/null 2>&1 && echo resolved || echo failed)"
echo "dns-udp=$(nslookup ${name} ${res} >/dev/null 2>&1 && echo resolved || echo failed)"
echo "udp=$(timeout 4 tftp -g -r udp-probe -l /tmp/udp-probe $HOSTIP $U >/dev/null 2>&1; echo sent)"
echo "tls=$(timeout 10 nc 127.0.0.1 3128 -e /probe/tls.sh $T >/dev/null 2>&1; tail -n 1 /tmp/tls-out 2>/dev/null | tr -d '\r' || echo failed)"
echo "echo=$( (printf 'CONNECT host.containers.internal:%s HTTP/1.1\\r\\n\\r\\n' $E; sleep 1; echo ping-$E; sleep 1) | timeout 5 nc 127.0.0.1 3128 2>/dev/null | grep ping | tr -d '\\r')"
echo "echo-denied=$( (printf 'CONNECT host.containers.internal:%s HTTP/1.1\\r\\n\\r\\n' $DE; sleep 1) | timeout 5 nc 127.0.0.1 3128 2>/dev/null | head -n 1 | tr -d '\\r')"
# Only the proxied run has a proxy to try these on (the bridge control would just wait).
if [ -n "$HTTP_PROXY" ]; then
L=${s.l7Http}
echo "l7-get=$(ok http://host.containers.internal:$L/ok/1)"
echo "l7-path=$(ok http://host.containers.internal:$L/secret)"
raw() { (printf "$1"; sleep 1) | timeout 5 nc 127.0.0.1 3128 2>/dev/null | grep '^HTTP/' | cut -d' ' -f2 | tr '\\n' ','; }
echo "l7-post=$(raw "POST http://host.containers.internal:$L/ok/3 HTTP/1.1\\r\\nHost: host.containers.internal:$L\\r\\nContent-Length: 1\\r\\nConnection: close\\r\\n\\r\\nx")" &
echo "l7-tunnel=$(raw "CONNECT host.containers.internal:$L HTTP/1.1\\r\\n\\r\\n")" &
echo "keepalive=$(raw "GET http://host.containers.internal:$A/k1 HTTP/1.1\\r\\nHost: host.containers.internal:$A\\r\\n\\r\\nGET http://host.containers.internal:$D/k2 HTTP/1.1\\r\\nHost: host.containers.internal:$A\\r\\nConnection: close\\r\\n\\r\\n")" &
echo "http10=$(raw "GET http://host.containers.internal:$D/h10 HTTP/1.0\\r\\nHost: host.containers.internal:$A\\r\\n\\r\\n")" &
echo "front-host=$(raw "GET http://host.containers.internal:$A/f1 HTTP/1.1\\r\\nHost: host.containers.internal:$D\\r\\nConnection: close\\r\\n\\r\\n")" &
echo "own-port=$(ok -Y off http://127.0.0.1:$D/o1)"
echo "own-port-proxy=$(raw "GET http://localhost:$A/o2 HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n")" &
echo "v6-proxy=$(raw "GET http://[::ffff:$HOSTIP]:$A/v6 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")" &
echo "v6-loopback=$(raw "CONNECT [::1]:$A HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")" &
wait
fi
`;
}

describe.each(MODES)('an allowlisted session cannot get out [%s]', (as) => {
  const mode = modeLabel(as);
  const rootful = mode === 'rootful';
  let box: Sandbox;
  let project = '';
  let image = '';
  let allowlisted: { stdout: string; stderr: string; exitCode: number };
  let results: Record<string, string>;
  let hits: string[] = [];
  let received: string[] = [];
  let probeDir = '';

  beforeAll(async () => {
    box = new Sandbox(as);
    project = box.project('proj');
    image = rootful ? BASE : TEST_IMAGE;
    probeDir = mkdtempSync(join(tmpdir(), 'mino-test-probe-'));
    chmodSync(probeDir, 0o755);
    writeFileSync(join(probeDir, 'tls.sh'), BUSYBOX_TLS, { mode: 0o755 });
    if (rootful && podmanAs(as, ['image', 'exists', BASE]).status !== 0) {
      throw new Error("mino-base is not built: run 'bin/mino setup --yes' before the integration tests");
    }
    if (!dnsName || !resolver) {
      if (IN_CI) throw new Error('no resolvable name (Debian mirror) or resolver on this host for the DNS probes');
    }
  }, 300_000);
  afterAll(() => {
    box?.cleanup();
    if (probeDir) rmSync(probeDir, { recursive: true, force: true });
  });

  const script = (): string =>
    (rootful ? bashProbe : busyboxProbe)(servers, dnsName ?? 'invalid.invalid', resolver ?? '127.0.0.1');
  const run = (network: string[]): ReturnType<Sandbox['mino']> =>
    box.mino(
      [
        'run',
        '-p',
        project,
        '--image',
        image,
        '--no-home',
        '--volume',
        `${servers.caDir}:/ca:ro`,
        '--volume',
        `${probeDir}:/probe:ro`,
        ...network,
        '--',
        rootful ? 'bash' : 'sh',
        '-c',
        script(),
      ],
      180_000,
    );

  it('control: with --network bridge the probes do reach the host (so they can see a leak)', async () => {
    const before = servers.received.length;
    const r = await run(['--network', 'bridge']);
    expect(r.exitCode, r.stderr).toBe(0);
    const p = probeResults(r.stdout);
    const reached = rootful ? '200' : 'ok';
    expect(p['by-ip'], r.stdout).toBe(reached);
    expect(
      servers.received.slice(before).some((x) => x.startsWith('udp:')),
      r.stdout,
    ).toBe(true);
    if (dnsName) expect(p.dns, r.stdout).toBe('resolved');
    if (rootful && dnsName) expect(p['dns-udp'], r.stdout).toBe('12');
  });

  it('allowlist: runs the probes', async () => {
    const before = servers.hits.length;
    const beforeReceived = servers.received.length;
    allowlisted = await run([
      '--network-allow',
      `host.containers.internal:${servers.allowedHttp},host.containers.internal:${servers.echo},host.containers.internal:${servers.tls}`,
      // HTTPS rules on method and path (issue 20) also judge plain HTTP: GET and HEAD under /ok/ only.
      '--network-allow',
      `GET,HEAD host.containers.internal:${servers.l7Http}/ok/*`,
    ]);
    expect(allowlisted.exitCode, allowlisted.stderr).toBe(0);
    results = probeResults(allowlisted.stdout);
    hits = servers.hits.slice(before);
    received = servers.received.slice(beforeReceived);
    expect(Object.keys(results).length, allowlisted.stdout).toBeGreaterThan(10);
  });

  it('reaches the allowed servers through the proxy: HTTP, TLS end to end (the test CA verifies it), raw TCP through CONNECT', () => {
    expect(results['proxy-allowed']).toBe(rootful ? '200' : 'ok');
    expect(results.tls).toBe('tls-ok /t1');
    expect(results.echo).toBe(`ping-${servers.echo}`);
    if (rootful) expect(results.socks).toBe('200');
    expect(hits).toContain('allowed /p1');
  });

  it('judges requests by HTTPS rules on method and path: GET under /ok/ passes, another method or path gets 403', () => {
    const [passed, blocked] = rootful ? [['200'], ['000', '403']] : [['ok'], ['failed']];
    expect(passed).toContain(results['l7-get']);
    expect(rootful ? blocked : ['403,']).toContain(results['l7-post']);
    expect(blocked).toContain(results['l7-path']);
    expect(hits).toContain('l7 GET /ok/1');
    if (rootful) {
      expect(results['l7-head']).toBe('200');
      expect(results['l7-climb']).toBe('403');
      // No road around the rules: SOCKS5 or CONNECT to the same port is never relayed raw.
      expect(blocked).toContain(results['l7-socks']);
    }
    expect(results['l7-tunnel']).not.toMatch(/ 400|200 Connection/);
    expect(hits.filter((h) => h.startsWith('l7 ')).sort()).toEqual(
      rootful ? ['l7 GET /ok/1', 'l7 HEAD /ok/2'] : ['l7 GET /ok/1'],
    );
  });

  it('escape attempts: a kept-alive connection switching hosts, HTTP/1.0, a Host header of another host, the host own ports, IPv6', () => {
    // Each request of a kept-alive connection is judged by its own destination.
    expect(results.keepalive).toBe('200,403,');
    expect(results.http10).toBe('403,');
    // The request line decides where a request goes; a Host header naming a denied server changes nothing.
    expect(results['front-host']).toBe('200,');
    expect(hits).toContain('allowed /f1');
    expect(results['own-port']).toBe(rootful ? '000' : 'failed');
    expect(results['own-port-proxy']).toBe('403,');
    expect(results['v6-proxy']).toBe('403,');
    expect(results['v6-loopback']).toBe('403,');
    if (rootful) expect(results['v6-direct']).toBe('000');
  });

  it('refuses everything else, whatever the probe tries', () => {
    const blocked = rootful ? ['000', '403'] : ['failed'];
    expect(blocked).toContain(results['proxy-denied']);
    expect(blocked).toContain(results.unset);
    expect(blocked).toContain(results.noproxy);
    expect(blocked).toContain(results['by-ip']);
    expect(blocked).toContain(results['by-ip-proxy']);
    servers.gatewayIps.forEach((_g, i) => {
      expect(blocked).toContain(results[`gateway${i}`]);
      expect(blocked).toContain(results[`gateway-proxy${i}`]);
    });
    expect(results.dns).toBe('failed');
    expect(['0', 'failed']).toContain(results['dns-udp']);
    expect(['failed', 'sent']).toContain(results.udp);
    expect(received.filter((x) => x.startsWith('udp:'))).toEqual([]);
    expect(received.filter((x) => x.startsWith('denied-echo:'))).toEqual([]);
    expect(results['echo-denied']).toMatch(/403 Forbidden/);
    // Nothing reached the denied server, or the allowed one by another road than the proxy.
    const expected = [
      'allowed /p1',
      'allowed /s1',
      'allowed /k1',
      'allowed /f1',
      'l7 GET /ok/1',
      'l7 HEAD /ok/2',
      'tls GET /t1',
    ];
    expect(hits.filter((h) => !expected.includes(h))).toEqual([]);
  });

  it('summarizes the blocked connections when the session ends, and audits each one', () => {
    expect(allowlisted.stderr).toMatch(/mino: blocked \d+ connections?: /);
    expect(allowlisted.stderr).toContain(`host.containers.internal:${servers.deniedHttp}`);
    expect(allowlisted.stderr).toContain(`host.containers.internal:${servers.deniedEcho}`);
    expect(allowlisted.stderr).toMatch(/allow with --network-allow /);
    const audit = readFileSync(join(box.env.XDG_STATE_HOME as string, 'mino', 'audit.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> });
    const denied = audit.filter((e) => e.event === 'network.denied').map((e) => e.data.destination);
    expect(denied).toContain(`host.containers.internal:${servers.deniedHttp}`);
    expect(denied).toContain(`host.containers.internal:${servers.deniedEcho}`);
    expect(denied).toContain(`${servers.hostIp}:${servers.allowedHttp}`);
    // Refused requests of the L7 server are audited too (reason: request).
    expect(
      audit.some(
        (e) =>
          e.event === 'network.denied' &&
          e.data.destination === `host.containers.internal:${servers.l7Http}` &&
          e.data.reason === 'request',
      ),
    ).toBe(true);
    expect(audit.some((e) => e.event === 'network.attached')).toBe(true);
  });
});
