import { describe, expect, it } from 'vitest';
import { isSecretName, redactArgs } from '../../../src/common/redact.js';

describe('isSecretName', () => {
  it.each([
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'ANTHROPIC_API_KEY',
    'OPENAI_APIKEY',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ACCESS_KEY_ID',
    'DB_PASSWORD',
    'PGPASSWD',
    'SSH_PRIVATE_KEY',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'NPM_AUTH',
    'openai_api_key',
  ])('treats %s as secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'TERM', 'LANG', 'EDITOR', 'NODE_ENV', 'KEYBOARD'])('treats %s as plain', (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe('redactArgs', () => {
  it('masks the values of secret-looking KEY=value arguments only', () => {
    expect(redactArgs(['run', '-e', 'GITHUB_TOKEN=ghp_abc', '-e', 'TERM=xterm', 'localhost/mino-base:latest'])).toEqual(
      ['run', '-e', 'GITHUB_TOKEN=***', '-e', 'TERM=xterm', 'localhost/mino-base:latest'],
    );
  });

  it('masks a value that itself contains =', () => {
    expect(redactArgs(['API_KEY=a=b=c'])).toEqual(['API_KEY=***']);
  });

  it('keeps arguments without a key, or starting with =', () => {
    expect(redactArgs(['--rm', '=TOKEN', 'TOKEN', ''])).toEqual(['--rm', '=TOKEN', 'TOKEN', '']);
  });

  it('does not change the array it was given', () => {
    const args = ['DB_PASSWORD=hunter2'];
    expect(redactArgs(args)).toEqual(['DB_PASSWORD=***']);
    expect(args).toEqual(['DB_PASSWORD=hunter2']);
  });
});
