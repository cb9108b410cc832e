import { describe, expect, it } from 'vitest';
import { formatPlan, formatPlanLine, planArgs, shellQuote } from '../../../src/launch/plan-format.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { typicalInput } from './plan-input.js';

describe('formatPlan', () => {
  const plan = buildRunPlan(
    typicalInput({
      cliEnv: ['GITHUB_TOKEN=ghp_secret', 'EDITOR=vim', 'MY_PASSWORD=hunter2'],
      command: ['sh', '-c', 'echo TOKEN=abc'],
    }),
  );

  it('redacts secret-looking -e values only', () => {
    const argv = formatPlan(plan);
    expect(argv).toContain('GITHUB_TOKEN=***');
    expect(argv).toContain('MY_PASSWORD=***');
    expect(argv).toContain('EDITOR=vim');
    expect(argv.join(' ')).not.toContain('ghp_secret');
    expect(argv.join(' ')).not.toContain('hunter2');
    // The command is shown exactly.
    expect(argv.slice(-3)).toEqual(['sh', '-c', 'echo TOKEN=abc']);
  });

  it('planArgs is unredacted and formatPlan is podman + the same argv otherwise', () => {
    const args = planArgs(plan);
    expect(args).toContain('GITHUB_TOKEN=ghp_secret');
    expect(args[0]).toBe('run');
    const redacted = formatPlan(plan);
    expect(redacted[0]).toBe('podman');
    expect(redacted).toHaveLength(args.length + 1);
    const diffs = args.filter((a, i) => a !== redacted[i + 1]);
    expect(diffs).toEqual(['GITHUB_TOKEN=ghp_secret', 'MY_PASSWORD=hunter2']);
  });

  it('uses run -d for detached plans', () => {
    expect(formatPlan(buildRunPlan(typicalInput({ detach: true }))).slice(0, 3)).toEqual(['podman', 'run', '-d']);
  });

  it('secret variables show only as the read-only mount of the session env file', () => {
    const argv = formatPlan(
      buildRunPlan(
        typicalInput({
          credentials: { envFile: { hostPath: '/run/user/1001/mino/k/session-env/demo.env', variables: ['GH_TOKEN'] } },
        }),
      ),
    );
    expect(argv).toContain('/run/user/1001/mino/k/session-env/demo.env:/run/secrets/mino-env:ro');
    expect(argv.some((a) => a.includes('GH_TOKEN'))).toBe(false);
  });
});

describe('formatPlanLine', () => {
  it('quotes words for a POSIX shell', () => {
    expect(shellQuote('plain/path:1=2,x@y%')).toBe('plain/path:1=2,x@y%');
    expect(shellQuote('two words')).toBe("'two words'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it('joins the redacted argv', () => {
    const line = formatPlanLine(
      buildRunPlan(typicalInput({ command: ['echo', 'hello world'], cliEnv: ['API_KEY=k'] })),
    );
    expect(line.startsWith('podman run -i -t --rm --pull=never --name mino-demo ')).toBe(true);
    expect(line).toContain(" -e 'API_KEY=***' ");
    expect(line.endsWith(" localhost/mino-base:latest echo 'hello world'")).toBe(true);
  });
});
