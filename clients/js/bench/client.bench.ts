// The TypeScript client's numbers, one run, side by side (docs/benchmarks.md, "TypeScript
// client"). `npm run build && npm run bench`. It imports the package by name (its build),
// as an app does, and starts its own `lifeline localnet` (400 ms slots, as a cluster).
//
// 1. Overhead: the same request (getBalance at confirmed) to the same loopback endpoint,
//    through kit's own transport and through createLifelineRpc's failover transport
//    (following a topology whose primary is that endpoint); interleaved in blocks so drift
//    and the shared CPU hit both alike. Also the transport alone, over an endpoint that
//    answers at once (no network): what the routing costs per request.
// 2. Switch lag over 20 migrations: a force_failover sent and confirmed (kit, the generated
//    instruction), while requests run back to back; from the moment the sender sees the
//    confirmation to the start of the first request sent to the new primary (and to the
//    watcher publishing the new epoch). Negative: the watcher had already moved when the
//    sender's confirmation arrived.
// 3. Size: what a frontend's bundle grows by, without kit (esbuild, minified, gzip -9).
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { address, createSolanaRpc, createSolanaRpcFromTransport, type RpcTransport } from '@solana/kit';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createFailoverTransport, createLifelineRpc, primaryOf, standbysOf } from '@lifeline/client';
import { failoverSender } from '../test/localnet/failover-tx';
import { startLocalnet, startNetwork, type Localnet, type TestNetwork } from '../test/localnet/harness';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const WHO = address('11111111111111111111111111111111');
const results: string[] = [];
const report = (line: string) => {
  results.push(line);
  console.log(line);
};

let localnet: Localnet;
let net: TestNetwork;

beforeAll(async () => {
  localnet = await startLocalnet({ endpoints: 2, slotMs: 400 });
  net = await startNetwork(localnet, { keepers: 0, name: 'bench' });
});

afterAll(async () => {
  await net?.stop();
  await localnet?.stop();
  console.log(`\n${results.join('\n')}`);
});

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: pct(s, 50), p99: pct(s, 99) };
};
const ms = (x: number) => `${x.toFixed(3)} ms`;
const us = (x: number) => `${(x * 1000).toFixed(1)} µs`;

it('overhead against a plain kit transport on loopback', async () => {
  const endpoint = localnet.endpointUrls[0];
  const lifeline = await createLifelineRpc({
    network: net.network,
    chainRpcUrl: localnet.rpcUrl,
    chainWsUrl: localnet.wsUrl,
  });
  expect(primaryOf(lifeline.watcher.current!, 0)?.url).toBe(endpoint);
  const kit = createSolanaRpc(endpoint);
  const call = (rpc: typeof kit) => rpc.getBalance(WHO, { commitment: 'confirmed' }).send();
  // Paired: each pair runs the two back to back, in alternating order, so that the shared
  // CPU and any drift hit both sides alike.
  const PAIRS = 3_000;
  const times = { kit: [] as number[], failover: [] as number[] };
  for (let i = -300; i < PAIRS; i++) {
    for (const side of i % 2 ? (['kit', 'failover'] as const) : (['failover', 'kit'] as const)) {
      const t = performance.now();
      await call(side === 'kit' ? kit : lifeline.rpc);
      if (i >= 0) times[side].push(performance.now() - t);
    }
  }
  expect(lifeline.transport.served().get(endpoint)).toBeGreaterThanOrEqual(PAIRS);
  lifeline.stop();
  const k = stats(times.kit);
  const f = stats(times.failover);
  const diff = stats(times.failover.map((x, i) => x - times.kit[i]));
  report(
    `overhead: getBalance (confirmed) to one loopback endpoint, ${PAIRS} pairs, each side once per pair in alternating order:`,
  );
  report(`  kit's own transport (createSolanaRpc)             mean ${ms(k.mean)}  p50 ${ms(k.p50)}  p99 ${ms(k.p99)}`);
  report(`  createLifelineRpc (failover transport + watcher)  mean ${ms(f.mean)}  p50 ${ms(f.p50)}  p99 ${ms(f.p99)}`);
  report(
    `  ratio                                             mean ${(f.mean / k.mean).toFixed(3)}×  p50 ${(f.p50 / k.p50).toFixed(3)}×  p99 ${(f.p99 / k.p99).toFixed(3)}×`,
  );
  report(`  per-pair difference (failover − kit)              p50 ${us(diff.p50)}`);

  // The routing alone: an endpoint that answers at once.
  const canned = { jsonrpc: '2.0', id: '1', result: { context: { slot: 5n }, value: 0n } };
  const instant = (async () => canned) as RpcTransport;
  const direct = createSolanaRpcFromTransport(instant);
  const routed = createSolanaRpcFromTransport(
    createFailoverTransport({ fallbackUrls: ['http://a', 'http://b'], createEndpointTransport: () => instant }),
  );
  const N = 20_000;
  const loop = async (rpc: typeof direct) => {
    const t = performance.now();
    for (let i = 0; i < N; i++) await rpc.getBalance(WHO, { commitment: 'confirmed' }).send();
    return (performance.now() - t) / N;
  };
  await loop(direct);
  await loop(routed);
  const [d1, r1, r2, d2] = [await loop(direct), await loop(routed), await loop(routed), await loop(direct)];
  const d = (d1 + d2) / 2;
  const r = (r1 + r2) / 2;
  report(
    `  no network (an endpoint that answers at once), ${N} × 2 each: kit RPC alone ${us(d)}, through the failover transport ${us(r)}: +${us(r - d)} per request`,
  );
});

