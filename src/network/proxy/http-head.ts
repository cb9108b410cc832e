/**
 * HTTP/1.x message heads as the proxy's relay reads them (RFC 9112), without node's HTTP server
 * and client: a request head is parsed strictly (what the proxy judges must be what the server
 * behind it reads: no obs-fold, no bare CR or LF, no duplicate Host, Content-Length or
 * Transfer-Encoding, no Content-Length with Transfer-Encoding, a Transfer-Encoding other than
 * `chunked` refused); a response head only as far as its framing goes (status, Content-Length,
 * Transfer-Encoding, Connection), as the relay passes responses on byte for byte.
 */

/** Longest message head accepted (request line or status line and fields). */
export const MAX_HEAD = 64 * 1024;
/** Most header fields in one request. */
const MAX_FIELDS = 200;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.([01])$/;
/** A field value: visible characters, spaces and tabs (obs-text allowed), nothing else. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** How a request's body is framed. */
type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** The request target as sent (absolute-form, origin-form or authority-form). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  /** Fields by lower-case name; a repeated field is an array, in order. */
  headers: Record<string, string | string[]>;
  body: BodyFraming;
  /** The client asks to close after this exchange (HTTP/1.0 without keep-alive, or `close`). */
  close: boolean;
  /** An Upgrade request (Upgrade field and the `upgrade` connection option). */
  upgrade: boolean;
}

/** A request head that cannot be relayed safely, with the status to answer. */
export interface HeadError {
  error: string;
  status: 400 | 431 | 501;
}

/** Fields that must not repeat in a request (a proxy and a server could read different ones). */
const SINGLE = new Set(['host', 'content-length', 'transfer-encoding']);

/** The lower-case tokens of a Connection field. */
function connectionOptions(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Parses the request head in `text` (latin1, from the request line up to the empty line, both
 * CRLFs of the end excluded).
 */
export function parseRequestHead(text: string): RequestHead | HeadError {
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) return { error: 'malformed request line', status: 400 };
  if (lines.length - 1 > MAX_FIELDS) return { error: 'too many header fields', status: 431 };
  const headers: Record<string, string | string[]> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: 'malformed header field', status: 400 };
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return { error: 'malformed header field name', status: 400 };
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return { error: 'malformed header field value', status: 400 };
    const key = name.toLowerCase();
    const before = headers[key];
    if (before === undefined) headers[key] = value;
    else if (SINGLE.has(key)) return { error: `more than one ${key} field`, status: 400 };
    else if (Array.isArray(before)) before.push(value);
    else headers[key] = [before, value];
  }
  const te = headers['transfer-encoding'] as string | undefined;
  const cl = headers['content-length'] as string | undefined;
  let body: BodyFraming = { kind: 'none' };
  if (te !== undefined) {
    if (cl !== undefined) return { error: 'both Content-Length and Transfer-Encoding', status: 400 };
    if (te.toLowerCase() !== 'chunked') return { error: `transfer coding ${te.slice(0, 40)}`, status: 501 };
    if (m[3] === '0') return { error: 'Transfer-Encoding in an HTTP/1.0 request', status: 400 };
    body = { kind: 'chunked' };
  } else if (cl !== undefined) {
    if (!/^[0-9]{1,15}$/.test(cl)) return { error: 'malformed Content-Length', status: 400 };
    const length = Number(cl);
    if (length > 0) body = { kind: 'length', length };
  }
  const options = connectionOptions(headers.connection);
  const minor = m[3] === '0' ? 0 : 1;
  return {
    method: m[1]!,
    target: m[2]!,
    minor,
    headers,
    body,
    close: options.includes('close') || (minor === 0 && !options.includes('keep-alive')),
    upgrade: headers.upgrade !== undefined && options.includes('upgrade'),
  };
}

/** The framing of a response, from its head. */
export interface ResponseHead {
  status: number;
  /** `none`: no body; `close`: the body runs until the server closes. */
  body: { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };
  /** The server closes the connection after this response. */
  close: boolean;
}

/**
 * The framing of the response head in `text` (as for {@link parseRequestHead}) to a request of
 * `method`; undefined when it is not an HTTP/1.x status line.
 */
export function parseResponseHead(text: string, method: string): ResponseHead | undefined {
  const firstEnd = text.indexOf('\r\n');
  const statusLine = firstEnd === -1 ? text : text.slice(0, firstEnd);
  const m = /^HTTP\/1\.([01]) ([0-9]{3})(?: |$)/.exec(statusLine);
  if (!m) return undefined;
  const status = Number(m[2]);
  let cl: string | undefined;
  let te: string | undefined;
  let connection = '';
  if (firstEnd !== -1) {
    for (const line of text.slice(firstEnd + 2).split('\r\n')) {
      const colon = line.indexOf(':');
      // only the framing fields are read: names of other lengths are not even lower-cased
      if (colon !== 14 && colon !== 17 && colon !== 10) continue;
      const name = line.slice(0, colon).toLowerCase();
      if (name === 'content-length') cl = line.slice(colon + 1).trim();
      else if (name === 'transfer-encoding')
        te = te === undefined ? line.slice(colon + 1).trim() : `${te},${line.slice(colon + 1).trim()}`;
      else if (name === 'connection') connection += `,${line.slice(colon + 1).toLowerCase()}`;
    }
  }
  const options = connectionOptions(connection);
  let close = options.includes('close') || (m[1] === '0' && !options.includes('keep-alive'));
  let body: ResponseHead['body'];
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) body = { kind: 'none' };
  else if (te !== undefined) {
    const codings = te.toLowerCase().split(',');
    body = codings[codings.length - 1]!.trim() === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  } else if (cl !== undefined && /^[0-9]{1,15}$/.test(cl)) body = { kind: 'length', length: Number(cl) };
  else if (cl !== undefined) body = { kind: 'close' };
  else body = { kind: 'close' };
  if (body.kind === 'close') close = true;
  return { status, body, close };
}

const BAD_VALUE = /[\r\n\0]/;

/**
 * The head of a request to send upstream: request line (origin-form `path`), the fields, the
 * framing fields of a body relayed as the client framed it, `Connection: Upgrade` for an upgrade,
 * and the empty line. Throws when a field (a rewriter's) would break the head.
 */
export function requestHeadText(
  method: string,
  path: string,
  request: Pick<RequestHead, 'minor' | 'body' | 'upgrade'>,
  headers: Record<string, string | string[]>,
): string {
  if (!TOKEN.test(method) || !/^[\x21-\x7e\x80-\xff]+$/.test(path)) throw new Error('invalid request line');
  let head = `${method} ${path} HTTP/1.${request.minor}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (!TOKEN.test(name)) throw new Error(`invalid header field name ${JSON.stringify(name.slice(0, 40))}`);
    if (Array.isArray(value)) {
      for (const v of value) {
        if (BAD_VALUE.test(v)) throw new Error(`invalid value of header field ${name}`);
        head += `${name}: ${v}\r\n`;
      }
    } else {
      if (BAD_VALUE.test(value)) throw new Error(`invalid value of header field ${name}`);
      head += `${name}: ${value}\r\n`;
    }
  }
  if (request.body.kind === 'chunked') head += 'transfer-encoding: chunked\r\n';
  if (request.upgrade) head += 'connection: Upgrade\r\n';
  return `${head}\r\n`;
}
