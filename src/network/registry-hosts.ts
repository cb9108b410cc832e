import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { execCapture } from '../common/exec.js';
import { answerFingerprint, keptAnswers } from './registry-answers.js';
import { cleanRegistryUrl } from '../image/npm-registry.js';
import { HOST_SERVICES_NAME, formatRule, parseRule, type Rule } from './rule.js';

/**
 * The package registries this host's own tools use, read at run time from the user's
 * configuration so the `registries` and `dev` presets follow a mirror configured on the host.
 * Only the user's own configuration counts, never a project's (`.npmrc`, `.cargo/config.toml`,
 * `pip.conf` in a repository could otherwise allowlist any host):
 * - npm: `npm config get registry` (environment, user and global npmrc, npm's own default);
 * - pip: `PIP_INDEX_URL`/`PIP_EXTRA_INDEX_URL`, the pip.conf files (global, XDG, user), else the
 *   default index and file host of the host's own pip (asked from `python3`);
 * - cargo: source replacement and `[registries]` in `$CARGO_HOME/config.toml`, else the
 *   registries cargo has already used on this host (its index cache records their download and
 *   API hosts).
 * Anything not found is reported as a note, never guessed.
 */

/** What discovery reads, injectable for tests. */
export interface RegistrySources {
  env: NodeJS.ProcessEnv;
  homeDir: string;
  /** Runs a host program (argv, no shell) and captures stdout; never throws. */
  run(argv: readonly string[]): Promise<{ exitCode: number; stdout: string }>;
  /** File text, or undefined when it cannot be read. */
  readFile(path: string): string | undefined;
  /** Directory entries, or [] when it cannot be read. */
  listDir(path: string): string[];
}

/** What was found. */
export interface RegistryDiscovery {
  /** Rules for every registry host found, deduplicated. */
  rules: Rule[];
  /** Which rules came from which tool. */
  byTool: { npm: string[]; pip: string[]; cargo: string[] };
  /** Things the user should know (a tool without a registry, an unusable URL). */
  notes: string[];
}

/**
 * The real host: files, directories and programs of this machine; with `answersFile`, the
 * programs' answers are kept there for the next runs (registry-answers.ts).
 */
export function hostRegistrySources(env: NodeJS.ProcessEnv, homeDir: string, answersFile?: string): RegistrySources {
  const ask = async (argv: readonly string[]): Promise<{ exitCode: number; stdout: string }> => {
    const r = await execCapture(argv, { timeoutMs: 10_000, env }).catch(() => undefined);
    return r ? { exitCode: r.exitCode, stdout: r.stdout } : { exitCode: 127, stdout: '' };
  };
  return {
    env,
    homeDir,
    run:
      answersFile === undefined
        ? ask
        : keptAnswers(ask, answersFile, (argv) => answerFingerprint(argv, env, homeDir, process.cwd())),
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    listDir: (path) => {
      try {
        return readdirSync(path);
      } catch {
        return [];
      }
    },
  };
}

/**
 * The rule for a registry URL (`https://host[:port]/…`, `sparse+https://…`); undefined for
 * local files, other schemes and the host's own loopback (a mirror on `localhost` is not reachable
 * under that name from a sandbox).
 */
export function ruleForUrl(text: string): Rule | undefined {
  const value = text.trim().replace(/^(sparse|registry|git)\+/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  try {
    // URL.hostname keeps an IPv6 address in brackets, as a rule writes it.
    const rule = parseRule(`${url.hostname}:${port}`);
    return rule.kind === 'host-service' ? undefined : rule;
  } catch {
    return undefined;
  }
}

function xdgDir(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const v = env[name];
  return v && isAbsolute(v) ? v : fallback;
}

/** Values of `keys` in the given sections of an INI text (pip.conf), continuation lines included. */
export function iniValues(text: string, sections: readonly string[], keys: readonly string[]): string[] {
  const out: string[] = [];
  let section = '';
  let current: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') {
      current = undefined;
      continue;
    }
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      section = header[1]!.trim().toLowerCase();
      current = undefined;
      continue;
    }
    if (/^\s/.test(raw) && current !== undefined) {
      out.push(...raw.trim().split(/\s+/));
      continue;
    }
    const kv = /^\s*([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$/.exec(raw);
    current = undefined;
    if (!kv || !sections.includes(section)) continue;
    const key = kv[1]!.toLowerCase().replace(/_/g, '-');
    if (!keys.includes(key)) continue;
    current = key;
    if (kv[2]!.trim() !== '') out.push(...kv[2]!.trim().split(/\s+/));
  }
  return out;
}

async function npmRules(src: RegistrySources, notes: string[]): Promise<Rule[]> {
  const r = await src.run(['npm', 'config', 'get', 'registry']);
  const url = r.exitCode === 0 ? cleanRegistryUrl(r.stdout) : undefined;
  const rule = url === undefined ? undefined : ruleForUrl(url);
  if (!rule)
    notes.push(
      r.exitCode === 0
        ? 'npm: its registry is not an http(s) URL a sandbox can reach'
        : 'npm: not installed on this host, so no npm registry is known',
    );
  return rule ? [rule] : [];
}

