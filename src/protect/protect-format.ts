import type { ProtectionPlan } from './protect-plan.js';

/**
 * The protected paths of a plan as `mino run --dry-run` shows them: shell comments above the
 * podman command line, one per path, saying whether it exists (read-only), would be created for
 * the session (a stub), and one line for the absent paths left so.
 */
export function protectionDryRunLines(protection: ProtectionPlan): string[] {
  const lines: string[] = [];
  const absent: string[] = [];
  for (const e of protection.entries) {
    if (e.state === 'absent') absent.push(e.hostPath);
    else
      lines.push(
        `# protected: ${e.hostPath}${e.state === 'stub' ? ' (absent: created for the session)' : e.state === 'private' ? ' (the session writes a private copy)' : ''}`,
      );
  }
  if (absent.length > 0) lines.push(`# not protected while absent: ${absent.join(' ')}`);
  return lines;
}