/** 20 migrations; per migration, ms from each event to the first request sent to the new primary. */
async function switchLag(mode: 'subscription' | 'polling') {
  const lifeline = await createLifelineRpc({
    network: net.network,
    chainRpcUrl: localnet.rpcUrl,
    ...(mode === 'subscription' ? { chainWsUrl: localnet.wsUrl } : { pollIntervalMs: 400 }),
  });
  const sender = await failoverSender(localnet.rpcUrl, net.network, net.authority);
  const published = new Map<bigint, number>();
  lifeline.watcher.subscribe((v) => published.set(v.epoch, performance.now()));
  const lag = { confirmed: [] as number[], landed: [] as number[], published: [] as number[] };
  for (let i = 0; i < 20; i++) {
    const view = lifeline.watcher.current!;
    const to = standbysOf(view, 0)[0];
    // Requests back to back: the start of the first one the new primary answered.
    let running = true;
    let firstOnNew: number | null = null;
    const loop = (async () => {
      while (running) {
        const t = performance.now();
        await lifeline.rpc.getSlot({ commitment: 'confirmed' }).send();
        if (firstOnNew === null && lifeline.transport.lastEndpoint === to.url) firstOnNew = t;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const { landedAt, confirmedAt } = await sender.send({
      group: 0,
      toId: to.id,
      expectedGroupEpoch: view.groupEpochs[0],
    });
    const deadline = performance.now() + 10_000;
    while (firstOnNew === null && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    running = false;
    await loop;
    expect(firstOnNew, `migration ${i}: no request reached ${to.url}`).not.toBeNull();
    lag.confirmed.push(firstOnNew! - confirmedAt);
    lag.landed.push(firstOnNew! - landedAt);
    lag.published.push(firstOnNew! - published.get(view.epoch + 1n)!);
    await new Promise((r) => setTimeout(r, 200));
  }
  lifeline.stop();
  const line = (what: string, xs: number[]) => {
    const s = stats(xs);
    return `    ${what} p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  (min ${ms(Math.min(...xs))}, max ${ms(Math.max(...xs))})`;
  };
  report(
    `  ${mode === 'subscription' ? 'subscription (chainWsUrl)' : 'polling only, every 400 ms'}: first request sent to the new primary, after`,
  );
  report(line('the transaction is seen confirmed:', lag.confirmed));
  report(line('its status is first seen (landed): ', lag.landed));
  report(line('the watcher publishes the epoch:   ', lag.published));
}

it('migration confirmed → first request on the new primary, 20 migrations', async () => {
  report('switch lag, 20 migrations each (force_failover built with the generated client, sent with kit, its status');
  report(
    'polled every 5 ms; 400 ms slots; requests back to back). Negative: the client had moved before the status said so.',
  );
  await switchLag('subscription');
  await switchLag('polling');
});

it('the package size, gzipped, without kit', async () => {
  const bundle = async (contents: string) => {
    const out = await build({
      stdin: { contents, resolveDir: pkg, loader: 'js' },
      bundle: true,
      format: 'esm',
      minify: true,
      write: false,
      platform: 'browser',
      external: ['@solana/kit', '@solana/kit/*'],
    });
    const bytes = out.outputFiles[0].contents;
    return `${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KB gzipped (${(bytes.length / 1024).toFixed(1)} KB minified)`;
  };
  report(`size (esbuild, minified, gzip -9, @solana/kit external):`);
  report(
    `  import { createLifelineRpc }                  ${await bundle("export { createLifelineRpc } from '@lifeline/client';")}`,
  );
  report(`  everything from '@lifeline/client'            ${await bundle("export * from '@lifeline/client';")}`);
  report(
    `  everything from '@lifeline/client/generated'  ${await bundle("export * from '@lifeline/client/generated';")}`,
  );
  report(
    `  both entry points                             ${await bundle("export * from '@lifeline/client'; export * from '@lifeline/client/generated';")}`,
  );
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: pkg, encoding: 'utf8' }));
  report(
    `  npm tarball: ${(packed.size / 1024).toFixed(1)} KB (${packed.entryCount} files, ${(packed.unpackedSize / 1024).toFixed(1)} KB unpacked)`,
  );
  report(`machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}, @solana/kit 8.4.0`);
});
