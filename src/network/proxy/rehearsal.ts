import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { newNetworkRecord } from '../network-record.js';
import { policyText, type EgressPolicy } from '../policy.js';
import { parseRules } from '../rule.js';
import { DestinationLog } from './destination-log.js';
import type { EgressServer, EgressServerOptions } from './egress-server.js';

/**
 * A rehearsal of plain-HTTP forwarding when a session's proxy starts, while it waits for its
 * container: node compiles the relay's code on its first call, interprets it, and optimises it
 * after many calls, so a new proxy's first 200 requests cost ~80 µs of CPU each in that code
 * against ~10 µs once warm (~15 ms of a 200-request session's time, on its requests' path). The
 * rehearsal sends requests through a throwaway EgressServer on in-memory streams (a made-up
 * client, a made-up server answering each request at once): its own policy, log and dialer, so
 * nothing is recorded and nothing dialled. Once per process.
 */

const HOST = 'rehearsal.invalid';
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Mon, 07 Dec 2026 00:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok',
  'latin1',
);
/** A rehearsal that has not ended by then is abandoned. */
const GIVE_UP_MS = 2000;

let started = false;

/** An in-memory socket: what is written goes to `onWrite`, what is pushed is read. */
function memorySocket(onWrite: (chunk: Buffer) => void): Socket {
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      callback();
      onWrite(chunk);
    },
  });
  return Object.assign(socket, { setNoDelay: () => socket, setTimeout: () => socket }) as unknown as Socket;
}

/**
 * Rehearses `requests` requests through a server `make` builds (see the module comment);
 * resolves to how many were answered (0: this process rehearsed already). Never rejects.
 */
export function rehearse(make: (options: EgressServerOptions) => EgressServer, requests = 200): Promise<number> {
  if (started) return Promise.resolve(0);
  started = true;
  return new Promise((resolve) => {
    let answered = 0;
    let server: EgressServer | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      server?.close();
      server = undefined;
      resolve(answered);
    };
    const timer = setTimeout(finish, GIVE_UP_MS);
    timer.unref();
    try {
      const policy: EgressPolicy = { mode: 'allowlist', allow: parseRules([`${HOST}:80`]), deny: [] };
      const log = new DestinationLog(
        newNetworkRecord('rehearsal', 'allowlist', policyText(policy), []),
        () => undefined,
        () => undefined,
        0,
      );
      let sent = 0;
      let received = 0;
      const client = memorySocket((chunk) => {
        received += chunk.length;
        if (received < RESPONSE.length) return;
        received = 0;
        answered++;
        if (sent < requests) process.nextTick(next);
        else finish();
      });
      const next = (): void => {
        if (!server) return;
        client.push(
          Buffer.from(
            `GET http://${HOST}/r${sent++} HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: mino-rehearsal\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n`,
            'latin1',
          ),
        );
      };
      server = make({
        session: 'rehearsal',
        policy,
        log,
        dialer: {
          dial: async () => {
            const upstream = memorySocket(() => process.nextTick(() => upstream.push(RESPONSE)));
            return upstream;
          },
        },
      });
      server.handleConnection(client);
      next();
    } catch {
      finish();
    }
  });
}
