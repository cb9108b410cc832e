import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { folderCycles, folderGraph } from '../../scripts/check-folders.mjs';

type Graph = Map<string, Set<string>>;

const SRC = new URL('../../src/', import.meta.url).pathname;

describe('folders of src/', () => {
  it('import each other without a cycle (scripts/check-folders.mjs)', () => {
    const { graph } = folderGraph() as { graph: Graph };
    expect(graph.size).toBeGreaterThan(10);
    expect(graph.get('cli')?.has('run')).toBe(true);
    expect(folderCycles(graph)).toEqual([]);
  });

  it('the check finds a cycle when there is one', () => {
    const graph: Graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    expect(folderCycles(graph)).toEqual([['a', 'b', 'c']]);
  });

  it('no folder but runtime/ and host/ starts programs through the exec helpers, except the credential providers and the registry lookup', () => {
    const { edges } = folderGraph() as { edges: { from: string; to: string; file: string; spec: string }[] };
    const runsPrograms = (file: string): boolean =>
      /^import (?!type )[^;]*from '[./]*common\/exec\.js'/m.test(readFileSync(join(SRC, file), 'utf8'));
    const users = [...new Set(edges.filter((e) => /common\/exec\.js$/.test(e.spec)).map((e) => e.file))]
      .filter(runsPrograms)
      .sort();
    // The exceptions: provider CLIs (gh, aws…), registry lookups (npm config).
    expect(users.filter((f) => !/^(runtime|host)\//.test(f))).toEqual([
      'credentials/provider-runner.ts',
      'network/registry-hosts.ts',
    ]);
  });

  it('no folder but runtime/ imports an engine implementation (runtime/podman/, runtime/orbstack/): the layers above see ContainerRuntime and its neutral errors only', () => {
    const { edges } = folderGraph() as { edges: { from: string; to: string; file: string; spec: string }[] };
    const engine = /(^|\/)runtime\/(podman|orbstack)\//;
    // The check recognises such an import (runtime/'s own engine selection imports them from inside).
    expect(
      ['../runtime/podman/podman-error.js', '../../runtime/orbstack/orbstack-runtime.js'].every((spec) =>
        engine.test(spec),
      ),
    ).toBe(true);
    expect(engine.test('../runtime/container-runtime.js') || engine.test('../runtime/runtime-errors.js')).toBe(false);
    const leaks = edges.filter((e) => e.from !== 'runtime' && engine.test(e.spec)).map((e) => `${e.file}: ${e.spec}`);
    expect(leaks).toEqual([]);
  });
});
