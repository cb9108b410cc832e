/** Small text helpers for messages. */

/** The last `n` non-empty lines of a text, joined by newlines. */
export function lastLines(text: string, n: number): string {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0);
  return lines.slice(-n).join('\n');
}

/** Formats a byte count as MB or GB for messages. */
export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${Math.round(n / 1e6)} MB`;
}
