/**
 * @module web-sdk.test: the client SDK as the chat page gets it: bare imports
 * rewritten by the build (src/web-sdk.ts), and served under `/sdk/` with the
 * pages' strict CSP, from an allow-list of what the build wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../src/server.js';
import { CONTENT_SECURITY_POLICY } from '../src/pages.js';
import { relativeImports, rewriteSpecifier } from '../src/web-sdk.js';

describe('rewriting bare imports for browsers', () => {
  it('rewrites imports, re-exports and side-effect imports of the specifier, and nothing else', () => {
    const code = [
      "import { createActor } from 'xstate';",
      'export { setup } from "xstate";',
      "import 'xstate';",
      "import { z } from 'xstate-extra';",
      "const text = 'from xstate';",
    ].join('\n');
    expect(rewriteSpecifier(code, 'xstate', '../xstate/xstate.esm.js').split('\n')).toEqual([
      "import { createActor } from '../xstate/xstate.esm.js';",
      'export { setup } from "../xstate/xstate.esm.js";',
      "import '../xstate/xstate.esm.js';",
      "import { z } from 'xstate-extra';",
      "const text = 'from xstate';",
    ]);
  });

  it('reads the relative imports a module needs copied alongside it', () => {
    const code = "import { a } from './a.js';\nexport { b } from '../machines/b.js';\nimport './c.js';\nimport { d } from 'xstate';\n";
    expect(relativeImports(code).sort()).toEqual(['../machines/b.js', './a.js', './c.js']);
  });
});

describe('the SDK served to the chat page', () => {
  let server: ChatServer;
  beforeAll(async () => {
    server = await startChatServer({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the SDK, the modules it imports and xstate’s ESM build as scripts under the CSP, with no bare import left', async () => {
    const chat = await (await fetch(`${server.url}/chat.js`)).text();
    expect(chat).toContain("from './sdk/client/index.js'");
    const seen = new Set<string>();
    const pending = ['/sdk/client/index.js'];
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      const code = await response.text();
      expect(code, `${path} imports a bare specifier`).not.toMatch(/^(?:(?:import|export)\b[^;'"]*?\bfrom|import)\s*['"](?!\.\.?\/)/m);
      for (const specifier of relativeImports(code)) pending.push(new URL(specifier, `http://x${path}`).pathname);
    }
    expect([...seen]).toEqual(expect.arrayContaining(['/sdk/client/tracker.js', '/sdk/machines/names.js', '/sdk/xstate/xstate.esm.js']));
  });

  it('serves nothing under /sdk/ that the build did not write', async () => {
    for (const path of ['/sdk/', '/sdk/client/index.ts', '/sdk/../package.json', '/sdk/client/index.js.map', '/sdk/xstate/xstate.cjs.js']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    }
  });
});
