import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText, validateConfig } from '../../../src/config/config-file.js';
import { configKeys } from '../../../src/config/config-keys.js';
import { globalTemplate, projectTemplate } from '../../../src/config/config-template.js';
import { detectLayers } from '../../../src/config/detect-layers.js';
import { resolveConfig } from '../../../src/config/effective-config.js';

/** The template with every `# key = value` and `# [table]` line uncommented. */
function uncommented(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^# (\[[a-z.]+\]|[a-z_]+ = .*)$/, '$1'))
    .join('\n');
}

describe('templates round-trip through the schema', () => {
  it('config init: parses and validates as written and with every key uncommented', () => {
    const text = globalTemplate();
    validateConfig('t', parseConfigText('t', text));
    const all = parseConfigText('t', uncommented(text));
    validateConfig('t', all);
    // Uncommented, it sets every key (defaults or examples).
    const { sources } = resolveConfig(all, undefined);
    expect(
      configKeys()
        .filter((k) => sources[k.path] !== 'global')
        .map((k) => k.path),
    ).toEqual([]);
    expect(resolveConfig(all, undefined).config.container.network).toBe('bridge');
  });

  it('mino init: suggests layers from lockfiles; the template and its uncommented form are valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-init-'));
    try {
      writeFileSync(join(dir, 'package-lock.json'), '{}');
      writeFileSync(join(dir, 'Cargo.lock'), '');
      const suggested = detectLayers(dir);
      expect(suggested).toEqual([
        { layer: 'typescript', file: 'package-lock.json' },
        { layer: 'rust', file: 'Cargo.lock' },
      ]);
      const text = projectTemplate(suggested);
      expect(text).toContain('# layers = ["typescript", "rust"]');
      const raw = parseConfigText('t', text);
      validateConfig('t', raw);
      expect(raw).toEqual({ container: {}, session: {} });
      const all = parseConfigText('t', uncommented(text));
      validateConfig('t', all);
      expect(all).toMatchObject({
        container: { layers: ['typescript', 'rust'] },
        credentials: { aws: { enabled: true } },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
