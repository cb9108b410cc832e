/**
 * The host's apt sources, read to find the Debian mirror debootstrap should use (corporate and
 * air-gapped hosts only reach their own mirror). Understands one-line `.list` files and deb822
 * `.sources` files.
 */

/** One `deb` source: a mirror URI, its suites and components. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  /** The file it came from (for messages). */
  file: string;
}

/** Debian release names debootstrap knows, plus the archive aliases. */
const DEBIAN_SUITES = /^(buster|bullseye|bookworm|trixie|forky|sid|oldoldstable|oldstable|stable|testing|unstable)$/;

function isHttp(uri: string): boolean {
  return /^https?:\/\/[^\s/]+/.test(uri);
}

/** Parses a one-line-style sources.list (`deb [options] URI suite [component...]`). */
export function parseSourcesList(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const withoutOptions = line.replace(/\[[^\]]*\]/, ' ');
    const [type, uri, suite, ...components] = withoutOptions.split(/\s+/).filter(Boolean);
    if (type !== 'deb' || !uri || !suite) continue;
    out.push({ uri, suites: [suite], components, file });
  }
  return out;
}

/** Parses a deb822 `.sources` file: stanzas separated by blank lines, `Key: value` fields. */
export function parseDeb822Sources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  const stanzas = text.split(/\n[ \t]*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^[ \t]/.test(raw) && last) {
        // Continuation line of a multi-line field.
        fields.set(last, `${fields.get(last) ?? ''} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    const words = (key: string): string[] => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb')) continue;
    if (/^(no|false)$/i.test(fields.get('enabled') ?? 'yes')) continue;
    for (const uri of words('uris')) {
      out.push({ uri, suites: words('suites'), components: words('components'), file });
    }
  }
  return out;
}

/**
 * The mirror to debootstrap Debian from: the first http(s) source carrying a Debian release
 * suite (not `-security`/`-updates`), preferring one with `main`. Undefined when none fits
 * (e.g. an Ubuntu or Fedora host).
 */
export function pickDebianMirror(sources: readonly AptSource[]): string | undefined {
  const fits = sources.filter((s) => isHttp(s.uri) && s.suites.some((suite) => DEBIAN_SUITES.test(suite)));
  const best = fits.find((s) => s.components.length === 0 || s.components.includes('main')) ?? fits[0];
  return best?.uri.replace(/\/+$/, '');
}

/** Parses one apt sources file by its name (`*.list` or `*.sources`); other names give nothing. */
export function parseAptSourcesFile(file: string, text: string): AptSource[] {
  if (file.endsWith('.sources')) return parseDeb822Sources(text, file);
  if (file.endsWith('.list')) return parseSourcesList(text, file);
  return [];
}
