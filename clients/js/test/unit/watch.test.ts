// The watchers' rules, against a scripted RPC and scripted subscriptions: the first read
// checks the network first; a view only ever moves to a newer epoch, whichever way it
// arrives; polling carries on while the subscription is refused or dropped, and the
// watcher resubscribes; a change made before the subscription started is not missed.
import { describe, expect, it } from 'vitest';

import {
  findBallotAddress,
  findTopologyAddress,
  LifelineAccountError,
  watchNetworkState,
  watchTopology,
  type NetworkState,
  type TopologyView,
} from '../../src';
import { waitUntil } from '../localnet/harness';
import {
  ballotBytes,
  fakeRpc,
  fakeSubscriptions,
  info,
  NETWORK,
  networkBytes,
  Stream,
  SYSTEM,
  topologyBytes,
  type Info,
} from './fakes';

const TOPOLOGY = await findTopologyAddress(NETWORK);
const BALLOT = await findBallotAddress(NETWORK);
const topo = (epoch: bigint) => info(topologyBytes({ epoch, endpoints: [{ id: 0, role: 'primary' }] }));

function chain(epoch = 1n) {
  const accounts = new Map<string, Info>([
    [NETWORK, info(networkBytes())],
    [TOPOLOGY, topo(epoch)],
    [BALLOT, info(ballotBytes())],
  ]);
  return { accounts, ...fakeRpc(accounts) };
}

const fast = { pollIntervalMs: 10, resubscribeMinMs: 5, resubscribeMaxMs: 20 };

describe('watchTopology', () => {
  it('reads the network and its topology before it returns; a wrong address is a typed error', async () => {
    const { rpc, accounts } = chain(3n);
    const w = await watchTopology({ rpc, network: NETWORK, ...fast });
    expect(w.current?.epoch).toBe(3n);
    expect(w.address).toBe(TOPOLOGY);
    w.stop();

    accounts.set(NETWORK, info(networkBytes(), SYSTEM));
    const e = await watchTopology({ rpc, network: NETWORK }).catch((x: unknown) => x);
    expect(e instanceof LifelineAccountError && [e.code, e.address]).toEqual(['WrongOwner', NETWORK]);
    accounts.set(NETWORK, info(networkBytes()));
    accounts.delete(TOPOLOGY);
    const f = await watchTopology({ rpc, network: NETWORK }).catch((x: unknown) => x);
    expect(f instanceof LifelineAccountError && [f.code, f.address]).toEqual(['AccountNotFound', TOPOLOGY]);
  });

  it('an unreachable RPC at start is the RPC error; without waiting, it keeps trying', async () => {
    const { rpc, state } = chain(2n);
    state.failWith = new TypeError('fetch failed');
    await expect(watchTopology({ rpc, network: NETWORK })).rejects.toThrow('fetch failed');
    const errors: unknown[] = [];
    const w = await watchTopology({
      rpc,
      network: NETWORK,
      waitForFirstRead: false,
      onError: (e) => errors.push(e),
      ...fast,
    });
    expect(w.current).toBeNull();
    await waitUntil('a failed read', () => errors.length > 0, 2_000, 5);
    state.failWith = null;
    expect((await w.waitFor(() => true, { timeoutMs: 2_000 })).epoch).toBe(2n);
    w.stop();
  });

  it('never publishes an older epoch, nor the same one twice, whichever way it arrives', async () => {
    const { rpc, accounts, state } = chain(3n);
    const stream = new Stream();
    const { subscriptions } = fakeSubscriptions([stream]);
    const seen: bigint[] = [];
    const w = await watchTopology({ rpc, rpcSubscriptions: subscriptions, network: NETWORK, ...fast });
    w.subscribe((v) => seen.push(v.epoch));
    await waitUntil('the subscription', () => w.transport === 'subscription', 2_000, 5);
    stream.push(20n, topo(5n));
    await w.waitFor((v) => v.epoch === 5n, { timeoutMs: 2_000 });
    // A lagging node still answers epoch 4 (and then 3) to the polls; a late notification too.
    accounts.set(TOPOLOGY, topo(4n));
    const reads = state.reads;
    await waitUntil('more polls', () => state.reads > reads + 3, 2_000, 5);
    stream.push(21n, topo(4n));
    accounts.set(TOPOLOGY, topo(3n));
    await waitUntil('more polls', () => state.reads > reads + 6, 2_000, 5);
    expect(w.current?.epoch).toBe(5n);
    accounts.set(TOPOLOGY, topo(6n));
    await w.waitFor((v) => v.epoch === 6n, { timeoutMs: 2_000 });
    stream.push(22n, topo(6n));
    await waitUntil('more polls', () => state.reads > reads + 9, 2_000, 5);
    expect(seen).toEqual([5n, 6n]);
    w.stop();
  });

  it('polls while subscriptions are refused, and subscribes once they are not', async () => {
    const { rpc, accounts } = chain(1n);
    const stream = new Stream();
    const { subscriptions, state } = fakeSubscriptions([new Error('refused'), new Error('refused'), stream]);
    const w = await watchTopology({ rpc, rpcSubscriptions: subscriptions, network: NETWORK, ...fast });
    expect(w.transport).toBe('polling');
    accounts.set(TOPOLOGY, topo(2n));
    await w.waitFor((v) => v.epoch === 2n, { timeoutMs: 2_000 });
    await waitUntil('the third try to subscribe', () => w.transport === 'subscription', 2_000, 5);
    expect(state.subscribes).toBe(3);
    w.stop();
  });

  it('falls back to polling when the socket drops, and resubscribes', async () => {
    const { rpc, accounts } = chain(1n);
    const first = new Stream();
    const second = new Stream();
    const { subscriptions, state } = fakeSubscriptions([first, new Error('refused'), second]);
    const w = await watchTopology({
      rpc,
      rpcSubscriptions: subscriptions,
      network: NETWORK,
      ...fast,
      resyncIntervalMs: 60_000,
    });
    await waitUntil('the subscription', () => w.transport === 'subscription', 2_000, 5);
    first.fail();
    // Dropped: a read at once (the resync is a minute away), polling until resubscribed.
    accounts.set(TOPOLOGY, topo(2n));
    await w.waitFor((v) => v.epoch === 2n, { timeoutMs: 2_000 });
    await waitUntil('the resubscription', () => state.subscribes === 3 && w.transport === 'subscription', 2_000, 5);
    second.push(30n, topo(3n));
    expect((await w.waitFor((v) => v.epoch === 3n, { timeoutMs: 2_000 })).slot).toBe(30n);
    w.stop();
  });

  it('reads once more right after subscribing: a change made before it is not missed', async () => {
    const { rpc, accounts } = chain(1n);
    const stream = new Stream();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const subscriptions = {
      accountNotifications: () => ({
        subscribe: async () => {
          await gate;
          return stream;
        },
      }),
    } as never;
    const w = await watchTopology({
      rpc,
      rpcSubscriptions: subscriptions,
      network: NETWORK,
      pollIntervalMs: 60_000,
    });
    accounts.set(TOPOLOGY, topo(2n)); // changes while the subscription is being set up
    release();
    expect((await w.waitFor((v) => v.epoch === 2n, { timeoutMs: 2_000 })).epoch).toBe(2n);
    w.stop();
  });

  it('keeps its view when a notification or a poll is not a topology', async () => {
    const { rpc, accounts } = chain(1n);
    const stream = new Stream();
    const { subscriptions } = fakeSubscriptions([stream]);
    const errors: unknown[] = [];
    const w = await watchTopology({
      rpc,
      rpcSubscriptions: subscriptions,
      network: NETWORK,
      ...fast,
      onError: (e) => errors.push(e),
    });
    await waitUntil('the subscription', () => w.transport === 'subscription', 2_000, 5);
    stream.push(40n, info(networkBytes()));
    accounts.set(TOPOLOGY, null);
    await waitUntil('two errors', () => errors.length >= 2, 2_000, 5);
    expect(errors.every((e) => e instanceof LifelineAccountError)).toBe(true);
    expect(w.current?.epoch).toBe(1n);
    w.stop();
  });

  it('waitFor times out, and ends when the watcher stops', async () => {
    const { rpc } = chain(1n);
    const w = await watchTopology({ rpc, network: NETWORK, pollIntervalMs: 60_000 });
    await expect(w.waitFor((v: TopologyView) => v.epoch > 1n, { timeoutMs: 10 })).rejects.toThrow(/within 10 ms/);
    const pending = w.waitFor((v) => v.epoch > 1n);
    w.stop();
    await expect(pending).rejects.toThrow(/stopped/);
  });
});

