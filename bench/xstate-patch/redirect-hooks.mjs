import { pathToFileURL } from 'node:url';
let dir;
export function initialize(data) { dir = data.dir; }
export async function resolve(specifier, context, next) {
  if (specifier === 'xstate') return { url: pathToFileURL(`${dir}/dist/xstate.cjs.mjs`).href, shortCircuit: true };
  return next(specifier, context);
}
