/**
 * The API reference builds from the TSDoc comments: TypeDoc over the package's public entry point
 * with link validation as errors (`npm run docs` writes it to docs/api; here nothing is written).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('typedoc generates the API reference without errors or broken links', () => {
  const r = spawnSync(join(root, 'node_modules/.bin/typedoc'), ['--emit', 'none', '--logLevel', 'Warn'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/\[(error|warning)\]/);
}, 200_000);
