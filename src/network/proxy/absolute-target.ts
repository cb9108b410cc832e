/**
 * The split of a plain-HTTP proxy request's absolute-form target (`http://host:port/path?q`)
 * without a WHATWG URL parse per request: the authority, and the origin-form path to send. Only
 * targets whose every character means the same to the URL parser and to a plain split take this
 * road (lower-case `http://`, an authority of host characters and a port, a path and query of
 * characters the URL parser leaves as they are, no dot segment); anything else returns undefined
 * and goes through `new URL()`. The authority's destination is still found by the URL parser,
 * once per distinct authority (egress-server.ts caches it).
 */

/** The parts of a simple absolute-form target. */
export interface SimpleTarget {
  /** The authority as written (the cache key of its destination). */
  authority: string;
  /** Origin-form path and query, as `new URL(target)` gives `pathname + search`. */
  path: string;
}

const SCHEME = 'http://';
/** Host names, IPv4 and bracketed IPv6 literals, and a port: no userinfo, no escapes. */
const AUTHORITY = /^[A-Za-z0-9.\-:[\]]+$/;
/**
 * Path then query, of characters neither percent-encoded nor rewritten by the URL parser for the
 * http scheme (not `'`, encoded in queries; not `\`, a slash to it; no `#`).
 */
const PATH_AND_QUERY = /^(?:\/[A-Za-z0-9\-._~!$&()*+,;=:@/%]*)?(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/%?]*)?$/;
/** A `.` or `..` segment, plain or escaped (the URL parser resolves them). */
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

/** See the module comment; undefined: not simple, use the URL parser. */
export function simpleTarget(target: string): SimpleTarget | undefined {
  if (!target.startsWith(SCHEME)) return undefined;
  let end = SCHEME.length;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    end++;
  }
  const authority = target.slice(SCHEME.length, end);
  if (authority === '' || !AUTHORITY.test(authority)) return undefined;
  const rest = target.slice(end);
  if (!PATH_AND_QUERY.test(rest)) return undefined;
  const query = rest.indexOf('?');
  if (DOT_SEGMENT.test(query === -1 ? rest : rest.slice(0, query))) return undefined;
  return { authority, path: rest === '' || rest.startsWith('?') ? `/${rest}` : rest };
}
