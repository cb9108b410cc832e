import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportSessionNetwork } from '../../../src/run/session-network.js';
import type { RunIo, RunRequest } from '../../../src/run/run-request.js';
import type { RunPlan } from '../../../src/launch/run-plan.js';
import type { NetworkRecord } from '../../../src/network/network-record.js';

/** `--network learn --save` at the end of a session whose agent planted a `.mino.toml` link. */
describe('learn --save', () => {
  let root: string;
  let project: string;
  const secretText = '[container]\nenv = { TOKEN = "s3cret" }\n';
  const saved = { state: process.env.XDG_STATE_HOME, data: process.env.XDG_DATA_HOME };
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-learn-save-')));
    // The save re-pins trust in the user's store: keep it in this test's directory.
    process.env.XDG_STATE_HOME = join(root, 'state');
    process.env.XDG_DATA_HOME = join(root, 'data');
    project = join(root, 'p');
    mkdirSync(project);
    writeFileSync(join(root, 'secret.toml'), secretText);
  });
  afterEach(() => {
    for (const [key, value] of [
      ['XDG_STATE_HOME', saved.state],
      ['XDG_DATA_HOME', saved.data],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(root, { recursive: true, force: true });
  });

  const record: NetworkRecord = {
    version: 1,
    session: 's',
    mode: 'learn',
    policy: { allow: [], deny: [] } as never,
    presets: [],
    started_at: '',
    updated_at: '',
    ended_at: '',
    audit_suppressed: 0,
    destinations: [
      {
        destination: 'example.com:443',
        allowed: 1,
        denied: 0,
        failed: 0,
        rule: null,
        reason: null,
        detail: null,
        first_seen: '',
        last_seen: '',
      } as never,
    ],
  };
  const plan = (): RunPlan =>
    ({ sessionName: 's', projectDir: project, network: { mode: 'learn', egress: {} } }) as unknown as RunPlan;
  const io = (lines: string[]): RunIo =>
    ({ say: (l: string) => lines.push(l), print: (l: string) => lines.push(l) }) as unknown as RunIo;

  it('refuses to save through a .mino.toml link: the host file is neither read into the project nor changed, the rules stay printed', () => {
    symlinkSync(join(root, 'secret.toml'), join(project, '.mino.toml'));
    const lines: string[] = [];
    expect(() => reportSessionNetwork(plan(), { saveLearned: true } as RunRequest, record, io(lines))).toThrow(
      /^network_allow not saved: Project config .*\/p\/\.mino\.toml is a symbolic link/,
    );
    expect(lines.join('\n')).toContain('network_allow = ["example.com:443"]');
    expect(lstatSync(join(project, '.mino.toml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(root, 'secret.toml'), 'utf8')).toBe(secretText);
  });

  it('saves into a regular .mino.toml', () => {
    const lines: string[] = [];
    reportSessionNetwork(plan(), { saveLearned: true } as RunRequest, record, io(lines));
    expect(readFileSync(join(project, '.mino.toml'), 'utf8')).toContain('"example.com:443"');
    expect(lines.join('\n')).toMatch(/Saved network_allow \(1 rule\)/);
    expect(readFileSync(join(root, 'state', 'mino', 'trusted_configs.json'), 'utf8')).toContain(
      join(project, '.mino.toml'),
    );
  });
});
