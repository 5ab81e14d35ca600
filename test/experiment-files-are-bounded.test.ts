import { describe, expect, it } from 'vitest';
import { blocksByFile, runCli, tempDir, writeTemp } from './helpers/cli.js';

const LAYERS = 'model:\n  layers: [{ type: flatten }, { type: dense, units: 10, activation: softmax }]\n';

/** Nine anchors, each a list of nine aliases of the one before: 9^9 values if expanded. */
function aliasBomb(): string {
  let yaml = 'name: bomb\na: &a [x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1, previous = 'a'; i < 10; previous = `b${i}`, i++) yaml += `b${i}: &b${i} [${Array(9).fill(`*${previous}`).join(', ')}]\n`;
  return yaml + LAYERS;
}


describe('experiment files are bounded: size, aliases, nesting, documents', () => {
  it('refuses each file that passes a limit with what was exceeded, at its line, exit 2 and no stack trace', async () => {
    const dir = tempDir();
    const big = `name: big\n${LAYERS}description: "${'x'.repeat(1024 * 1024)}"\n`;
    const cases: [string, string, string][] = [
      [writeTemp('bomb.yaml', aliasBomb(), dir), ':3:10 ', 'the aliases of this file (`*name`) expand to more than 100 values, the limit for an experiment file'],
      [writeTemp('aliases.yaml', `name: many\nmodel:\n  layers:\n    - &f { type: flatten }\n${'    - *f\n'.repeat(120)}`, dir), ':5:7 ', 'expand to more than 100 values'],
      [writeTemp('merge.yaml', `name: merge\nbase: &b { epochs: 2 }\ntrain:\n  <<: *b\n${LAYERS}`, dir), ':4:3 ', 'merge keys (`<<:`) are not supported'],
      [writeTemp('two.yaml', `name: one\n${LAYERS}---\nname: two\n`, dir), ':4:1 ', 'a second YAML document starts here; an experiment file holds one'],
      [writeTemp('deep-flow.yaml', `name: deep\n${LAYERS}description: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, dir), ':4:45 ', 'mappings and lists nest more than 32 levels deep here'],
      [writeTemp('deep-block.yaml', `name: deep\n${LAYERS}${Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}a${i}:\n`).join('')}`, dir), ':36:65 ', 'nest more than 32 levels deep'],
      [writeTemp('big.yaml', big, dir), ' ', 'the file is larger than 1 MiB, the limit for an experiment file'],
      ['/dev/zero', ' ', 'the file is larger than 1 MiB'],
    ];
    const parent = writeTemp('big-parent.yaml', big.replace('name: big', 'name: big-parent'), dir);
    const child = writeTemp('child.yaml', `extends: big-parent.yaml\nname: child\n`, dir);
    const result = await runCli(['validate', ...cases.map(([file]) => file), child]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain(`0 of ${cases.length + 1} files valid`);
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(result.stderr).not.toContain('internal error');
    const blocks = blocksByFile(result.stderr);
    for (const [file, where, message] of cases) {
      expect(blocks.get(file), file).toContain(`${file}${where}`);
      expect(blocks.get(file), file).toContain(message);
    }
    expect(blocks.get(child)).toContain(`${child}:1:1 extends \`${parent}\`: the file is larger than 1 MiB`);
  });

  it('counts columns of the first line without the byte order mark', async () => {
    const file = writeTemp('bom.yaml', `\uFEFFname: "bad name!"\n${LAYERS}`);
    const result = await runCli(['validate', file]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${file}:1:7 name:`);
  });
});
