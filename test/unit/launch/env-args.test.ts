import { describe, expect, it } from 'vitest';
import { EXIT_USAGE, MinoError, UsageError } from '../../../src/common/errors.js';
import { mergeEnv, parseEnvArg } from '../../../src/launch/env-args.js';
import { thrown } from '../../helpers/thrown.js';

describe('parseEnvArg', () => {
  it('splits on the first =', () => {
    expect(parseEnvArg('A=b')).toEqual(['A', 'b']);
    expect(parseEnvArg('URL=http://x/?a=1&b=2')).toEqual(['URL', 'http://x/?a=1&b=2']);
    expect(parseEnvArg('EMPTY=')).toEqual(['EMPTY', '']);
    expect(parseEnvArg('_x9=1')).toEqual(['_x9', '1']);
  });

  it('rejects a value without = as a usage error', () => {
    const err = thrown(() => parseEnvArg('HOME'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(EXIT_USAGE);
    expect(err.message).toBe("Invalid --env 'HOME': expected KEY=VALUE");
    expect(err.hint).toContain('-e NAME to pass');
  });

  it.each([
    ['=x', ''],
    ['1A=x', '1A'],
    ['A-B=x', 'A-B'],
    ['A B=x', 'A B'],
  ])('rejects the invalid key in %j', (arg, key) => {
    const err = thrown(() => parseEnvArg(arg));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`Invalid --env '${arg}': '${key}' is not a valid variable name`);
  });

  it('rejects a NUL byte in the value', () => {
    expect(thrown(() => parseEnvArg('A=x\0y')).message).toBe(
      "Invalid --env 'A=x\\x00y': the value contains a NUL byte",
    );
  });
});

describe('mergeEnv', () => {
  it('applies config < CLI, last CLI value wins', () => {
    const env = mergeEnv({
      configEnv: { A: 'config', B: 'config' },
      cliEnv: ['A=cli1', 'C=cli', 'A=cli2'],
      quietBootstrap: false,
    });
    expect(env).toEqual({ A: 'cli2', B: 'config', C: 'cli' });
    expect(Object.keys(env)).toEqual(['A', 'B', 'C']);
  });

  it('forces MINO_QUIET_BOOTSTRAP=1 after everything else', () => {
    const env = mergeEnv({
      configEnv: { MINO_QUIET_BOOTSTRAP: '0' },
      cliEnv: ['MINO_QUIET_BOOTSTRAP=0'],
      quietBootstrap: true,
    });
    expect(env).toEqual({ MINO_QUIET_BOOTSTRAP: '1' });
    expect(mergeEnv({ quietBootstrap: false })).toEqual({});
    expect(mergeEnv({ quietBootstrap: true })).toEqual({ MINO_QUIET_BOOTSTRAP: '1' });
  });

  it('treats __proto__ as an ordinary variable', () => {
    const env = mergeEnv({ cliEnv: ['__proto__=x'], quietBootstrap: false });
    expect(Object.keys(env)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(env, '__proto__')?.value).toBe('x');
  });

  it('rejects an invalid config key naming the config key, exit 1', () => {
    const err = thrown(() => mergeEnv({ configEnv: { 'BAD-KEY': 'x' }, quietBootstrap: false }));
    expect(err).toBeInstanceOf(MinoError);
    expect(err).not.toBeInstanceOf(UsageError);
    expect(err.message).toBe("Invalid environment variable name 'BAD-KEY' in config container.env");
  });

  it('rejects a non-string or NUL config value', () => {
    const msg = 'Invalid value for A in config container.env: expected a string without NUL bytes';
    expect(thrown(() => mergeEnv({ configEnv: { A: 'x\0' }, quietBootstrap: false })).message).toBe(msg);
    expect(thrown(() => mergeEnv({ configEnv: { A: 3 as unknown as string }, quietBootstrap: false })).message).toBe(
      msg,
    );
  });
});