async function pipRules(src: RegistrySources, notes: string[]): Promise<Rule[]> {
  const { env, homeDir } = src;
  const files = [
    '/etc/pip.conf',
    ...xdgDir(env, 'XDG_CONFIG_DIRS', '/etc/xdg')
      .split(':')
      .filter(isAbsolute)
      .map((d) => join(d, 'pip', 'pip.conf')),
    join(homeDir, '.pip', 'pip.conf'),
    join(xdgDir(env, 'XDG_CONFIG_HOME', join(homeDir, '.config')), 'pip', 'pip.conf'),
  ];
  if (env.PIP_CONFIG_FILE && isAbsolute(env.PIP_CONFIG_FILE)) files.push(env.PIP_CONFIG_FILE);
  let index: string | undefined;
  let noIndex = false;
  const extras: string[] = [];
  const sections = ['global', 'install', 'download'];
  for (const file of files) {
    const text = src.readFile(file);
    if (text === undefined) continue;
    index = iniValues(text, sections, ['index-url']).pop() ?? index;
    extras.push(...iniValues(text, sections, ['extra-index-url']));
    const ni = iniValues(text, sections, ['no-index']).pop();
    if (ni !== undefined) noIndex = /^(1|true|yes|on)$/i.test(ni);
  }
  if (env.PIP_INDEX_URL) index = env.PIP_INDEX_URL;
  if (env.PIP_EXTRA_INDEX_URL) extras.push(...env.PIP_EXTRA_INDEX_URL.trim().split(/\s+/));
  if (env.PIP_NO_INDEX) noIndex = /^(1|true|yes|on)$/i.test(env.PIP_NO_INDEX);
  const urls = [...(index !== undefined && !noIndex ? [index] : []), ...extras];
  if (index === undefined && !noIndex) {
    // pip's own default index and file host, from the host's pip (nothing written into mino).
    const r = await src.run([
      'python3',
      '-c',
      'from pip._internal.models.index import PyPI; print(PyPI.url); print("https://" + PyPI.file_storage_domain + "/")',
    ]);
    if (r.exitCode === 0) urls.push(...r.stdout.split('\n').filter((l) => l.trim() !== ''));
    else notes.push('pip: no index-url configured and no pip on this host to ask for its default index');
  }
  return urls.map(ruleForUrl).filter((r): r is Rule => r !== undefined);
}

async function cargoRules(src: RegistrySources, notes: string[]): Promise<Rule[]> {
  const { env, homeDir } = src;
  const cargoHome = env.CARGO_HOME && isAbsolute(env.CARGO_HOME) ? env.CARGO_HOME : join(homeDir, '.cargo');
  const urls: string[] = [];
  let replaced = false;
  const text = src.readFile(join(cargoHome, 'config.toml')) ?? src.readFile(join(cargoHome, 'config'));
  if (text !== undefined) {
    const { parse } = await import('smol-toml');
    let doc: Record<string, unknown> = {};
    try {
      doc = parse(text) as Record<string, unknown>;
    } catch {
      notes.push(`cargo: ${join(cargoHome, 'config.toml')} is not valid TOML; its registries are ignored`);
    }
    const table = (v: unknown): Record<string, unknown> =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    const sources = table(doc.source);
    const replacement = table(sources['crates-io'])['replace-with'];
    if (typeof replacement === 'string') {
      replaced = true;
      const target = table(sources[replacement]);
      for (const key of ['registry', 'git']) if (typeof target[key] === 'string') urls.push(target[key] as string);
    }
    for (const reg of Object.values(table(doc.registries))) {
      const index = table(reg).index;
      if (typeof index === 'string') urls.push(index);
    }
  }
  for (const [key, value] of Object.entries(env)) {
    if (/^CARGO_REGISTRIES_[A-Z0-9_]+_INDEX$/.test(key) && value) urls.push(value);
  }
  if (!replaced) {
    // The registries cargo has used on this host: `registry/index/<host>-<hash>/config.json`
    // holds the index's download (`dl`) and API (`api`) URLs.
    const indexDir = join(cargoHome, 'registry', 'index');
    let found = false;
    for (const entry of src.listDir(indexDir)) {
      const m = /^(.+)-[0-9a-f]{16}$/.exec(entry);
      if (!m) continue;
      found = true;
      urls.push(`https://${m[1]}/`);
      const config = src.readFile(join(indexDir, entry, 'config.json'));
      if (config === undefined) continue;
      try {
        const c = JSON.parse(config) as { dl?: unknown; api?: unknown };
        for (const u of [c.dl, c.api]) if (typeof u === 'string') urls.push(u.replace(/[{}]/g, ''));
      } catch {
        // a damaged cache file: its index host above is still known
      }
    }
    if (!found)
      notes.push(
        `cargo: no source replacement in ${join(cargoHome, 'config.toml')} and no registry used on this host yet, so no cargo registry is known`,
      );
  }
  return urls.map(ruleForUrl).filter((r): r is Rule => r !== undefined);
}

/** Discovers the registry hosts of npm, pip and cargo (in parallel). */
export async function discoverRegistryHosts(src: RegistrySources): Promise<RegistryDiscovery> {
  const toolNotes: [string[], string[], string[]] = [[], [], []];
  const [npm, pip, cargo] = await Promise.all([
    npmRules(src, toolNotes[0]),
    pipRules(src, toolNotes[1]),
    cargoRules(src, toolNotes[2]),
  ]);
  const notes = toolNotes.flat();
  const rules: Rule[] = [];
  const seen = new Set<string>();
  for (const r of [...npm, ...pip, ...cargo]) {
    const key = formatRule(r);
    if (seen.has(key) || r.host === HOST_SERVICES_NAME) continue;
    seen.add(key);
    rules.push(r);
  }
  return { rules, byTool: { npm: npm.map(formatRule), pip: pip.map(formatRule), cargo: cargo.map(formatRule) }, notes };
}
