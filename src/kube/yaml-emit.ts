/**
 * A small YAML emitter for plain data (the manifests of `mino kube render`): objects, arrays,
 * strings, numbers, booleans and null, in block style as Kubernetes documents are usually written.
 * A string is written plain only when YAML cannot read it as anything else (it starts with a
 * letter or `/`, holds only letters, digits and `_ . / -`, and is no YAML 1.1 boolean or null);
 * every other string is written JSON-quoted, which is a valid YAML double-quoted scalar. Keys whose
 * value is undefined are left out.
 */

/** A value the emitter writes. */
export type YamlValue = string | number | boolean | null | undefined | YamlValue[] | { [key: string]: YamlValue };

const PLAIN = /^[A-Za-z/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(y|n|yes|no|on|off|true|false|null)$/i;

/** A scalar as YAML: plain when unambiguous, else JSON-quoted. */
export function yamlScalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Cannot write ${value} as YAML`);
    return String(value);
  }
  return PLAIN.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value);
}

type Container = YamlValue[] | { [key: string]: YamlValue };

function isContainer(value: YamlValue): value is Container {
  return typeof value === 'object' && value !== null;
}

function entries(value: { [key: string]: YamlValue }): [string, YamlValue][] {
  return Object.entries(value).filter(([, v]) => v !== undefined);
}

function isEmpty(value: Container): boolean {
  return Array.isArray(value) ? value.length === 0 : entries(value).length === 0;
}

/** The lines of `value` (a non-empty container) at `indent` spaces. */
function blockLines(value: Container, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === undefined) continue;
      if (!isContainer(item) || isEmpty(item)) {
        out.push(`${pad}- ${inline(item)}`);
        continue;
      }
      // The item's first line goes on the dash line; the rest is indented under it.
      const inner = blockLines(item, indent + 2);
      out.push(`${pad}- ${(inner[0] ?? '').slice(indent + 2)}`, ...inner.slice(1));
    }
    return out;
  }
  for (const [key, item] of entries(value)) {
    const k = yamlScalar(key);
    if (!isContainer(item) || isEmpty(item)) out.push(`${pad}${k}: ${inline(item)}`);
    else out.push(`${pad}${k}:`, ...blockLines(item, Array.isArray(item) ? indent : indent + 2));
  }
  return out;
}

/** A scalar or an empty container on one line. */
function inline(value: YamlValue): string {
  if (isContainer(value)) return Array.isArray(value) ? '[]' : '{}';
  return yamlScalar(value ?? null);
}

/** One YAML document for `value` (an object or array; a scalar gives one line), newline-terminated. */
export function toYaml(value: YamlValue): string {
  if (!isContainer(value) || isEmpty(value)) return `${inline(value)}\n`;
  return `${blockLines(value, 0).join('\n')}\n`;
}

/** Several documents, separated by `---`, after `#` comment lines. */
export function toYamlStream(documents: readonly YamlValue[], comments: readonly string[] = []): string {
  const head = comments.map((c) => `# ${c.replace(/[\r\n]+/g, ' ')}\n`).join('');
  return head + documents.map((d) => `---\n${toYaml(d)}`).join('');
}
