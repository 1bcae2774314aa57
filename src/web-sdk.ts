/**
 * @module web-sdk: the build step that lets the chat page run the client SDK
 * itself, as ES modules the server serves, with no bundler and no CDN.
 *
 * `tsc` compiles `client/` for Node (dist/client) and the page for browsers
 * (dist/web), and both keep bare specifiers a browser cannot resolve: the
 * page imports `xstate-chat/client`, the SDK imports `xstate`. Import maps
 * would fix that, but only inline ones work and the page's CSP forbids inline
 * scripts. So the specifiers are rewritten here, after `tsc`:
 *
 * - dist/client/*.js, and the server modules it imports at run time, are
 *   copied to dist/web/sdk/ in their dist/ layout, importing xstate from
 *   `sdk/xstate/xstate.esm.js`;
 * - xstate's own ESM build (the files xstate.esm.js reaches through relative
 *   imports) is copied to dist/web/sdk/xstate/, as published;
 * - the page's modules import `./sdk/client/index.js` (served as `/sdk/client/index.js`).
 *
 * A file is written only when its content changes, so an unchanged build
 * leaves every output's timestamp alone.
 *
 * Run as `node dist/src/web-sdk.js` (the last step of `npm run build`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The specifier pages import the SDK by, as the package exports it to Node. */
export const SDK_SPECIFIER = 'xstate-chat/client';

/** The directory under dist/web the SDK and xstate are copied to, and the URL path they are served under. */
export const SDK_DIR = 'sdk';
export const XSTATE_DIR = 'xstate';
const XSTATE_ENTRY = 'xstate.esm.js';

/** Replaces `from 'specifier'` (and `import 'specifier'`) in compiled ES module code. */
export function rewriteSpecifier(code: string, from: string, to: string): string {
  const quoted = from.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return code.replace(new RegExp(`(\\bfrom\\s*|\\bimport\\s*)(['"])${quoted}\\2`, 'g'), `$1$2${to}$2`);
}

/** The relative module specifiers a compiled ES module imports or re-exports from, read off its import lines. */
export function relativeImports(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/^(?:import|export)\b[^;'"]*?(?:from\s*)?(['"])(\.\.?\/[^'"]+)\1/gm)) found.add(match[2]!);
  return [...found];
}

function writeIfChanged(file: string, content: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** Source maps point at files the server does not serve: the reference would only make a browser's tools ask for them. */
function withoutSourceMap(code: string): string {
  return code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

export function buildWebSdk(root: string): void {
  const dist = join(root, 'dist');
  const sdkOut = join(dist, 'web', SDK_DIR);
  const xstateEntry = createRequire(join(root, 'package.json')).resolve('xstate').replace(/[^/\\]+$/, XSTATE_ENTRY);
  const xstateDist = dirname(xstateEntry);

  // The SDK and what it imports at run time (machines/names.js, which the server canonicalises names with too),
  // in the same layout as under dist/, so their relative imports hold.
  const pendingFiles = ['client/index.js'];
  const copied = new Set<string>();
  while (pendingFiles.length > 0) {
    const file = pendingFiles.pop()!;
    if (copied.has(file)) continue;
    copied.add(file);
    const code = withoutSourceMap(readFileSync(join(dist, file), 'utf8'));
    const toXstate = relative(dirname(join(sdkOut, file)), join(sdkOut, XSTATE_DIR, XSTATE_ENTRY)).split(sep).join('/');
    writeIfChanged(join(sdkOut, file), rewriteSpecifier(code, 'xstate', toXstate.startsWith('.') ? toXstate : `./${toXstate}`));
    for (const specifier of relativeImports(code)) pendingFiles.push(posix.normalize(posix.join(posix.dirname(file), specifier)));
  }

  // xstate's modules as published: they import one another by relative path only.
  const pending = [XSTATE_ENTRY];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const code = readFileSync(join(xstateDist, name), 'utf8');
    writeIfChanged(join(sdkOut, XSTATE_DIR, name), code);
    for (const specifier of relativeImports(code)) pending.push(specifier.slice(2));
  }

  const chatDist = join(dist, 'web/chat');
  for (const name of readdirSync(chatDist).filter((file) => file.endsWith('.js'))) {
    const file = join(chatDist, name);
    const code = readFileSync(file, 'utf8');
    const rewritten = rewriteSpecifier(code, SDK_SPECIFIER, `./${SDK_DIR}/client/index.js`);
    if (rewritten !== code) writeFileSync(file, rewritten);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWebSdk(join(dirname(fileURLToPath(import.meta.url)), '../..'));
}
