import { describe, expect, it } from 'vitest';
import { withoutGitConfigPairs } from '../../../src/kube/git-config-env.js';

describe('withoutGitConfigPairs', () => {
  const env: [string, string][] = [
    ['A', '1'],
    ['GIT_CONFIG_COUNT', '3'],
    ['GIT_CONFIG_KEY_0', 'core.excludesFile'],
    ['GIT_CONFIG_VALUE_0', '/run/mino/git-exclude'],
    ['GIT_CONFIG_KEY_1', 'user.name'],
    ['GIT_CONFIG_VALUE_1', 'Alice'],
    ['GIT_CONFIG_KEY_2', 'core.hooksPath'],
    ['GIT_CONFIG_VALUE_2', '/x'],
    ['B', '2'],
  ];

  it('drops the pairs of the values that went and renumbers the rest from 0', () => {
    expect(withoutGitConfigPairs(env, new Set(['GIT_CONFIG_VALUE_0', 'GIT_CONFIG_VALUE_2']))).toEqual([
      ['A', '1'],
      ['GIT_CONFIG_COUNT', '1'],
      ['GIT_CONFIG_KEY_0', 'user.name'],
      ['GIT_CONFIG_VALUE_0', 'Alice'],
      ['B', '2'],
    ]);
  });

  it('drops the count too when no pair is left, and changes nothing when no value went', () => {
    const one: [string, string][] = [
      ['A', '1'],
      ['GIT_CONFIG_COUNT', '1'],
      ['GIT_CONFIG_KEY_0', 'core.excludesFile'],
    ];
    expect(withoutGitConfigPairs(one, new Set(['GIT_CONFIG_VALUE_0']))).toEqual([['A', '1']]);
    expect(withoutGitConfigPairs(env, new Set(['SSL_CERT_FILE']))).toEqual(env);
  });
});
