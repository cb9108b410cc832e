import { describe, expect, it } from 'vitest';
import { configKeys, OWN_CREDENTIAL_KEYS } from '../../../src/config/config-keys.js';

describe('OWN_CREDENTIAL_KEYS', () => {
  it("names exactly the schema's own keys and tables of [credentials]", () => {
    const fromSchema = new Set(
      configKeys().flatMap((k) => (k.path.startsWith('credentials.') ? [k.path.split('.')[1]!] : [])),
    );
    expect([...OWN_CREDENTIAL_KEYS].sort()).toEqual([...fromSchema].sort());
  });
});
