// The package against a real `lifeline localnet` with three fault endpoints in group 0
// (ep0 primary, ep1 and ep2 standbys) and four real keepers (quorum 3): typed reads and
// errors, a manual migration followed, the primary frozen and then down while requests
// keep succeeding, and a lagging endpoint's stale answer refused.
import { address, createSolanaRpc, createSolanaRpcFromTransport, generateKeyPairSigner } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createFailoverTransport,
  createLifelineRpc,
  fetchBallot,
  fetchNetwork,
  fetchNetworkState,
  fetchTopology,
  findTopologyAddress,
  isFailoverError,
  LifelineAccountError,
  LIFELINE_PROGRAM_ADDRESS,
  primaryOf,
  watchTopology,
  type LifelineRpc,
  type TopologyView,
} from '../../src';
import { startLocalnet, startNetwork, waitUntil, type Localnet, type TestNetwork } from './harness';

let localnet: Localnet;
let net: TestNetwork;
let client: LifelineRpc;
/** Every view the client's watcher published, in order. */
const published: TopologyView[] = [];
const chain = () => createSolanaRpc(localnet.rpcUrl);

beforeAll(async () => {
  localnet = await startLocalnet({ endpoints: 3 });
  net = await startNetwork(localnet, { keepers: 4 });
  client = await createLifelineRpc({
    network: net.network,
    chainRpcUrl: localnet.rpcUrl,
    chainWsUrl: localnet.wsUrl,
    breakerCooldownMs: 300,
    timeoutMs: 2_000,
  });
  published.push(client.watcher.current!);
  client.watcher.subscribe((v) => published.push(v));
  // The keepers' first attestations: every endpoint judged before any fault.
  await waitUntil(
    'every keeper to attest',
    async () => {
      const b = await fetchBallot(chain(), net.network);
      return b.data.reports.filter((r) => r.submittedSlot > 0n).length === 4;
    },
    30_000,
    200,
  );
});

afterAll(async () => {
  client?.stop();
  await net?.stop();
  await localnet?.stop();
});

const primaryUrl = (v: TopologyView | null) => (v ? primaryOf(v, 0)?.url : undefined);
const idOf = (url: string) => client.watcher.current!.endpoints.find((e) => e.url === url)!.id;

