import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * The address of a Podman engine mino drives with podman's remote client (`podman --url`):
 * `ssh://user@host[:port]/path/to/podman.sock` (another machine, or another user here, over
 * ssh) or `unix:///path/to/podman.sock` (a socket on this machine). Parsed and checked once, when
 * the engine is added, and again whenever a record is read, so a URL never reaches podman unchecked.
 */

/** A parsed, valid engine URL. */
export type EngineUrl =
  | { scheme: 'ssh'; user: string; host: string; port: number | undefined; socket: string; text: string }
  | { scheme: 'unix'; socket: string; text: string };

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^\[[0-9a-f:.]{2,45}\]$/i;
const SOCKET = /^\/[A-Za-z0-9._/+-]{1,4095}$/;

const HINT =
  'Use ssh://user@host[:port]/path/to/podman.sock or unix:///path/to/podman.sock (the socket of `podman system service`)';

function bad(url: string, why: string): UsageError {
  return new UsageError(`Invalid engine URL '${printable(url)}': ${why}`, HINT);
}

function checkSocket(url: string, socket: string): string {
  if (!SOCKET.test(socket)) return throwBad(url, 'the socket must be an absolute path of letters, digits and ._/+-');
  if (socket.split('/').some((part) => part === '..' || part === '.'))
    return throwBad(url, 'the socket path must not contain . or .. components');
  return socket;
}

function throwBad(url: string, why: string): never {
  throw bad(url, why);
}

/** `host[:port]` or `[v6]:port`, split (the port unchecked). */
function splitHostPort(text: string): { host: string; port: string | undefined } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { host: text, port: undefined };
    const rest = text.slice(close + 1);
    return {
      host: text.slice(0, close + 1),
      port: rest.startsWith(':') ? rest.slice(1) : rest === '' ? undefined : rest,
    };
  }
  const colon = text.lastIndexOf(':');
  return colon < 0 ? { host: text, port: undefined } : { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** Parses and checks an engine URL; throws a UsageError (exit 2) naming what is wrong. */
export function parseEngineUrl(text: string): EngineUrl {
  if (text.length > 4200 || /[\0-\x20\x7f]/.test(text)) throw bad(text, 'it contains spaces or control characters');
  if (text.startsWith('unix://')) {
    return { scheme: 'unix', socket: checkSocket(text, text.slice('unix://'.length)), text };
  }
  if (!text.startsWith('ssh://')) throw bad(text, 'the scheme must be ssh:// or unix://');
  const rest = text.slice('ssh://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad(text, 'the path of the podman socket on the engine is missing');
  const authority = rest.slice(0, slash);
  const socket = checkSocket(text, rest.slice(slash));
  const at = authority.lastIndexOf('@');
  if (at <= 0) throw bad(text, 'the user is missing (ssh://user@host/...)');
  const user = authority.slice(0, at);
  if (!USER.test(user)) throw bad(text, `'${printable(user)}' is not a valid user name`);
  const { host: hostPort, port: portText } = splitHostPort(authority.slice(at + 1));
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(text, 'the port must be a number');
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(text, `port ${portText} is out of range (1-65535)`);
  }
  if (!(HOST_NAME.test(hostPort) || IPV4.test(hostPort) || IPV6.test(hostPort)))
    throw bad(text, `'${printable(hostPort)}' is not a host name or IP address`);
  return { scheme: 'ssh', user, host: hostPort, port, socket, text };
}

/**
 * The URL as podman's remote client takes it: podman 4.3 needs the ssh port spelled out
 * (`ssh://user@host/…` fails with "strconv.Atoi"), so 22 is added when the URL has none.
 */
export function podmanUrl(url: EngineUrl): string {
  if (url.scheme === 'unix') return url.text;
  return `ssh://${url.user}@${url.host}:${url.port ?? 22}${url.socket}`;
}

/** Where an engine runs, for people: `user@host:port` or `this machine (socket)`. */
export function describeEngineUrl(url: EngineUrl): string {
  if (url.scheme === 'unix') return `this machine (${url.socket})`;
  return `${url.user}@${url.host}${url.port === undefined ? '' : `:${url.port}`}`;
}
