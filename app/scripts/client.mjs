// The page imports @lifeline/client's build (file:../clients/js → clients/js/dist). This
// makes sure it exists and is not older than the package's sources: `npm ci` and
// `npm run build` in clients/js when needed, nothing otherwise. Run before `dev`, `build`
// and `test` (npm pre-scripts) and by the browser scripts (test/serve.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(fileURLToPath(new URL('../../clients/js', import.meta.url)));

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

export function ensureClient() {
  const built = join(pkg, 'dist/index.js');
  const sources = [join(pkg, 'src'), join(pkg, 'package.json'), join(pkg, 'tsup.config.ts')];
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) return;
  const npm = (...args) => execFileSync('npm', args, { cwd: pkg, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(join(pkg, 'node_modules/tsup'))) npm('ci', '--no-audit', '--no-fund');
  console.error('building @lifeline/client (clients/js) for the page');
  npm('run', '--silent', 'build');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureClient();