/** Requests (getBalance at confirmed) every ~20 ms until `done()`, each one required to succeed. */
async function keepRequesting(done: () => boolean, timeoutMs: number) {
  const who = address('11111111111111111111111111111111');
  const slots: bigint[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms (${slots.length} requests)`);
    const { context } = await client.rpc.getBalance(who, { commitment: 'confirmed' }).send();
    slots.push(context.slot);
    await new Promise((r) => setTimeout(r, 20));
  }
  return slots;
}

/** Never back in time: each answer's context slot is at least the one before. */
function expectMonotonic(slots: bigint[]) {
  for (let i = 1; i < slots.length; i++)
    expect(slots[i] >= slots[i - 1], `slot ${i}: ${slots[i]} < ${slots[i - 1]}`).toBe(true);
}

describe('reads', () => {
  it('fetches the network, its topology and its ballot, typed and checked', async () => {
    const rpc = chain();
    const network = await fetchNetwork(rpc, net.network);
    expect(network.address).toBe(net.network);
    expect(network.data.keeperCount).toBe(4);
    const topology = await fetchTopology(rpc, net.network);
    expect(topology.address).toBe(await findTopologyAddress(net.network));
    expect(topology.data.network).toBe(net.network);
    expect(topology.data.endpointCount).toBe(3);
    const ballot = await fetchBallot(rpc, net.network);
    expect(ballot.data.network).toBe(net.network);
    const state = await fetchNetworkState(rpc, net.network);
    expect(state.topology.data.epoch).toBeGreaterThanOrEqual(topology.data.epoch);
    expect(state.slot).toBe(state.ballot.slot);
    expect(primaryUrl(client.watcher.current)).toBe(localnet.endpointUrls[0]);
    expect(client.transport.candidates()).toEqual(localnet.endpointUrls);
  });

  it('a wrong network address or a non-Lifeline account gives a typed error', async () => {
    const rpc = chain();
    const nobody = (await generateKeyPairSigner()).address;
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e) => (e instanceof LifelineAccountError ? `${e.code}: ${e.message}` : `untyped: ${e}`),
      );
    expect(await codeOf(fetchNetwork(rpc, nobody))).toMatch(/^AccountNotFound: .* no account exists/);
    // A system account (the fee payer of apply) and the program itself: other owners.
    const authority = (await fetchNetwork(rpc, net.network)).data.authority;
    expect(await codeOf(fetchNetwork(rpc, authority))).toMatch(/^WrongOwner: .*owned by 1111/);
    expect(await codeOf(fetchNetwork(rpc, LIFELINE_PROGRAM_ADDRESS))).toMatch(/^WrongOwner/);
    // A Lifeline account of another type given as the network.
    const topology = await findTopologyAddress(net.network);
    expect(await codeOf(fetchNetwork(rpc, topology))).toBe(
      `WrongDiscriminator: ${topology} is not a Lifeline network: it is a topology account`,
    );
    // The topology and ballot of an address that is no network do not exist.
    expect(await codeOf(fetchTopology(rpc, nobody))).toMatch(/^AccountNotFound/);
    expect(await codeOf(fetchBallot(rpc, nobody))).toMatch(/^AccountNotFound/);
    // The watcher and the ready Rpc refuse to start on it, typed the same way.
    expect(await codeOf(watchTopology({ rpc, network: topology }))).toMatch(/^WrongDiscriminator/);
    expect(await codeOf(createLifelineRpc({ network: nobody, chainRpcUrl: localnet.rpcUrl }))).toMatch(
      new RegExp(`^AccountNotFound: ${nobody} is not a Lifeline network`),
    );
  });
});

describe('failover', () => {
  it('after a migration the transport uses the new primary', async () => {
    const [ep0, , ep2] = localnet.endpointUrls;
    await client.rpc.getSlot().send();
    expect(client.transport.lastEndpoint).toBe(ep0);
    const before = client.watcher.current!.epoch;
    await net.failover(idOf(ep2));
    const view = await client.watcher.waitFor((v) => v.epoch > before, { timeoutMs: 10_000 });
    expect(primaryUrl(view)).toBe(ep2);
    // The new primary first, then the standbys by priority (ep0 was demoted to one).
    expect(client.transport.candidates()).toEqual([ep2, ep0, localnet.endpointUrls[1]]);
    await client.rpc.getSlot().send();
    expect(client.transport.lastEndpoint).toBe(ep2);

    // And back.
    const back = client.watcher.current!.epoch;
    await net.failover(idOf(ep0));
    await client.watcher.waitFor((v) => v.epoch > back && primaryUrl(v) === ep0, { timeoutMs: 10_000 });
    await client.rpc.getSlot().send();
    expect(client.transport.lastEndpoint).toBe(ep0);
  });

  it('requests keep succeeding while the primary freezes and real keepers fail it over', async () => {
    const [ep0, ep1] = localnet.endpointUrls;
    expect(primaryUrl(client.watcher.current)).toBe(ep0);
    const served = client.transport.served().get(ep1) ?? 0;
    await localnet.fault(0, 'frozen');
    const slots = await keepRequesting(() => primaryUrl(client.watcher.current) === ep1, 45_000);
    // A few more on the new primary.
    let after = 0;
    slots.push(...(await keepRequesting(() => after++ >= 10, 10_000)));
    expectMonotonic(slots);
    expect(client.transport.lastEndpoint).toBe(ep1);
    expect((client.transport.served().get(ep1) ?? 0) - served).toBeGreaterThanOrEqual(10);
    const view = client.watcher.current!;
    expect(view.endpoints.find((e) => e.url === ep0)!.role).toBe('quarantined');
    expect(view.migrations[0].toId).toBe(idOf(ep1));
    // A quarantined endpoint is never a candidate.
    expect(client.transport.candidates()).toEqual([ep1, localnet.endpointUrls[2]]);
  });

  it('requests keep succeeding while the new primary goes down and is failed over', async () => {
    const [, ep1, ep2] = localnet.endpointUrls;
    expect(primaryUrl(client.watcher.current)).toBe(ep1);
    const served = client.transport.served().get(ep2) ?? 0;
    await localnet.fault(1, 'down');
    // At once: the next request already goes to ep2 (ep0 is quarantined, never a candidate).
    await client.rpc.getSlot().send();
    expect(client.transport.lastEndpoint).toBe(ep2);
    const slots = await keepRequesting(() => primaryUrl(client.watcher.current) === ep2, 45_000);
    expectMonotonic(slots);
    expect(client.transport.candidates()[0]).toBe(ep2);
    expect((client.transport.served().get(ep2) ?? 0) - served).toBeGreaterThan(0);
    await localnet.fault(0, 'healthy');
    await localnet.fault(1, 'healthy');
  });

  it("a lagging endpoint's stale answer is refused and tried elsewhere, never returned", async () => {
    const [ep0, ep1] = localnet.endpointUrls;
    // A fixed list (the lagging node's role on chain does not matter here): ep0, then ep1.
    const transport = createFailoverTransport({ fallbackUrls: [ep0, ep1] });
    const rpc = createSolanaRpcFromTransport(transport);
    await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
    expect(transport.lastEndpoint).toBe(ep0);
    const floor = transport.floor('confirmed');
    expect(floor).toBeGreaterThan(0n);
    await localnet.fault(0, 'lagging 50');
    const servedByEp0 = transport.served().get(ep0);
    const { context } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
    expect(context.slot).toBeGreaterThanOrEqual(floor);
    expect(transport.lastEndpoint).toBe(ep1);
    expect(transport.served().get(ep0)).toBe(servedByEp0);

    // With only the lagging node left, an error rather than the past.
    const alone = createFailoverTransport({ fallbackUrls: [ep0], staleRetryDelayMs: 100 });
    const aloneRpc = createSolanaRpcFromTransport(alone);
    await localnet.fault(0, 'healthy');
    await aloneRpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
    await localnet.fault(0, 'lagging 50');
    const err = await aloneRpc
      .getLatestBlockhash({ commitment: 'confirmed' })
      .send()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isFailoverError(err, 'OnlyStale'), String(err)).toBe(true);
    await localnet.fault(0, 'healthy');
  });

  it('serves through 3 s of answers from the future from its primary, and after', async () => {
    // The honest standby serves meanwhile: wait until one is back in rotation (the earlier
    // tests quarantined two).
    await waitUntil('a standby back in rotation', () => client.transport.candidates().length >= 2, 45_000, 200);
    const primary = primaryUrl(client.watcher.current)!;
    const index = localnet.endpointUrls.indexOf(primary);
    let ok = 0;
    let failed = 0;
    const run = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        try {
          await client.rpc.getBalance(address('11111111111111111111111111111111'), { commitment: 'confirmed' }).send();
          ok++;
        } catch {
          failed++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await localnet.fault(index, 'future 1000000');
    await run(3_000);
    await localnet.fault(index, 'healthy');
    await run(3_000);
    expect(ok * 100, `${ok} served, ${failed} failed`).toBeGreaterThanOrEqual((ok + failed) * 99);
    // and nothing from the future was returned: the floor stands near the chain's slot
    const slot = await chain().getSlot({ commitment: 'confirmed' }).send();
    expect(client.transport.floor('confirmed')).toBeLessThan(slot + 100n);
  });

  it('never published an older epoch than it had published', () => {
    expect(published.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < published.length; i++) expect(published[i].epoch > published[i - 1].epoch).toBe(true);
  });
});
