import type { Command } from 'commander';
import {
  createNamedVolume,
  listNamedVolumes,
  namedVolumeInfo,
  removeNamedVolume,
  usageText,
  type NamedVolumeView,
} from '../../resources/manage-volumes.js';
import { UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { formatSize } from '../../volume/parse-size.js';
import { sessionCli } from '../global-options.js';
import { notice } from '../notices.js';

const FORMATS = ['table', 'json', 'plain'] as const;

const LIMIT_NOTE = `Size limits are NOT enforced: podman does not cap a volume's size, so a volume can
grow past its limit. mino measures it and warns (in 'volume list' and at 'mino run') when it has.`;

function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The JSON shape of one volume (snake_case, like the metadata file). */
function json(v: NamedVolumeView): Record<string, unknown> {
  return {
    name: v.slug,
    volume: v.volume,
    exists: v.exists,
    size_limit_bytes: v.sizeLimitBytes,
    used_bytes: v.usedBytes ?? null,
    over_limit: v.overLimit,
    created_at: v.createdAt ?? null,
    last_used: v.lastUsed,
    mount_count: v.mountCount,
    ...(v.mountpoint ? { mountpoint: v.mountpoint } : {}),
  };
}

function table(volumes: NamedVolumeView[]): string {
  if (volumes.length === 0) return "No volumes (create one with 'mino volume create NAME')\n";
  const p = palette(process.stdout);
  const head = ['NAME', 'USED / LIMIT', 'MOUNTS', 'LAST USED', 'CREATED'];
  const rows = volumes.map((v) => [
    v.slug,
    v.exists ? usageText(v) : 'missing',
    String(v.mountCount),
    when(v.lastUsed),
    when(v.createdAt),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [p.bold(line(head))];
  for (const [k, r] of rows.entries()) {
    const v = volumes[k];
    const text = line(r);
    out.push(v?.overLimit ? p.red(text) : !v?.exists ? p.dim(text) : text);
  }
  out.push(`${volumes.length} volume(s)`);
  const over = volumes.filter((v) => v.overLimit).map((v) => v.slug);
  if (over.length > 0) out.push(p.red(`Over their size limit: ${over.join(', ')} (not enforced by podman)`));
  if (volumes.some((v) => !v.exists))
    out.push(p.dim("missing: metadata without a podman volume; remove it with 'mino volume rm NAME'"));
  return `${out.join('\n')}\n`;
}

/** `mino volume`: named volumes that persist between sessions. */
export function registerVolume(program: Command): void {
  const volume = program
    .command('volume')
    .description('Named volumes: persistent storage you mount with mino run --volume NAME:/path')
    .addHelpText(
      'after',
      `
Example:
  mino volume create datasets --size 2GB
  mino run --volume datasets:/data -- python train.py
  mino run --volume datasets:/data:ro -- ls /data

${LIMIT_NOTE}`,
    );

  volume
    .command('create')
    .description('Create a named volume (podman volume mino-vol-NAME)')
    .argument('<name>', 'letters, digits, - and _ (starting with a letter or digit), at most 63 characters')
    .option('--size <size>', 'size limit, e.g. 500MB, 2GB, 1.5TB (1 GB = 1024 MB); warned about, not enforced')
    .addHelpText('after', `\n${LIMIT_NOTE}`)
    .action(async (name: string, opts: { size?: string }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const v = await createNamedVolume(ctx, name, opts.size);
      const limit = v.sizeLimitBytes > 0 ? ` (limit ${formatSize(v.sizeLimitBytes)}, not enforced)` : '';
      process.stdout.write(`Created volume ${v.slug}${limit}\n`);
      notice(`Mount it with: mino run --volume ${v.slug}:/data`);
    });

  volume
    .command('list')
    .alias('ls')
    .description('List named volumes with their usage against their size limit')
    .option('-f, --format <format>', 'table, json or plain', 'table')
    .addHelpText(
      'after',
      `
JSON: an array of {name, volume, exists, size_limit_bytes (0 = none), used_bytes, over_limit,
created_at, last_used, mount_count}.

${LIMIT_NOTE}`,
    )
    .action(async (opts: { format: string }, cmd: Command) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table, json or plain');
      }
      const { ctx } = sessionCli(cmd);
      const { volumes, warnings } = await listNamedVolumes(ctx);
      for (const w of warnings) process.stderr.write(`Warning: ${w}\n`);
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(volumes.map(json), null, 2)}\n`);
      else if (opts.format === 'plain') process.stdout.write(volumes.map((v) => `${v.slug}\n`).join(''));
      else process.stdout.write(table(volumes));
    });

  volume
    .command('info')
    .description('Show one named volume: usage, limit, last use and the running sessions mounting it')
    .argument('<name>', 'volume name')
    .option('-f, --format <format>', 'text or json', 'text')
    .action(async (name: string, opts: { format: string }, cmd: Command) => {
      if (opts.format !== 'text' && opts.format !== 'json') {
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format text or json');
      }
      const { ctx } = sessionCli(cmd);
      const v = await namedVolumeInfo(ctx, name);
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify({ ...json(v), used_by: v.users.map((u) => u.session) }, null, 2)}\n`);
        return;
      }
      const rows: Array<[string, string]> = [
        ['Name', v.slug],
        ['Podman volume', v.exists ? v.volume : `${v.volume} (missing)`],
        ['Used', v.usedBytes === undefined ? '-' : formatSize(v.usedBytes)],
        [
          'Limit',
          v.sizeLimitBytes > 0
            ? `${formatSize(v.sizeLimitBytes)} (not enforced)${v.overLimit ? ' - OVER LIMIT' : ''}`
            : 'none',
        ],
        ['Created', when(v.createdAt)],
        ['Last used', when(v.lastUsed)],
        ['Mounts', String(v.mountCount)],
        ['Used by', v.users.length > 0 ? v.users.map((u) => u.session).join(', ') : 'no running session'],
      ];
      if (v.mountpoint) rows.splice(2, 0, ['Mount point', v.mountpoint]);
      const width = Math.max(...rows.map(([k]) => k.length)) + 1;
      process.stdout.write(rows.map(([k, val]) => `${`${k}:`.padEnd(width)} ${val}\n`).join(''));
    });

  volume
    .command('rm')
    .alias('remove')
    .description('Remove a named volume and its data')
    .argument('<name>', 'volume name')
    .option('-f, --force', 'remove it even while sessions mount it (podman removes their containers, ending them)')
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const { removedUsers } = await removeNamedVolume(ctx, name, Boolean(opts.force));
      for (const u of removedUsers)
        process.stderr.write(`Ended session ${u.session} (container ${u.container}), which mounted it\n`);
      process.stdout.write(`Removed volume ${name}\n`);
    });
}
