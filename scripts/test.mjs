#!/usr/bin/env node
// `npm test`: builds the package (bundle and single executable: the integration tests run both),
// then runs the type check, the linter (with the formatter's check) and the test suite side by side (the tests do not need the type check,
// and most of their time is spent waiting on podman). Arguments go to vitest. Exits non-zero when
// the build, the type check or a test fails; the type check's output is printed after the tests'.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const children = new Set();

/** Runs argv in the checkout; resolves with its exit code and, when `capture`, its output. */
function run(argv, capture = false) {
  return new Promise((done) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    children.add(child);
    let output = '';
    if (capture) {
      child.stdout.on('data', (b) => (output += b));
      child.stderr.on('data', (b) => (output += b));
    }
    child.on('error', (err) => done({ code: 1, output: `${argv[0]}: ${err.message}\n` }));
    child.on('close', (code, signal) => {
      children.delete(child);
      done({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

const started = Date.now();
const seconds = () => `${Math.round((Date.now() - started) / 1000)} s`;
const pack = await run(['npm', 'run', 'package']);
if (pack.code !== 0) process.exit(pack.code);
const [typecheck, lint, tests] = await Promise.all([
  run([bin('tsc'), '--noEmit'], true),
  run(['npm', 'run', '-s', 'lint'], true),
  run([bin('vitest'), 'run', ...process.argv.slice(2)]),
]);
process.stdout.write(typecheck.output);
process.stdout.write(lint.output);
const verdict = (r, ok) => (r.code === 0 ? ok : `failed (exit ${r.code})`);
console.log(
  `\ntsc --noEmit: ${verdict(typecheck, 'no errors')}; lint and format: ${verdict(lint, 'clean')}; vitest: ${verdict(tests, 'passed')}; ${seconds()} in all`,
);
process.exit(tests.code || typecheck.code || lint.code);
