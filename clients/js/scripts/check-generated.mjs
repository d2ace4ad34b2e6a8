// Fails when src/generated is not what Codama makes from the committed IDL today
// (someone edited a generated file, or changed the program and its IDL without running
// `npm run codegen`). Renders into a scratch directory with the same codama.json.
//
// The renderer formats what it writes with the prettier config it resolves from its
// output folder's package.json: clients/js/.prettierrc.json for `npm run codegen`,
// nothing in the scratch directory. So the check resolves this package's config and
// hands it to the renderer explicitly, and both renders format alike.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { resolveConfig } from 'prettier';

const pkg = resolve(fileURLToPath(new URL('..', import.meta.url)));
const config = JSON.parse(readFileSync(join(pkg, 'codama.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'lifeline-codegen-'));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

try {
  const [, options] = config.scripts.js.args;
  const prettierOptions = { ...(await resolveConfig(join(pkg, 'package.json'))), ...options.prettierOptions };
  const local = (v) => (typeof v === 'string' && v.startsWith('.') ? resolve(pkg, v) : v);
  const scratchConfig = {
    ...config,
    idl: resolve(pkg, config.idl),
    before: config.before.map(local),
    scripts: {
      js: {
        ...config.scripts.js,
        from: local(config.scripts.js.from),
        args: [scratch, { ...options, prettierOptions }],
      },
    },
  };
  const configPath = join(scratch, 'codama.json');
  writeFileSync(configPath, JSON.stringify(scratchConfig));
  execFileSync(join(pkg, 'node_modules/.bin/codama'), ['run', 'js', '-c', configPath], {
    cwd: pkg,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const want = join(scratch, options.generatedFolder);
  const have = join(pkg, options.generatedFolder);
  const rel = (root) => new Set(files(root).map((f) => relative(root, f)));
  const wanted = rel(want);
  const had = rel(have);
  const problems = [];
  for (const f of wanted) {
    if (!had.has(f)) problems.push(`missing: ${f}`);
    else if (readFileSync(join(want, f), 'utf8') !== readFileSync(join(have, f), 'utf8'))
      problems.push(`differs: ${f}`);
  }
  for (const f of had) if (!wanted.has(f)) problems.push(`not generated: ${f}`);
  if (problems.length > 0) {
    console.error(`src/generated is stale (${problems.length} files); run \`npm run codegen\` in clients/js/:`);
    for (const p of problems) console.error(`  ${p}`);
    process.exitCode = 1;
  } else {
    console.log(`src/generated matches the IDL (${wanted.size} files)`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
