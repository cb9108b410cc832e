import { describe, expect, it } from 'vitest';
import { BodyScanner } from '../../../../src/network/proxy/body-scanner.js';

describe('BodyScanner', () => {
  const needles = [Buffer.from('mino-proxy-managed-gh_token-0123'), Buffer.from('mino-proxy-managed-')];

  it('finds a needle inside one piece, or split across any number of pieces', () => {
    const body = Buffer.from(`{"a": "x", "t": "mino-proxy-managed-gh_token-0123", "z": 1}`);
    for (const size of [1, 2, 5, 17, body.length]) {
      const s = new BodyScanner(needles);
      let found = -1;
      for (let at = 0; at < body.length && found === -1; at += size) found = s.scan(body.subarray(at, at + size));
      expect(found, `pieces of ${size}`).not.toBe(-1);
    }
  });

  it('finds nothing in a body without one, however it is cut', () => {
    const body = Buffer.from('mino-proxy-manage d-gh_token-0123 mino-proxy');
    for (const size of [1, 3, body.length]) {
      const s = new BodyScanner(needles);
      for (let at = 0; at < body.length; at += size) expect(s.scan(body.subarray(at, at + size))).toBe(-1);
    }
  });
});
