#!/usr/bin/env node
// Writes test/helpers/file-durations.json (seconds per test file, for the test order of
// test/helpers/slow-first-sequencer.ts) from the JSON report of a full vitest run:
//   npx vitest run --reporter=default --reporter=json --outputFile.json=/tmp/report.json
//   node scripts/test-durations.mjs /tmp/report.json
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const report = process.argv[2];
if (!report) {
  console.error('usage: node scripts/test-durations.mjs <vitest json report>');
  process.exit(2);
}
const { testResults } = JSON.parse(readFileSync(report, 'utf8'));
const rows = testResults
  .map((f) => [relative(root, f.name), Math.round((f.endTime - f.startTime) / 100) / 10])
  .filter(([, seconds]) => seconds >= 1)
  .sort((a, b) => b[1] - a[1]);
writeFileSync(
  join(root, 'test', 'helpers', 'file-durations.json'),
  `${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`,
);
console.log(`${rows.length} files over 1 s`);
