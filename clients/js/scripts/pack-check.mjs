// The published shape works, not just the workspace: `npm pack`, then a scratch project
// outside the repository installs the tarball (and @solana/kit, its peer) as a user
// would, type-checks a file that uses the package under Node's own ESM resolution
// (module/moduleResolution nodenext, declaration files checked too), and runs it.
// Needs `npm run build` first. Prints one line per check; exits non-zero on a failure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(fileURLToPath(new URL('..', import.meta.url)));
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
const kit = manifest.devDependencies['@solana/kit'];
const scratch = mkdtempSync(join(tmpdir(), 'lifeline-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const started = Date.now();
const ok = (what) => console.log(`ok - ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

try {
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], pkg));
  const files = packed.files.map((f) => f.path).sort();
  for (const needed of [
    'package.json',
    'README.md',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/generated.js',
    'dist/generated.d.ts',
  ]) {
    if (!files.includes(needed)) throw new Error(`the tarball lacks ${needed}: ${files.join(', ')}`);
  }
  const strays = files.filter((f) => !(f === 'package.json' || f === 'README.md' || f.startsWith('dist/')));
  if (strays.length) throw new Error(`the tarball carries more than dist/: ${strays.join(', ')}`);
  ok(`npm pack: ${packed.filename}, ${files.length} files, ${packed.size} bytes`);

  const app = join(scratch, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(scratch, packed.filename),
      `@solana/kit@${kit}`,
      // kit's own declarations need Node's types and lib esnext.disposable once
      // skipLibCheck is off (it is off so that this package's declarations are checked).
      `@types/node@${manifest.devDependencies['@types/node']}`,
    ],
    app,
  );
  ok(`installed the tarball and @solana/kit@${kit} in a scratch project`);

  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        outDir: 'out',
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['use.ts'],
    }),
  );
  writeFileSync(
    join(app, 'use.ts'),
    `import { address, createSolanaRpcFromTransport, type Rpc, type SolanaRpcApi } from '@solana/kit';
import {
  createFailoverTransport,
  decodeLifelineAccount,
  findTopologyAddress,
  isLifelineAccountError,
  LIFELINE_PROGRAM_ADDRESS,
  servingOf,
  watchTopology,
  type FailoverTransport,
  type LifelineAccountErrorCode,
  type TopologyView,
} from '@lifeline/client';
import { getTopologyDecoder, getTopologySize, TOPOLOGY_DISCRIMINATOR, type Topology } from '@lifeline/client/generated';

const transport: FailoverTransport = createFailoverTransport({ fallbackUrls: ['http://127.0.0.1:1'] });
const rpc: Rpc<SolanaRpcApi> = createSolanaRpcFromTransport(transport);
const watching: typeof watchTopology = watchTopology;
const network = address('${'1'.repeat(32)}');
const topology = await findTopologyAddress(network);
const bytes = new Uint8Array(getTopologySize());
bytes.set(TOPOLOGY_DISCRIMINATOR);
const decoded: Topology = decodeLifelineAccount('topology', { address: topology, owner: LIFELINE_PROGRAM_ADDRESS, data: bytes });
const same: Topology = getTopologyDecoder().decode(bytes);
let code: LifelineAccountErrorCode | 'none' = 'none';
try {
  decodeLifelineAccount('network', { address: topology, owner: LIFELINE_PROGRAM_ADDRESS, data: bytes });
} catch (e) {
  if (isLifelineAccountError(e)) code = e.code;
}
const view: TopologyView | null = null;
const serving = view ? servingOf(view, 0) : [];
console.log(JSON.stringify({ topology, epoch: String(decoded.epoch + same.epoch), code, candidates: transport.candidates(), serving: serving.length, rpc: typeof rpc.getSlot, watch: typeof watching }));
`,
  );
  // One compile: it fails on any type error, and emits what the next step runs.
  run(process.execPath, [join(pkg, 'node_modules/typescript/bin/tsc'), '-p', app], app);
  ok('a file using both entry points type-checks (nodenext, declaration files included)');

  const out = JSON.parse(run(process.execPath, [join(app, 'out', 'use.js')], app));
  if (out.code !== 'WrongDiscriminator' || out.candidates[0] !== 'http://127.0.0.1:1' || out.rpc !== 'function') {
    throw new Error(`unexpected output: ${JSON.stringify(out)}`);
  }
  ok(`and runs in Node: topology PDA ${out.topology}, a topology read as a network is ${out.code}`);
  console.log('pack-check: passed');
} catch (e) {
  console.error(`not ok - ${e instanceof Error ? e.message : e}`);
  if (e && typeof e === 'object' && 'stderr' in e) console.error(String(e.stderr || e.stdout));
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
