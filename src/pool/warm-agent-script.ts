/**
 * The warm agent: a small Node program (fixed text, never built from user input) that a warm
 * container runs as its main process when the image has `node` (mino-base has Node 18). It
 * listens on a unix socket in a host directory mounted into the container (see warm-spec.ts) and
 * serves runs without any podman call: one connection is one command (launch/warm-agent-client.ts
 * speaks the other end, launch/warm-agent-frames.ts is the framing both use).
 *
 * Frames: one type byte, a 4-byte big-endian length, the payload. The agent speaks first ('H',
 * a hello naming the protocol), so the host sends nothing to a socket that is not an agent. The
 * host then sends 'R' (JSON: argv, cwd, env), stdin as 'I' frames and 'E' at its end, signals as
 * 'S' (a signal name); the agent answers 'P' (the command started), 'O'/'X' (stdout/stderr),
 * 'Q' (JSON: the exit code, 128+n for a signal) or 'F' (could not start: nothing ran).
 *
 * Lifetime, as the shell keeper it replaces (pool-scripts.ts): unclaimed, it exits after its time
 * to live (`argv[3]` seconds) or at INT/TERM/HUP, so the container (`--rm`) removes itself. A
 * `podman exec` run (a terminal run, see execute-plan.ts) records its PID in
 * /dev/shm/.mino-pool.pid (`argv[4]` names another file, for tests): the agent then lives while that process lives and hands it the
 * signals it gets. A disconnected client ends its command (SIGHUP, then SIGKILL). After its first
 * command ended the agent exits once no command of its own runs and its clients hung up (they
 * read the exit code first; 2 s at most): a container serves one run. A
 * client may ask it ('L', seconds, at most 120) to linger instead: it then stops listening and
 * removes its socket at once, but exits only after that time or at the first signal, so that
 * mino's refill removes the container (`podman rm`, after a burst of runs) rather than the
 * container's own exit and clean-up competing with the next runs for the CPU.
 */
