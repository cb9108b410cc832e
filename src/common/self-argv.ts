import { existsSync } from 'node:fs';

/**
 * The argv that runs this mino again (for helper processes it starts, such as a session's egress
 * proxy): `node <script>` when mino runs as a script (bin/mino, dist/mino.cjs), or the executable
 * alone when mino is a single executable (its own path is then `process.execPath`).
 */
export function selfArgv(): string[] {
  const script = process.argv[1];
  if (script && script !== process.execPath && existsSync(script)) return [process.execPath, script];
  return [process.execPath];
}
