import { afterEach, describe, expect, it, vi } from 'vitest';
import { compareText } from '../../../src/common/compare-text.js';
import { planProtection } from '../../../src/protect/protect-plan.js';
import { poolKeyOf } from '../../../src/pool/pool-key.js';

describe('compareText', () => {
  afterEach(() => vi.restoreAllMocks());

  it('orders by code unit, like a sort without a comparator', () => {
    const words = ['b', 'B', 'a', '.vscode', '.claude/commands', 'A', 'ä', ''];
    expect([...words].sort(compareText)).toEqual([...words].sort());
    expect(compareText('x', 'x')).toBe(0);
  });

  it('keeps ICU off the path of every run: planning protected paths and pool keys never calls localeCompare', () => {
    const spy = vi.spyOn(String.prototype, 'localeCompare');
    planProtection(
      {
        roots: [
          {
            hostDir: '/p',
            stubs: true,
            ancestors: { '.claude': 'absent' },
            candidates: [
              { path: '.vscode', rule: { kind: 'dir', stub: '' }, found: 'dir' },
              { path: '.claude/settings.json', rule: { kind: 'file', stub: '{}\n' }, found: 'absent' },
              { path: '.claude/commands', rule: { kind: 'dir', stub: '' }, found: 'absent' },
              { path: '.idea', rule: { kind: 'dir', stub: '' }, found: 'dir' },
            ],
          },
        ],
      },
      [{ source: '/p', target: '/w/p', readOnly: false }],
    );
    poolKeyOf({ image: 'localhost/x:1', command: ['true'], labels: { b: '1', a: '2', C: '3' } });
    expect(spy).not.toHaveBeenCalled();
  });
});