export const WARM_AGENT_SCRIPT = String.raw`'use strict';
const net = require('net');
const fs = require('fs');
const cp = require('child_process');
const os = require('os');
const dir = process.argv[2];
const ttl = Number(process.argv[3]) * 1000;
const sock = dir + '/sock';
const pidFile = process.argv[4] || '/dev/shm/.mino-pool.pid';
const children = new Set();
let served = false;
let ending = false;
let lingerMs = 0;
let lingering = false;

function frame(type, payload) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}
function execPid() {
  try { const p = Number(fs.readFileSync(pidFile, 'utf8').trim()); return p > 0 ? p : undefined; } catch (e) { return undefined; }
}
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}
function quit() {
  if (ending) return;
  ending = true;
  try { fs.unlinkSync(sock); } catch (e) {}
  const p = execPid();
  if (p !== undefined && alive(p)) {
    // A podman exec run is under way: live while it does, and 2 s more (podman exec collects its code).
    const t = setInterval(() => { if (!alive(p)) { clearInterval(t); setTimeout(() => process.exit(0), 2000); } }, 1000);
    return;
  }
  process.exit(0);
}
function linger() {
  if (lingering || ending) return;
  lingering = true;
  server.close();
  try { fs.unlinkSync(sock); } catch (e) {}
  setTimeout(quit, lingerMs);
}
let conns = 0;
let graceTimer;
function idle() { return served && children.size === 0; }
function settleEnd() { if (idle()) { if (lingerMs > 0) linger(); else quit(); } }
// Its run over, the agent waits for its clients to hang up (they read the exit code, and may ask
// it to linger, first), 2 s at most.
function endIfIdle() {
  if (!idle()) return;
  if (conns === 0) settleEnd();
  else if (!graceTimer) graceTimer = setTimeout(settleEnd, 2000);
}
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(s, () => {
    if (children.size > 0) { for (const c of children) c.signal(s); return; }
    // Its run is over: a signal (podman rm) ends it at once.
    if (served) { quit(); return; }
    const p = execPid();
    if (p !== undefined) { try { process.kill(p, s); } catch (e) {} return; }
    quit();
  });
}
// Unclaimed at the end of its time to live: gone. Claimed, the run decides (endIfIdle).
setTimeout(() => { if (!served) quit(); }, ttl);

function serve(conn) {
  conns++;
  let buf = Buffer.alloc(0);
  let child;
  let killTimer;
  const send = (type, payload) => { if (!conn.destroyed) conn.write(frame(type, payload)); };
  const entry = {
    signal(name) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      try { process.kill(name === 'SIGKILL' ? -child.pid : child.pid, name); } catch (e) {}
      if (name === 'SIGTERM' && !killTimer) killTimer = setTimeout(() => entry.signal('SIGKILL'), 10000);
    },
  };
  const start = (req) => {
    if (child) return;
    let proc;
    try {
      proc = cp.spawn(req.argv[0], req.argv.slice(1), {
        cwd: req.cwd || undefined,
        env: Object.assign({}, process.env, req.env || {}),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      send('F', String(e && e.message));
      conn.end();
      return;
    }
    child = proc;
    children.add(entry);
    served = true;
    let sentExit = false;
    let exited;
    const finish = () => {
      if (sentExit || !exited) return;
      sentExit = true;
      children.delete(entry);
      if (killTimer) clearTimeout(killTimer);
      const [code, sig] = exited;
      const n = typeof code === 'number' ? code : 128 + ((os.constants.signals || {})[sig] || 1);
      send('Q', { code: n });
      conn.end();
      endIfIdle();
    };
    let open = 2;
    const closed = () => { if (--open === 0) finish(); };
    proc.on('error', (e) => {
      if (proc.pid === undefined) { children.delete(entry); send('F', String(e && e.message)); conn.end(); endIfIdle(); }
    });
    if (proc.pid === undefined) return;
    send('P', { pid: proc.pid });
    proc.stdout.on('data', (d) => send('O', d));
    proc.stderr.on('data', (d) => send('X', d));
    proc.stdout.on('close', closed);
    proc.stderr.on('close', closed);
    proc.stdin.on('error', () => {});
    proc.on('exit', (code, sig) => {
      exited = [code, sig];
      // A process the command left behind may hold its output open: do not wait for it long.
      setTimeout(() => { open = 0; finish(); }, 200);
      if (open === 0) finish();
    });
  };
  conn.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const type = String.fromCharCode(buf[0]);
      const body = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      if (type === 'R') {
        let req;
        try { req = JSON.parse(body.toString('utf8')); } catch (e) { req = undefined; }
        if (!req || !Array.isArray(req.argv) || req.argv.length === 0 || !req.argv.every((a) => typeof a === 'string')) {
          send('F', 'bad request');
          conn.end();
          return;
        }
        start(req);
      } else if (type === 'I') {
        if (child) child.stdin.write(body);
      } else if (type === 'E') {
        if (child) child.stdin.end();
      } else if (type === 'S') {
        entry.signal(body.toString('utf8'));
      } else if (type === 'L') {
        const n = Number(body.toString('utf8'));
        if (Number.isFinite(n) && n > 0) lingerMs = Math.min(n, 120) * 1000;
      }
    }
  });
  conn.on('error', () => {});
  conn.on('close', () => {
    // The client went away while its command runs: hang up on the command, as a closed terminal does.
    if (child && child.exitCode === null && child.signalCode === null) {
      entry.signal('SIGHUP');
      setTimeout(() => entry.signal('SIGKILL'), 2000);
    }
    conns--;
    endIfIdle();
  });
  send('H', { agent: 'mino-warm-agent', version: 1 });
}

process.umask(0o177);
try { fs.unlinkSync(sock); } catch (e) {}
const server = net.createServer(serve);
server.on('error', (e) => { process.stderr.write('mino warm agent: ' + e.message + '\n'); process.exit(3); });
server.listen(sock);
`;
