// Codama's JS renderer (@codama/renderers-js 2.2.0, the newest on the registry), then two
// fixes to what it writes, so that the whole of src/generated type-checks against kit 8
// and without Node's types. Both are made here, by the generator, never by hand:
// `npm run codegen` and `npm run codegen:check` run this same module.
//
// 1. The program plugin (programs/lifeline.ts) declares its return type as kit 6's
//    `Omit<T, 'lifeline'> & { lifeline: … }`; kit 8's `extendClient` returns an
//    `ExtendedClient<T, …>`, which TypeScript cannot prove assignable to it. Dropping the
//    annotation lets TypeScript infer kit 8's own type.
// 2. The error table (errors/lifeline.ts) reads `process.env['NODE_ENV']` when the module
//    loads: it needs Node's types to compile, and it throws a ReferenceError wherever
//    nothing defines `process`. It reads the variable through `globalThis` instead. (Kit's
//    own browser build still expects a bundler to define `process.env.NODE_ENV`.)
//
// Each fix names the text it replaces and fails loudly when that text is gone (a renderer
// upgrade changed it: look again whether the fix is still needed). The fixes apply to the
// rendered code before it is formatted, so they do not depend on the prettier options.
import { getRenderMapVisitor } from '@codama/renderers-js';
import {
  deleteDirectory,
  joinPath,
  mapRenderMapContent,
  mapRenderMapContentAsync,
  writeRenderMap,
} from '@codama/renderers-core';
import { rootNodeVisitor, visit } from 'codama';
import { format, resolveConfig } from 'prettier';

/** Per generated file, [what the renderer writes (before formatting), what we write instead]. */
const FIXES = {
  'programs/lifeline.ts': [
    [/\(client: T\): Omit<T, ["']lifeline["']> & \{ lifeline: LifelinePlugin \} =>/, '(client: T) =>'],
  ],
  'errors/lifeline.ts': [
    [
      /^let lifelineErrorMessages:/m,
      [
        '/** NODE_ENV where Node or a bundler defines it; a browser without a bundler has no `process`. */',
        "const NODE_ENV = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['NODE_ENV'];",
        'let lifelineErrorMessages:',
      ].join('\n'),
    ],
    [/process\.env\['NODE_ENV'\]/g, 'NODE_ENV'],
  ],
};

function fix(content, path) {
  for (const [from, to] of FIXES[path] ?? []) {
    if (!from.test(content)) {
      throw new Error(`codama/render.mjs: ${from} no longer matches ${path}; review this fix`);
    }
    from.lastIndex = 0;
    content = content.replace(from, to);
  }
  return content;
}

/** What @codama/renderers-js's renderVisitor does, with `fix` between rendering and formatting. */
export default function render(packageFolder, options = {}) {
  return rootNodeVisitor(async (root) => {
    const generated = joinPath(packageFolder, options.generatedFolder ?? 'src/generated');
    let renderMap = visit(root, getRenderMapVisitor(options));
    for (const path of Object.keys(FIXES)) {
      if (!renderMap.has(path)) throw new Error(`codama/render.mjs: the renderer no longer writes ${path}`);
    }
    renderMap = mapRenderMapContent(renderMap, fix);
    const prettierOptions = {
      ...(await resolveConfig(joinPath(packageFolder, 'package.json'))),
      ...options.prettierOptions,
    };
    renderMap = await mapRenderMapContentAsync(renderMap, (code, path) =>
      format(code, { ...prettierOptions, filepath: path }),
    );
    if (options.deleteFolderBeforeRendering ?? true) deleteDirectory(generated);
    writeRenderMap(renderMap, generated);
  });
}
