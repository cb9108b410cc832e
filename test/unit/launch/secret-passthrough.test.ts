import { describe, expect, it } from 'vitest';
import { applySecrets } from '../../../src/launch/secret-passthrough.js';
import { thrown } from './plan-input.js';

describe('applySecrets', () => {
  it('passes secrets through and leaves plain env alone when there is no overlap', () => {
    const r = applySecrets({ A: '1' }, { env: [{ secret: 'mino-gh', target: 'GH_TOKEN' }], files: [{ secret: 'mino-aws', target: 'aws', uid: 1000 }] });
    expect(r.env).toEqual({ A: '1' });
    expect(r.secretEnv).toEqual([{ secret: 'mino-gh', target: 'GH_TOKEN' }]);
    expect(r.secretFiles).toEqual([{ secret: 'mino-aws', target: 'aws', uid: 1000 }]);
    expect(r.warnings).toEqual([]);
  });

  it('drops a plain variable a secret provides, with a warning', () => {
    const r = applySecrets({ GH_TOKEN: 'plain', A: '1' }, { env: [{ secret: 'mino-gh', target: 'GH_TOKEN' }] });
    expect(r.env).toEqual({ A: '1' });
    expect(r.warnings).toEqual(['GH_TOKEN is provided by a credential secret; the plain value from -e/config is ignored']);
  });

  it('does not treat inherited object properties as plain variables', () => {
    expect(applySecrets({}, { env: [{ secret: 's', target: 'constructor' }] }).warnings).toEqual([]);
  });

  it('refuses two secrets for one variable or one file', () => {
    expect(thrown(() => applySecrets({}, { env: [{ secret: 'a', target: 'T' }, { secret: 'b', target: 'T' }] })).message)
      .toBe('Two secrets provide the environment variable T');
    expect(thrown(() => applySecrets({}, { files: [{ secret: 'a', target: 'f' }, { secret: 'b', target: 'f' }] })).message)
      .toBe('Two secrets use the file /run/secrets/f');
  });

  it('returns empty lists without secrets', () => {
    expect(applySecrets({ A: '1' }, undefined)).toEqual({ env: { A: '1' }, secretEnv: [], secretFiles: [], warnings: [] });
  });
});