describe('watchNetworkState', () => {
  it('publishes the three accounts together; each only moves forward', async () => {
    const { rpc, accounts, state } = chain(3n);
    const states: NetworkState[] = [];
    const stream = new Stream();
    const { subscriptions } = fakeSubscriptions([new Stream(), stream, new Stream()]);
    const w = await watchNetworkState({
      rpc,
      rpcSubscriptions: subscriptions,
      network: NETWORK,
      ...fast,
      onState: (s) => states.push(s),
    });
    await waitUntil('a state', () => states.length > 0, 2_000, 5);
    expect(states[0].topology.data.epoch).toBe(3n);
    expect(states[0].network.data.keeperCount).toBe(4);
    // The topology's stream (the second subscription) brings epoch 5 at a later slot.
    state.slot = 10n;
    stream.push(50n, topo(5n));
    await waitUntil('epoch 5', () => w.current?.topology.data.epoch === 5n, 2_000, 5);
    expect(w.current?.slot).toBe(50n);
    // Polls at slot 11 carry older data for the topology: refused; the others move on.
    state.slot = 60n;
    accounts.set(TOPOLOGY, topo(4n));
    await waitUntil('a newer read', () => w.current?.network.slot === 60n, 2_000, 5);
    expect(w.current?.topology.data.epoch).toBe(5n);
    w.stop();
  });

  it('reports a wrong network as a typed error, and the RPC failing as it fails, and retries', async () => {
    const { rpc, accounts, state } = chain(1n);
    accounts.set(NETWORK, info(topologyBytes()));
    const errors: unknown[] = [];
    const states: NetworkState[] = [];
    const w = await watchNetworkState({
      rpc,
      network: NETWORK,
      ...fast,
      onState: (s) => states.push(s),
      onError: (e) => errors.push(e),
    });
    await waitUntil('an error', () => errors.length > 0, 2_000, 5);
    expect(errors[0] instanceof LifelineAccountError && errors[0].code).toBe('WrongDiscriminator');
    state.failWith = new TypeError('fetch failed');
    const n = errors.length;
    await waitUntil('the RPC error', () => errors.length > n, 2_000, 5);
    expect(String(errors.at(-1))).toMatch(/fetch failed/);
    state.failWith = null;
    accounts.set(NETWORK, info(networkBytes()));
    await waitUntil('a state', () => states.length > 0, 2_000, 5);
    w.stop();
  });
});
