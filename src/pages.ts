/**
 * @module pages: the browser pages the server serves: the chat client at `/`
 * and, with `--inspect`, the inspector at `/inspector`.
 *
 * Only the files listed here are served, so no request path ever reaches the
 * file system. HTML and CSS are served from `web/`; scripts from `dist/web/`,
 * where `npm run build` compiles them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Page {
  file: string;
  contentType: string;
}

/**
 * No inline script or style and nothing from elsewhere: even if a nick or a
 * message slipped into the markup, the browser would not run it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HTML = 'text/html; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const SVG = 'image/svg+xml';

/** The project root, found from this file whether it runs compiled (dist/src) or from source (src). */
const root = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${start}: cannot find the web pages.`);
  }
}

/**
 * The client SDK as compiled for browsers, with the modules it imports and
 * xstate's own ESM build (see web-sdk.ts); chat.js imports
 * `./sdk/client/index.js`. xstate's file names carry content hashes that
 * change with each release, so the list is what the build wrote, read once
 * it exists: names only, still an allow-list.
 */
let sdkPages: Record<string, Page> | undefined;

function sdkPage(path: string): Page | undefined {
  if (!sdkPages) {
    const dir = join(root, 'dist/web/sdk');
    if (!existsSync(dir)) return undefined;
    const files = (readdirSync(dir, { recursive: true }) as string[]).filter((name) => name.endsWith('.js'));
    sdkPages = Object.fromEntries(
      files.map((name) => [`/sdk/${name.split(sep).join('/')}`, { file: join(dir, name), contentType: JS }]),
    );
  }
  return Object.hasOwn(sdkPages, path) ? sdkPages[path] : undefined;
}

/** The chat page's script modules, each imported by chat.js as `./NAME.js`. */
const CHAT_MODULES = ['chat', 'channel-history', 'event-time', 'names', 'passwords', 'reconnect', 'refusals', 'saved-sign-in', 'words'];

const chatPages: Record<string, Page> = {
  '/': { file: join(root, 'web/chat/index.html'), contentType: HTML },
  '/chat.css': { file: join(root, 'web/chat/chat.css'), contentType: CSS },
  '/favicon.svg': { file: join(root, 'web/chat/favicon.svg'), contentType: SVG },
  ...Object.fromEntries(
    CHAT_MODULES.map((name) => [`/${name}.js`, { file: join(root, `dist/web/chat/${name}.js`), contentType: JS }]),
  ),
  // Shared by both pages, which import it as `../dom.js`.
  '/dom.js': { file: join(root, 'dist/web/dom.js'), contentType: JS },
};

const inspectorPages: Record<string, Page> = {
  '/inspector': { file: join(root, 'web/inspector/index.html'), contentType: HTML },
  '/inspector/inspector.css': { file: join(root, 'web/inspector/inspector.css'), contentType: CSS },
  // The page's modules, which import each other by relative path.
  ...Object.fromEntries(
    ['inspector', 'diagram', 'format', 'sequence', 'svg', 'types', 'virtual-list'].map((name) => [
      `/inspector/${name}.js`,
      { file: join(root, `dist/web/inspector/${name}.js`), contentType: JS },
    ]),
  ),
};

export function isInspectorPath(path: string): boolean {
  return path === '/inspector' || path.startsWith('/inspector/');
}

/** The page at `path`, if there is one; inspector pages only when `inspector` is on. */
export function pageAt(path: string, inspector: boolean): Page | undefined {
  return Object.hasOwn(chatPages, path)
    ? chatPages[path]
    : path.startsWith('/sdk/')
      ? sdkPage(path)
      : inspector && Object.hasOwn(inspectorPages, path)
      ? inspectorPages[path]
      : undefined;
}

export async function servePage(page: Page, response: ServerResponse, head: boolean): Promise<void> {
  let body: Buffer;
  try {
    body = await readFile(page.file);
  } catch {
    response
      .writeHead(500, { 'content-type': 'text/plain' })
      .end(`${page.file} is missing. Run \`npm run build\` (npm start does it for you).\n`);
    return;
  }
  response.writeHead(200, {
    'content-type': page.contentType,
    'content-length': body.length,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });
  response.end(head ? undefined : body);
}
