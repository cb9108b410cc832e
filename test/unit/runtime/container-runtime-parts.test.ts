import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const SOURCE = readFileSync(new URL('../../../src/runtime/container-runtime.ts', import.meta.url), 'utf8');

/** Interface name → its method names, from the source text (one signature per member line). */
function interfaces(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of SOURCE.matchAll(/^export interface (\w+)(?:\s+extends [^{]+)?\s*\{\n([\s\S]*?)^\}/gm)) {
    out.set(
      m[1] ?? '',
      [...(m[2] ?? '').matchAll(/^ {2}(\w+)\(/gm)].map((x) => x[1] ?? ''),
    );
  }
  return out;
}

describe('ContainerRuntime is split by resource', () => {
  it('into parts of at most 12 methods each, which ContainerRuntime extends without adding any', () => {
    const all = interfaces();
    const parts = [...all].filter(([name]) => name.endsWith('Client'));
    expect(parts.map(([name]) => name)).toEqual([
      'EngineClient',
      'ContainerLifecycleClient',
      'ContainerExecClient',
      'ImageClient',
      'VolumeClient',
      'SecretClient',
      'NetworkClient',
    ]);
    for (const [name, methods] of parts) expect(methods.length, name).toBeLessThanOrEqual(12);
    const extended = /^export interface ContainerRuntime\s+extends ([^{]+)\{\}$/m
      .exec(SOURCE)?.[1]
      ?.split(',')
      .map((s) => s.trim())
      .sort();
    expect(extended).toEqual(parts.map(([name]) => name).sort());
    // Every method in exactly one part.
    const methods = parts.flatMap(([, m]) => m);
    expect(new Set(methods).size).toBe(methods.length);
    expect(methods.length).toBeGreaterThan(40);
  });
});
