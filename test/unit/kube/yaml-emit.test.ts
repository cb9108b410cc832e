import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { toYaml, toYamlStream, yamlScalar } from '../../../src/kube/yaml-emit.js';

describe('yamlScalar', () => {
  it('writes unambiguous strings plain and quotes everything YAML could read otherwise', () => {
    expect(yamlScalar('agent')).toBe('agent');
    expect(yamlScalar('/home/developer')).toBe('/home/developer');
    expect(yamlScalar('app.kubernetes.io/name')).toBe('app.kubernetes.io/name');
    for (const s of [
      '',
      '1',
      '0x10',
      '1e3',
      'yes',
      'No',
      'on',
      'OFF',
      'true',
      'null',
      '~',
      '-c',
      'a: b',
      'a #b',
      '*x',
      '&y',
      '!t',
      "'q'",
      '"q"',
      'a b',
      '[1]',
      '{}',
      '.inf',
      '2026-12-07',
      '12:30',
    ])
      expect(yamlScalar(s), s).toBe(JSON.stringify(s));
    expect(yamlScalar('line\nbreak\u0000')).toBe('"line\\nbreak\\u0000"');
    expect(yamlScalar(1000)).toBe('1000');
    expect(yamlScalar(false)).toBe('false');
    expect(yamlScalar(null)).toBe('null');
    expect(() => yamlScalar(Number.NaN)).toThrow();
  });
});

describe('toYaml', () => {
  it('writes nested objects and arrays in block style, empty ones inline, undefined keys left out', () => {
    const doc = {
      kind: 'Pod',
      metadata: { name: 'mino-demo', labels: { 'io.mino.session': 'demo' }, gone: undefined },
      spec: {
        containers: [
          {
            name: 'agent',
            args: ['/bin/sh', '-c', 'id; pwd'],
            env: [],
            securityContext: { capabilities: { drop: ['ALL'] } },
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: {} }],
        nested: [['a', 'b'], []],
      },
    };
    expect(toYaml(doc)).toBe(
      [
        'kind: Pod',
        'metadata:',
        '  name: mino-demo',
        '  labels:',
        '    io.mino.session: demo',
        'spec:',
        '  containers:',
        '  - name: agent',
        '    args:',
        '    - /bin/sh',
        '    - "-c"',
        '    - "id; pwd"',
        '    env: []',
        '    securityContext:',
        '      capabilities:',
        '        drop:',
        '        - ALL',
        '  volumes:',
        '  - name: tmp',
        '    emptyDir: {}',
        '  nested:',
        '  - - a',
        '    - b',
        '  - []',
        '',
      ].join('\n'),
    );
  });

  it('writes strings that look like other types or hold line breaks JSON-quoted (a YAML double-quoted scalar)', () => {
    const data = { a: { b: ['x y', 'true', 3, { c: 'd', e: ['f'] }] }, g: 'multi\nline "q"' };
    const text = toYaml(data);
    expect(text).toContain('g: "multi\\nline \\"q\\""');
    expect(text).toContain('  - "x y"');
    expect(text).toContain('  - "true"');
    expect(text).toContain('  - 3');
    expect(text).toContain('  - c: d\n    e:\n    - f');
  });

  it('reads back as the same data with a YAML parser, whatever the strings hold', () => {
    const strings = [
      '',
      'yes',
      'NO',
      '0o17',
      '1_000',
      '- a',
      '? k',
      'a: b',
      '# c',
      '%x',
      '@y',
      '`z',
      '|',
      '>',
      'é ü 中 😀',
      '\t tab',
      'back\\slash',
      '\u0001\u007f',
      ' lead',
      'trail ',
    ];
    const data = {
      list: strings,
      map: Object.fromEntries(strings.filter(Boolean).map((s, i) => [s, i])),
      n: [0, -1, 2.5],
      b: [true, false, null],
    };
    expect(parse(toYaml(data))).toEqual(data);
    const docs = [
      { kind: 'A', x: [{ y: [] }] },
      { kind: 'B', z: {} },
    ];
    expect(parseAllDocuments(toYamlStream(docs, ['c'])).map((d) => d.toJS())).toEqual(docs);
  });

  it('joins documents with --- after # comments, one line each', () => {
    expect(toYamlStream([{ a: 1 }, { b: 2 }], ['first', 'two\nlines'])).toBe(
      '# first\n# two lines\n---\na: 1\n---\nb: 2\n',
    );
  });
});
