import type { CheckResult, CheckStatus } from '../setup/check-result.js';
import { palette } from '../common/terminal.js';

const LABEL: Record<CheckStatus, string> = {
  ok: '[OK]',
  info: '[INFO]',
  warn: '[WARN]',
  fail: '[FAIL]',
  fixed: '[FIXED]',
  skip: '[SKIP]',
};

/** Formats one check as a line (plus a hint line) for a terminal or a log. */
export function formatCheck(result: CheckResult, stream: NodeJS.WriteStream): string {
  const p = palette(stream);
  const colour = { ok: p.green, info: p.cyan, warn: p.yellow, fail: p.red, fixed: p.green, skip: p.yellow }[
    result.status
  ];
  const label = colour(LABEL[result.status].padEnd(7));
  let line = `${label} ${result.title}`;
  if (result.detail) line += `: ${p.dim(result.detail)}`;
  line += '\n';
  if (result.hint && result.status !== 'ok' && result.status !== 'info')
    line += `        ${p.yellow('Hint:')} ${result.hint}\n`;
  return line;
}
