import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

/**
 * Every user's home directory from the passwd database (`/etc/passwd`: one small read, no process;
 * users only in LDAP or another NSS source are not seen), for the host path guard: as root,
 * `--volume /home/alice:/a` or `-p /home/alice` would hand the agent another user's keys. Homes
 * that are not canonical absolute paths, and `/`, are left out.
 */

/** One user's home directory. */
export interface PasswdHome {
  user: string;
  home: string;
}

/** The homes in passwd-format text (`name:x:uid:gid:gecos:home:shell`), first entry per home. */
export function parsePasswdHomes(text: string): PasswdHome[] {
  const seen = new Set<string>();
  const out: PasswdHome[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields.length < 7) continue;
    const user = fields[0]!;
    const home = fields[5]!;
    if (!home.startsWith('/') || home === '/' || posix.normalize(home) !== home || home.endsWith('/')) continue;
    if (seen.has(home)) continue;
    seen.add(home);
    out.push({ user, home });
  }
  return out;
}

/** The homes of `/etc/passwd` (empty when it cannot be read); `/root` is always among them. */
export function readUserHomes(path = '/etc/passwd'): PasswdHome[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // no passwd file: only /root
  }
  const homes = parsePasswdHomes(text);
  if (!homes.some((h) => h.home === '/root')) homes.push({ user: 'root', home: '/root' });
  return homes;
}
