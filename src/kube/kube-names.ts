import { createHash } from 'node:crypto';

/**
 * Kubernetes names for the objects of a session. Session names allow capitals and `_`, which
 * object names (RFC 1123 labels: lower-case letters, digits, `-`, at most 63 characters) do not:
 * such a name is lower-cased, `_` becomes `-`, and a short hash of the original is appended so two
 * sessions never share one name.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;

/** True when `name` is an RFC 1123 label (a valid name for a Pod, Secret, PVC, volume…). */
export function isDnsLabel(name: string): boolean {
  return name.length <= MAX_LABEL && DNS_LABEL.test(name);
}

/** A short hash of `value` (8 hex digits). */
function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

/**
 * The base name of a session's objects: `mino-<session>` when that is a valid label with room for
 * the longest suffix (`-proxy-credentials`, 18 characters), else a cleaned, shortened form with a
 * hash of the session name.
 */
export function kubeBaseName(sessionName: string): string {
  const plain = `mino-${sessionName}`;
  const room = MAX_LABEL - 18;
  if (isDnsLabel(plain) && plain.length <= room) return plain;
  const cleaned = plain
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, room - 9)
    .replace(/-+$/, '');
  return `${cleaned}-${shortHash(sessionName)}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * The `io.mino.session` label value of a session: its name when Kubernetes takes it as a label
 * value (at most 63 characters, starting and ending with a letter or digit), else its base name.
 */
export function sessionLabelValue(sessionName: string): string {
  return sessionName.length <= MAX_LABEL && LABEL_VALUE.test(sessionName) ? sessionName : kubeBaseName(sessionName);
}
