import { isIPv4, isIPv6 } from 'node:net';
import { destinationOf } from '../destination.js';
import { decide, type EgressPolicy } from '../policy.js';
import { simpleTarget } from './absolute-target.js';
import { parseRequestHead, requestHeadText } from './http-head.js';
import { ResponseFramer } from './response-framer.js';

/**
 * Work a session's first request would otherwise pay, done when the proxy starts (it is idle
 * until the container runs): node's IP address checks compile their regular expressions on first
 * use (`isIPv6`'s alone took 6 to 12 ms here, on the path of the first plain-HTTP request, which
 * then took ~10 ms instead of ~1), and the relay's parsers and the policy's matching compile on
 * their first call. Pure calls on made-up input: nothing is recorded, nothing dialled.
 */

const REQUEST = 'GET http://warm-up.invalid:80/a?b HTTP/1.1\r\nHost: warm-up.invalid\r\nAccept: */*';
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok', 'latin1');

/** Runs the warm-up (see the module comment) with the session's policy (decided, not recorded); never throws. */
export function warmUp(policy: EgressPolicy): void {
  try {
    for (const a of ['127.0.0.1', '::1', 'warm-up.invalid', '[::1]']) {
      isIPv4(a);
      isIPv6(a);
    }
    const dest = destinationOf('warm-up.invalid', 80);
    if (dest) decide(policy, dest);
    destinationOf('127.0.0.1', 80);
    new URL('http://warm-up.invalid:80/');
    destinationOf('[::1]', 80);
    simpleTarget('http://warm-up.invalid:80/a?b');
    const head = parseRequestHead(REQUEST);
    if (!('error' in head)) requestHeadText(head.method, '/a?b', head, head.headers);
    const framer = new ResponseFramer();
    framer.reset('GET', false);
    framer.feed(RESPONSE);
  } catch {
    // a warm-up only
  }
}
