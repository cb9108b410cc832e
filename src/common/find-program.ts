import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Finds a program on PATH (or the usual system directories); undefined when absent. */
export function findProgram(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
