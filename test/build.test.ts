/**
 * @module build.test: `npm run build`, which `npm start` runs first, as it
 * behaves on a fresh clone, on no change and after an edit. Done in a copy
 * of the sources, so the build under test never races the suite's own dist.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['package.json', 'tsconfig.json', 'tsconfig.web.json', 'src', 'machines', 'client', 'examples', 'web', 'test', 'bench'];

describe('npm run build', () => {
  let copy: string;

  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'xstate-chat-build-'));
    for (const entry of SOURCES) await cp(join(ROOT, entry), join(copy, entry), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  });
  afterAll(async () => {
    await rm(copy, { recursive: true, force: true });
  });

  const build = () => run('npm', ['run', 'build'], { cwd: copy });
  const mtime = async (file: string) => (await stat(join(copy, file))).mtimeMs;

  const timed = async () => {
    const started = performance.now();
    await build();
    return performance.now() - started;
  };

  it('compiles a fresh clone, skips the work when nothing changed, and recompiles what an edit changed', async () => {
    const fresh = await timed();
    const server = 'dist/src/server.js';
    const page = 'dist/web/chat/chat.js';
    const before = { server: await mtime(server), page: await mtime(page) };

    // Nothing changed: nothing is rewritten, and nothing is type-checked again either, which
    // is what made every `npm start` take as long as a fresh compile. Checking takes a large
    // share of a fresh build's time; an up-to-date check of timestamps takes almost none.
    const again = await timed();
    expect({ server: await mtime(server), page: await mtime(page) }).toEqual(before);
    expect(again / fresh, `fresh build ${Math.round(fresh)} ms, unchanged build ${Math.round(again)} ms`).toBeLessThan(0.25);

    // An edit on each side reaches its output.
    await writeFile(join(copy, 'src/origin.ts'), `${await readFile(join(copy, 'src/origin.ts'), 'utf8')}\nexport const edited = 1;\n`);
    await writeFile(join(copy, 'web/dom.ts'), `${await readFile(join(copy, 'web/dom.ts'), 'utf8')}\nexport const editedToo = 2;\n`);
    await build();
    expect(await readFile(join(copy, 'dist/src/origin.js'), 'utf8')).toContain('export const edited = 1;');
    expect(await readFile(join(copy, 'dist/web/dom.js'), 'utf8')).toContain('export const editedToo = 2;');
  }, 120_000);
});
