import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { isErrno } from '../common/errno.js';
import type { Credential, ProviderName } from './providers/provider.js';

/**
 * Cached provider tokens: `<state>/credentials/<provider>-<hash of the scope>.json`, one per
 * provider and scope (profile, role, region, account, subscription, tenant...), so a second AWS
 * profile never reads the first one's token (mino 1.6 had one fixed key per provider). The
 * directory is 0700 (checked on every use), files are written atomically with mode 0600 from the
 * start (mino 1.6 chmodded after writing), read without following symlinks, and an entry counts as
 * expired 60 s before its expiry, when it is deleted.
 */

/** Entries are treated as expired this long before they really expire. */
export const EXPIRY_MARGIN_MS = 60_000;

interface Entry {
  provider: string;
  secret_env: Record<string, string>;
  plain_env: Record<string, string>;
  expires_at: string;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return (
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
  );
}

/** The cache of one state directory. */
export class CredentialCache {
  constructor(readonly dir: string) {}

  /** File name of an entry: `<provider>-<16 hex of sha256(sorted scope)>.json`. */
  static keyOf(provider: ProviderName, scope: Readonly<Record<string, string>>): string {
    const canonical = JSON.stringify(
      Object.keys(scope)
        .sort()
        .map((k) => [k, scope[k]]),
    );
    return `${provider}-${createHash('sha256').update(`${provider}\0${canonical}`).digest('hex').slice(0, 16)}.json`;
  }

  /** The cached credential, or undefined (missing, unreadable, or expiring within a minute: then deleted). */
  get(provider: ProviderName, scope: Readonly<Record<string, string>>, now: Date): Credential | undefined {
    const path = join(this.dir, CredentialCache.keyOf(provider, scope));
    let text: string;
    try {
      this.checkDir();
      const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const st = fstatSync(fd);
        if (!st.isFile()) return undefined;
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ELOOP')) this.drop(path);
      return undefined;
    }
    let entry: Entry;
    try {
      entry = JSON.parse(text) as Entry;
    } catch {
      this.drop(path);
      return undefined;
    }
    const expires = new Date(entry.expires_at);
    if (
      entry.provider !== provider ||
      !isStringMap(entry.secret_env) ||
      !isStringMap(entry.plain_env) ||
      Number.isNaN(expires.getTime()) ||
      expires.getTime() - EXPIRY_MARGIN_MS <= now.getTime()
    ) {
      this.drop(path);
      return undefined;
    }
    return { secretEnv: entry.secret_env, plainEnv: entry.plain_env, expiresAt: expires };
  }

  /** Stores a credential that has an expiry more than a minute after `now` (others are not cached). */
  put(provider: ProviderName, scope: Readonly<Record<string, string>>, credential: Credential, now: Date): void {
    if (!credential.expiresAt || credential.expiresAt.getTime() - EXPIRY_MARGIN_MS <= now.getTime()) return;
    this.ensureDir();
    const entry: Entry = {
      provider,
      secret_env: credential.secretEnv,
      plain_env: credential.plainEnv,
      expires_at: credential.expiresAt.toISOString(),
    };
    writeFileAtomic(join(this.dir, CredentialCache.keyOf(provider, scope)), `${JSON.stringify(entry)}\n`, {
      mode: 0o600,
    });
  }

  /** Removes every cached credential; returns how many there were. */
  clear(): number {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return 0;
      throw err;
    }
    let count = 0;
    for (const name of names) {
      if (!name.endsWith('.json') && !name.endsWith('.tmp')) continue;
      this.drop(join(this.dir, name));
      if (name.endsWith('.json')) count++;
    }
    return count;
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  private checkDir(): void {
    // 0700 again on every use: a directory widened by hand is narrowed.
    try {
      chmodSync(this.dir, 0o700);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }

  private drop(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  }
}
