// watchTopology against a real localnet, the way client/tests/router.rs tests the Rust
// TopologyWatcher: it sees the topology and each change, by subscription and by polling
// alone; and — through a proxy that cuts its WebSocket — it falls back to polling and
// resubscribes once the socket can be opened again. No keepers: the role is moved by hand,
// with `lifeline failover` or with a transaction built by the generated client. Last, the
// example script runs against it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { createSolanaRpc, createSolanaRpcSubscriptions } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { primaryOf, standbysOf, watchTopology, type TopologyWatcher } from '../../src';
import { failoverSender } from './failover-tx';
import { startLocalnet, startNetwork, waitUntil, type Localnet, type TestNetwork } from './harness';
import { startProxy, type Proxy } from './proxy';

let localnet: Localnet;
let net: TestNetwork;
let proxy: Proxy;
const watchers: TopologyWatcher[] = [];
/** Per watcher, the epochs it published, its first view's included. */
const epochs = new Map<TopologyWatcher, bigint[]>();

beforeAll(async () => {
  localnet = await startLocalnet({ endpoints: 3 });
  net = await startNetwork(localnet, { keepers: 0, name: 'watched' });
  proxy = await startProxy(localnet.wsUrl);
});

afterAll(async () => {
  for (const w of watchers) w.stop();
  await proxy?.close();
  await net?.stop();
  await localnet?.stop();
});

async function watcher(mode: 'subscription' | 'polling', wsUrl = localnet.wsUrl) {
  const w = await watchTopology({
    rpc: createSolanaRpc(localnet.rpcUrl),
    rpcSubscriptions: mode === 'subscription' ? createSolanaRpcSubscriptions(wsUrl) : null,
    network: net.network,
    // Subscribed, a change must arrive by notification: the resync is far away.
    pollIntervalMs: mode === 'subscription' ? 60_000 : 100,
    resubscribeMinMs: 100,
    resubscribeMaxMs: 400,
  });
  watchers.push(w);
  epochs.set(w, [w.current!.epoch]);
  w.subscribe((v) => epochs.get(w)!.push(v.epoch));
  return w;
}

/** Moves group 0's primary to its first standby; resolves when `w` shows it. */
async function moveAndSee(w: TopologyWatcher, via: 'cli' | 'kit' = 'cli') {
  const view = w.current!;
  const to = standbysOf(view, 0)[0];
  if (via === 'cli') await net.failover(to.id);
  else {
    const sender = await failoverSender(localnet.rpcUrl, net.network, net.authority);
    await sender.send({ group: 0, toId: to.id, expectedGroupEpoch: view.groupEpochs[0] });
  }
  const seen = await w.waitFor((v) => v.epoch > view.epoch, { timeoutMs: 10_000 });
  expect(primaryOf(seen, 0)?.id).toBe(to.id);
  return seen;
}

describe('watchTopology', () => {
  it('sees the topology and its changes by subscription', async () => {
    const w = await watcher('subscription');
    const view = w.current!;
    expect(primaryOf(view, 0)?.url).toBe(localnet.endpointUrls[0]);
    expect(standbysOf(view, 0).map((e) => e.url)).toEqual(localnet.endpointUrls.slice(1));
    await waitUntil('the subscription', () => w.transport === 'subscription', 10_000);
    const seen = await moveAndSee(w);
    expect(seen.migrations[0].toId).toBe(primaryOf(seen, 0)!.id);
  });

  it('sees them by polling alone (a failover sent with the generated client)', async () => {
    const w = await watcher('polling');
    expect(w.transport).toBe('polling');
    await moveAndSee(w, 'kit');
  });

  it('falls back to polling when its socket drops and resubscribes when it can', async () => {
    const w = await watcher('subscription', proxy.url);
    await waitUntil('the subscription', () => w.transport === 'subscription', 10_000);
    const connections = proxy.accepted;
    proxy.drop({ refuse: true });
    await waitUntil('the fall back to polling', () => w.transport === 'polling', 10_000);
    proxy.accept();
    await waitUntil('the resubscription', () => w.transport === 'subscription', 10_000);
    expect(proxy.accepted).toBeGreaterThan(connections);
    // Followed by notification again (the poll is a minute away).
    await moveAndSee(w);
  });

  it('the example script follows the network (it imports the build, like an app)', async () => {
    const dir = fileURLToPath(new URL('../..', import.meta.url));
    expect(existsSync(`${dir}/dist/index.js`), 'run `npm run build` first').toBe(true);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['examples/follow-network.mjs', localnet.rpcUrl, localnet.wsUrl, net.network, '0', '1'],
        { cwd: dir, timeout: 30_000 },
        (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stdout}${stderr}`)) : resolve(stdout)),
      ),
    );
    const primary = primaryOf(watchers[0].current!, 0)!.url;
    expect(out).toContain(`following ${net.network}: epoch`);
    expect(out).toMatch(new RegExp(`slot \\d+ from ${primary}`));
  });

  it('every watcher published each change once, each a newer epoch', () => {
    expect(watchers).toHaveLength(3);
    for (const list of epochs.values()) {
      expect(list.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < list.length; i++) expect(list[i]).toBeGreaterThan(list[i - 1]);
    }
  });
});
