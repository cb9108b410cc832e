import { configKeys, configTables, type ConfigKey } from './config-keys.js';
import type { LayerSuggestion } from './detect-layers.js';
import { tomlValue } from '../common/toml-edit.js';

/**
 * Commented templates generated from the schema: `mino config init` (every key with its default)
 * and `mino init` (the project keys people set, with examples). Uncommenting any `# key = value`
 * line gives a valid file; a unit test checks both forms against the schema.
 */

/** Example values for keys whose default does not show how to use them. */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  'container.image': 'localhost/mino-base:latest',
  'container.layers': ['typescript'],
  'container.env': { EDITOR: 'vim' },
  'container.volumes': ['/home/me/data:/data:ro'],
  'container.network_allow': ['api.example.com:443'],
  'container.network': 'bridge',
  'container.network_preset': 'dev',
  'image.base_from': 'localhost/debian:bookworm-slim',
  'session.shell': '/bin/bash',
  'credentials.aws.role_arn': 'arn:aws:iam::123456789012:role/dev',
  'credentials.aws.external_id': 'my-external-id',
  'credentials.aws.profile': 'default',
  'credentials.aws.region': 'eu-west-1',
  'credentials.gcp.project': 'my-project',
  'credentials.gcp.service_account': 'agent@my-project.iam.gserviceaccount.com',
  'credentials.azure.subscription': '00000000-0000-0000-0000-000000000000',
  'credentials.azure.tenant': '00000000-0000-0000-0000-000000000000',
  'engine.name': 'build-server',
};

function example(key: ConfigKey): unknown {
  const e = EXAMPLES[key.path];
  if (e !== undefined) return e;
  return key.defaultValue;
}

function keyLines(key: ConfigKey, value = example(key)): string[] {
  const setting = `# ${key.name} = ${tomlValue(value)}`;
  return [`${setting.padEnd(44)}  # ${key.doc}`];
}

/** The global `config.toml` template: every table, every key commented with its default. */
export function globalTemplate(): string {
  const lines = [
    '# mino configuration. Every key is shown with its default (or an example), commented out.',
    "# 'mino config show' prints the values in effect; 'mino config set KEY VALUE' edits one key.",
    '# A project .mino.toml overrides these for that project (tables merge, lists replace).',
  ];
  for (const table of configTables()) {
    lines.push('', `[${table}]`);
    for (const key of configKeys().filter((k) => k.table === table)) lines.push(...keyLines(key));
  }
  return `${lines.join('\n')}\n`;
}

const PROJECT_KEYS = [
  'container.image',
  'container.network',
  'container.network_allow',
  'container.env',
  'container.volumes',
  'container.workdir',
  'container.read_only',
];

/** The project `.mino.toml` template of `mino init`; detected layers are suggested (commented). */
export function projectTemplate(suggested: readonly LayerSuggestion[]): string {
  const byPath = new Map(configKeys().map((k) => [k.path, k]));
  const lines = [
    '# mino settings for this project; they override your config.toml (tables merge, lists replace).',
    '# Keys that widen what a session can reach (image, layers, network, env, volumes, credentials...)',
    "# take effect only once you trust this file: mino asks on the next run, or run 'mino trust'.",
    '',
    '[container]',
  ];
  const layersKey = byPath.get('container.layers')!;
  if (suggested.length > 0) {
    lines.push(`# Suggested from ${suggested.map((s) => s.file).join(', ')}:`);
    lines.push(
      ...keyLines(
        layersKey,
        suggested.map((s) => s.layer),
      ),
    );
  } else {
    lines.push(...keyLines(layersKey));
  }
  for (const path of PROJECT_KEYS) lines.push(...keyLines(byPath.get(path)!));
  for (const table of ['credentials.aws', 'credentials.gcp', 'credentials.azure']) {
    lines.push('', `# [${table}]`);
    for (const key of configKeys().filter((k) => k.table === table))
      lines.push(...keyLines(key, key.name === 'enabled' ? true : example(key)));
  }
  lines.push('', '[session]', ...keyLines(byPath.get('session.shell')!));
  return `${lines.join('\n')}\n`;
}
