import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { parseKubeFormat } from '../../kube/kube-format.js';
import { DEFAULT_POOL_SETTINGS } from '../../pool/pool-settings.js';
import { kubeRender } from '../../run/kube-render.js';
import { addRunOptions, runInputsOf, type RunOptions } from '../run-options.js';

/** Flags of `mino kube render` besides the run flags. */
interface KubeOptions {
  output: string;
  agentSandbox?: boolean;
  claims?: boolean;
  warm?: string;
  projectRepo?: string;
}

/** `--warm`: a whole number from 0 to 100. */
function parseWarm(value: string): number {
  const n = /^[0-9]{1,3}$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
  if (!(n >= 0 && n <= 100))
    throw new UsageError(`Invalid --warm '${value.slice(0, 40)}'`, 'Use a whole number from 0 to 100');
  return n;
}

/** `--project-repo`: one line of printable text (the init container's git URL). */
function parseRepo(value: string): string {
  if (value === '' || value.length > 2048 || /[\0-\x1f\x7f]/.test(value))
    throw new UsageError(
      'Invalid --project-repo: not a git URL',
      'Use e.g. --project-repo https://example.com/team/app.git',
    );
  return value;
}

/**
 * `mino kube render [run flags…] [-- command]`: the Kubernetes manifests of the plan `mino run`
 * would run with the same flags (run/kube-render.ts). Every run flag is validated as `mino run`
 * validates it; flags of its own are checked first, before anything is planned.
 */
export function registerKube(program: Command): void {
  const kube = program.command('kube').description('Kubernetes manifests of a mino session (render)');
  addRunOptions(
    kube
      .command('render')
      .description('Print the Kubernetes manifests of the session mino run would start with these flags')
      .option('-o, --output <format>', 'yaml or json', 'yaml')
      .option(
        '--agent-sandbox',
        'render kubernetes-sigs/agent-sandbox resources (Sandbox, SandboxTemplate, SandboxWarmPool)',
      )
      .option(
        '--warm <n>',
        'with --agent-sandbox: sandboxes kept warm by a SandboxWarmPool (default: pool.min_warm; 0: none)',
      )
      .option('--claims', 'also render PersistentVolumeClaims for the volumes (always with --agent-sandbox)')
      .option(
        '--project-repo <url>',
        'clone the project from this git URL in an init container, for a cluster (default: the directory as a hostPath; with --agent-sandbox a URL to fill in)',
      )
      .argument('[command...]', 'command and arguments, after --'),
  )
    .passThroughOptions()
    .addHelpText(
      'after',
      `
The default output is a Pod (and the Secret, NetworkPolicy and claims it needs) that
'podman kube play' runs here as it is: the project is a hostPath, the home and cache volumes are
claims named like their podman volumes. Secret variables are listed by name in a Secret whose
values you fill in; mino never writes them. See docs/kubernetes.md.

Examples:
  mino kube render -- claude > session.yaml && podman kube play session.yaml
  mino kube render --network-preset dev --agent-sandbox --warm 3 --project-repo URL -- claude`,
    )
    .action(async (command: string[], opts: RunOptions & KubeOptions, cmd: Command) => {
      const format = parseKubeFormat(opts.output);
      const warm = opts.warm === undefined ? undefined : parseWarm(opts.warm);
      const projectRepo = opts.projectRepo === undefined ? '' : parseRepo(opts.projectRepo);
      if (!opts.agentSandbox && warm !== undefined)
        throw new UsageError('--warm needs --agent-sandbox', 'Add --agent-sandbox, or leave --warm out');
      const { ctx, req, facts, io } = await runInputsOf(cmd, opts, command);
      process.exitCode = await kubeRender(
        ctx,
        req,
        facts,
        {
          say: io.say,
          ...(io.buildProgress ? { buildProgress: io.buildProgress } : {}),
          write: (t) => process.stdout.write(t),
        },
        {
          format,
          form: opts.agentSandbox ? 'agent-sandbox' : 'pod',
          claims: Boolean(opts.claims),
          warm: warm ?? req.pool?.minWarm ?? DEFAULT_POOL_SETTINGS.minWarm,
          projectRepo,
        },
      );
    });
}
