import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GuardedOutput, OUTPUT_GUARD_SCRIPT, TrailerStream } from '../../../src/pool/remote-output.js';
import { EXEC_WRAPPER_SCRIPT } from '../../../src/pool/pool-scripts.js';

/** A sink that keeps what it was given. */
function sink(): { write(chunk: Buffer): void; text(): string } {
  const parts: Buffer[] = [];
  return { write: (chunk) => void parts.push(Buffer.from(chunk)), text: () => Buffer.concat(parts).toString('latin1') };
}

const trailer = (nonce: string, count: number | string): string => `\x1emino-end ${nonce} ${count}\x1e`;

/** A reader of container files that knows `files` and records what it was asked. */
function reader(files: Record<string, string>): {
  asked: string[];
  readContainerFile(id: string, path: string): Promise<Buffer | undefined>;
} {
  const asked: string[] = [];
  return {
    asked,
    readContainerFile: (_id, path) => {
      asked.push(path);
      const text = Object.entries(files).find(([suffix]) => path.endsWith(suffix))?.[1];
      return Promise.resolve(text === undefined ? undefined : Buffer.from(text, 'latin1'));
    },
  };
}

describe('TrailerStream', () => {
  it('writes the stream on without its trailer, also when the trailer comes in pieces', () => {
    const out = sink();
    const s = new TrailerStream('n1', out);
    const all = `hello\nworld\n${trailer('n1', 12)}`;
    for (const piece of [all.slice(0, 7), all.slice(7, 13), all.slice(13, 16), all.slice(16)]) {
      s.push(Buffer.from(piece, 'latin1'));
    }
    expect(out.text()).toBe('hello\nworld\n');
    expect(s.ending()).toMatchObject({ received: 12, announced: 12 });
  });

  it('holds back only what could start the trailer, and lets it go when it does not', () => {
    const out = sink();
    const s = new TrailerStream('n1', out);
    s.push(Buffer.from('prompt> \x1emino', 'latin1'));
    expect(out.text()).toBe('prompt> ');
    s.push(Buffer.from('-other', 'latin1'));
    expect(out.text()).toBe('prompt> \x1emino-other');
    // A trailer of another nonce is output like any other (its last byte could start ours).
    s.push(Buffer.from(trailer('n2', 3), 'latin1'));
    expect(out.text()).toBe(`prompt> \x1emino-other${trailer('n2', 3).slice(0, -1)}`);
    expect(s.ending()).toMatchObject({ announced: undefined, held: Buffer.from('\x1e') });
  });

  it('has no trailer when the stream was cut inside it (held back, not written)', () => {
    const out = sink();
    const s = new TrailerStream('n1', out);
    s.push(Buffer.from(`ok\n${trailer('n1', 3).slice(0, 6)}`, 'latin1'));
    expect(out.text()).toBe('ok\n');
    expect(s.ending()).toMatchObject({ received: 3, announced: undefined });
    expect(s.ending().held.toString('latin1')).toBe(trailer('n1', 3).slice(0, 6));
  });
});

describe('GuardedOutput', () => {
  const make = (files: Record<string, string>) => {
    const out = sink();
    const err = sink();
    const files_ = reader(files);
    const g = new GuardedOutput(files_, 'c1', { stdout: out, stderr: err });
    return { g, out, err, asked: files_.asked };
  };

  it('reads nothing back when both trailers arrived with the counts that arrived', async () => {
    const { g, out, err, asked } = make({});
    g.stdout(Buffer.from(`hi\n${trailer(g.nonce, 3)}`));
    g.stderr(Buffer.from(trailer(g.nonce, 0)));
    await g.settle(0);
    expect([out.text(), err.text(), asked]).toEqual(['hi\n', '', []]);
  });

  it('writes a lost stdout from its copy in the container (podman cp), and only what was missing', async () => {
    const { g, out, err, asked } = make({ '/1': 'two\nlines\n' });
    g.stdout(Buffer.from('two\n'));
    g.stderr(Buffer.from(trailer(g.nonce, 0)));
    await g.settle(3);
    expect(out.text()).toBe('two\nlines\n');
    expect(err.text()).toBe('');
    expect(asked).toEqual([`/tmp/.mino-out.${g.nonce}/1`]);
  });

  it('reads back a stream whose trailer says more than arrived', async () => {
    const { g, out, asked } = make({ '/1': 'abc' });
    g.stdout(Buffer.from(`a${trailer(g.nonce, 3)}`));
    g.stderr(Buffer.from(trailer(g.nonce, 0)));
    await g.settle(0);
    expect(out.text()).toBe('abc');
    expect(asked).toHaveLength(1);
  });

  it('writes all of a copy after a note when what arrived is not its start (nothing dropped)', async () => {
    const { g, out, err } = make({ '/1': 'first\nsecond\n' });
    g.stdout(Buffer.from('second\n'));
    g.stderr(Buffer.from(trailer(g.nonce, 0)));
    await g.settle(0);
    expect(out.text()).toBe('second\nfirst\nsecond\n');
    expect(err.text()).toMatch(/lost part of the command's stdout .*all of it follows/);
  });

  it('without a copy (no tee in the image, or the container gone) keeps what arrived and asks once', async () => {
    const { g, out, err, asked } = make({});
    g.stdout(Buffer.from('partial\x1e'));
    g.stderr(Buffer.from('e'));
    await g.settle(125);
    expect([out.text(), err.text()]).toEqual(['partial\x1e', 'e']);
    expect(asked).toHaveLength(1);
  });
});

describe('OUTPUT_GUARD_SCRIPT', () => {
  it('tees both streams into copies, then adds the trailers with their byte counts; stdin and the exit code pass', () => {
    const nonce = `t${process.pid}x${Date.now()}`;
    const script = 'echo hi; echo err >&2; read x; echo "got $x"; exit 3';
    try {
      const r = spawnSync(
        '/bin/sh',
        ['-c', OUTPUT_GUARD_SCRIPT, 'mino', nonce, EXEC_WRAPPER_SCRIPT, 'sh', '-c', script],
        { input: 'line\n', encoding: 'latin1' },
      );
      expect(r.status).toBe(3);
      expect(r.stdout).toBe(`hi\ngot line\n${trailer(nonce, 12)}`);
      expect(r.stderr).toBe(`err\n${trailer(nonce, 4)}`);
      expect(readFileSync(`/tmp/.mino-out.${nonce}/1`, 'latin1')).toBe('hi\ngot line\n');
      expect(readFileSync(`/tmp/.mino-out.${nonce}/2`, 'latin1')).toBe('err\n');
    } finally {
      rmSync(`/tmp/.mino-out.${nonce}`, { recursive: true, force: true });
    }
  });

  it("keeps the wrapper's own errors (command not found: 127) on the guarded streams", () => {
    const nonce = `u${process.pid}x${Date.now()}`;
    try {
      const r = spawnSync(
        '/bin/sh',
        ['-c', OUTPUT_GUARD_SCRIPT, 'mino', nonce, EXEC_WRAPPER_SCRIPT, 'no-such-command-here'],
        { input: '', encoding: 'latin1' },
      );
      expect(r.status).toBe(127);
      expect(r.stdout).toBe(trailer(nonce, 0));
      expect(r.stderr).toMatch(/^Error: command not found in the image: no-such-command-here\n.*\x1emino-end /s);
    } finally {
      rmSync(`/tmp/.mino-out.${nonce}`, { recursive: true, force: true });
    }
  });
});
