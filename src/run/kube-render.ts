import type { SessionContext } from '../context/session-context.js';
import { formatKube, type KubeFormat } from '../kube/kube-format.js';
import { renderKube } from '../kube/kube-manifests.js';
import type { KubeRenderOptions } from '../kube/kube-objects.js';
import { planRun } from './plan-run.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';

/**
 * Use case `mino kube render [run flags…]`: the plan `mino run` would build for the same request
 * (planRun, as `--dry-run` plans it: nothing is built, created or started), rendered as Kubernetes
 * manifests (kube/kube-manifests.ts) on stdout; the plan's warnings and what did not carry over on
 * stderr. Returns mino's exit code.
 */
export async function kubeRender(
  ctx: SessionContext,
  req: RunRequest,
  facts: HostFacts,
  io: Pick<RunIo, 'say' | 'buildProgress'> & { write(text: string): void },
  options: KubeRenderOptions & { format: KubeFormat },
): Promise<number> {
  const planned = await planRun(ctx, { ...req, dryRun: true }, facts, { ...io, print: () => undefined });
  const { plan, image } = planned;
  if (image.built)
    io.say(
      `Note: ${image.image} (layers ${image.layers.join(', ')}) is not built yet: 'mino run' with the same flags builds it`,
    );
  for (const w of plan.warnings) io.say(`Warning: ${w}`);
  const rendering = renderKube(plan, options);
  for (const n of rendering.notes) io.say(`Note: ${n}`);
  io.write(formatKube(rendering, options.format));
  return 0;
}
