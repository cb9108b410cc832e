import type { Command } from 'commander';
import { changeSessionPolicy, sessionNetwork } from '../../lifecycle/network-control.js';
import { UsageError } from '../../common/errors.js';
import { sessionCli } from '../global-options.js';
import { renderNetworkReport } from '../network-render.js';
import { notice } from '../notices.js';

/** `mino network allow|deny|show`: a session's egress policy and what its proxy saw. */
export function registerNetwork(program: Command): void {
  const network = program
    .command('network')
    .description("Change a running session's egress allowlist, or show its connections")
    .addHelpText(
      'after',
      `
Sessions started without a network flag (contained: the agent preset), with --network-allow,
--network-preset or --network learn send all traffic through an egress proxy of their own.
'allow' and 'deny' change its rules while it runs (no restart; tunnels a deny covers close at
once); 'show' lists every destination the session asked for, allowed or blocked.
Rules: HOST:PORT, [IPV6]:PORT, *.example.com:PORT, host.containers.internal:PORT, and HTTPS
rules on method and path, METHODS HOST[:PORT]/PATH (deny rules first, then allow rules, first
match wins; a host with allow rules denies every other request).

Examples:
  mino network allow agent registry.example.com:443
  mino network deny agent '*.example.com:443'
  mino network allow agent 'GET,HEAD api.github.com/repos/OWNER/*'
  mino network deny agent 'GIT-PUSH github.com/*'
  mino network show agent`,
    );

  const change =
    (op: 'allow' | 'deny') =>
    async (name: string, rules: string[], _opts: unknown, cmd: Command): Promise<void> => {
      const { ctx } = sessionCli(cmd);
      const policy = await changeSessionPolicy(ctx, name, op, rules);
      notice(`Session ${name}: ${op === 'allow' ? 'allowed' : 'denied'} ${rules.join(', ')}`);
      if (policy.mode === 'allowlist')
        notice(`  allow: ${policy.allow.length > 0 ? policy.allow.join(', ') : '(nothing)'}`);
      if (policy.deny.length > 0) notice(`  deny:  ${policy.deny.join(', ')}`);
    };

  network
    .command('allow')
    .description('Allow destinations in a running session (HOST:PORT, comma-separated or several)')
    .argument('<name>', 'session name')
    .argument('<rules...>', 'rules, e.g. api.example.com:443')
    .action(change('allow'));

  network
    .command('deny')
    .description('Deny destinations in a running session (wins over allow rules and learn mode)')
    .argument('<name>', 'session name')
    .argument('<rules...>', 'rules, e.g. *.example.com:443')
    .action(change('deny'));

  network
    .command('show')
    .description("A session's egress policy and every destination it asked for")
    .argument('<name>', 'session name')
    .option('-f, --format <format>', 'table or json', 'table')
    .action(async (name: string, opts: { format: string }, cmd: Command) => {
      if (opts.format !== 'table' && opts.format !== 'json')
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table or json');
      const { ctx } = sessionCli(cmd);
      await printSessionNetwork(ctx, name, opts.format);
    });
}

/** Prints a session's network report (shared with `mino logs --network`). */
export async function printSessionNetwork(
  ctx: Parameters<typeof sessionNetwork>[0],
  name: string,
  format: 'table' | 'json' = 'table',
): Promise<void> {
  const { session, record, live } = await sessionNetwork(ctx, name);
  if (format === 'json') {
    process.stdout.write(
      `${JSON.stringify({ session: session.name, network: session.network ?? 'bridge', live, record: record ?? null }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(`${renderNetworkReport(session, record, live).join('\n')}\n`);
}
