// watchTopology against a real localnet, the way client/tests/router.rs tests the Rust
// TopologyWatcher: it sees the topology and each change, by subscription and by polling
// alone; and — through a proxy that cuts its WebSocket — it falls back to polling and
// resubscribes once the socket can be opened again. No keepers: the role is moved by hand.
import { createSolanaRpc, createSolanaRpcSubscriptions } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { primaryOf, standbysOf, watchTopology, type TopologyWatcher } from '../../src';
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
async function moveAndSee(w: TopologyWatcher) {
  const view = w.current!;
  const to = standbysOf(view, 0)[0];
  await net.failover(to.id);
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

  it('sees them by polling alone', async () => {
    const w = await watcher('polling');
    expect(w.transport).toBe('polling');
    await moveAndSee(w);
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

  it('every watcher published each change once, each a newer epoch', () => {
    expect(watchers).toHaveLength(3);
    for (const list of epochs.values()) {
      expect(list.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < list.length; i++) expect(list[i]).toBeGreaterThan(list[i - 1]);
    }
  });
});
