// node --import ./redirect.mjs: with XSTATE_DIR set, every `import 'xstate'`
// (from our dist and from the measuring script) resolves to $XSTATE_DIR/dist/xstate.cjs.mjs.
import { register } from 'node:module';
if (process.env.XSTATE_DIR) register('./redirect-hooks.mjs', import.meta.url, { data: { dir: process.env.XSTATE_DIR } });
