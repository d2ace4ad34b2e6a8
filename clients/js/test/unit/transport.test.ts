// The failover transport's rules, against scripted endpoints: where a request goes, what
// moves it on, what is returned as is, the circuit breaker, and the context-slot floor.
import {
  createSolanaRpcFromTransport,
  isSolanaError,
  SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR,
  SolanaError,
  type Address,
} from '@solana/kit';
import { describe, expect, it } from 'vitest';

import {
  answerSlot,
  commitmentOf,
  createFailoverTransport,
  FailoverError,
  isFailoverError,
  topologyView,
  type TopologyView,
} from '../../src';
import { getTopologyDecoder } from '../../src/generated/accounts';
import { answer, scriptedEndpoints, topologyBytes, type EndpointSpec } from './fakes';

const WHO = '11111111111111111111111111111111' as Address;
/** The slot the scripted topology was read at: the endpoints' answers stand near it. */
const READ_AT = 100n;

function viewOf(endpoints: EndpointSpec[], epoch = 1n): TopologyView {
  return topologyView(getTopologyDecoder().decode(topologyBytes({ epoch, endpoints })), READ_AT);
}

/** ep0 primary, ep1 and ep2 standbys (in that order), ep3 quarantined, ep4 retired. */
const TOPOLOGY = viewOf([
  { id: 0, role: 'primary' },
  { id: 1, role: 'standby', priority: 1 },
  { id: 2, role: 'standby', priority: 2 },
  { id: 3, role: 'quarantined' },
  { id: 4, role: 'retired' },
]);
const [E0, E1, E2, E3, E4] = [0, 1, 2, 3, 4].map((i) => `http://e${i}`);

const httpError = (statusCode: number) =>
  new SolanaError(SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, { headers: new Headers(), message: 'x', statusCode });
const rpcError = (code: number) => ({
  jsonrpc: '2.0',
  id: '1',
  error: { code: BigInt(code), message: `error ${code}` },
});

function setup(
  behaviour: Parameters<typeof scriptedEndpoints>[0],
  options: Parameters<typeof createFailoverTransport>[0] = {},
) {
  const endpoints = scriptedEndpoints(behaviour);
  const source = { current: TOPOLOGY as TopologyView | null };
  const transport = createFailoverTransport({
    watcher: source,
    createEndpointTransport: endpoints.create,
    staleRetryDelayMs: 1,
    ...options,
  });
  const rpc = createSolanaRpcFromTransport(transport);
  const balance = () => rpc.getBalance(WHO, { commitment: 'confirmed' }).send();
  return { transport, rpc, calls: endpoints.calls, source, balance };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );

describe('where a request goes', () => {
  it('to the primary; quarantined and retired endpoints are never candidates', async () => {
    const everyone = Object.fromEntries([E0, E1, E2, E3, E4].map((u) => [u, () => answer(5n)]));
    const { transport, calls, balance } = setup(everyone);
    expect(transport.candidates()).toEqual([E0, E1, E2]);
    await balance();
    expect(calls).toEqual([E0]);
    expect(transport.lastEndpoint).toBe(E0);
  });

  it('follows the topology it is given at each request', async () => {
    const { transport, calls, source, balance } = setup({ [E0]: () => answer(5n), [E2]: () => answer(5n) });
    await balance();
    source.current = viewOf(
      [
        { id: 2, role: 'primary' },
        { id: 0, role: 'quarantined' },
      ],
      2n,
    );
    await balance();
    expect(calls).toEqual([E0, E2]);
    expect(transport.candidates()).toEqual([E2]);
  });

  it('to the fixed fallback list while no topology is known, never once one is', async () => {
    const F = 'http://fallback';
    const { transport, calls, source, balance } = setup(
      { [F]: () => answer(5n), [E0]: () => answer(6n) },
      { fallbackUrls: [F] },
    );
    source.current = null;
    expect(transport.candidates()).toEqual([F]);
    await balance();
    source.current = TOPOLOGY;
    await balance();
    expect(calls).toEqual([F, E0]);
  });

  it('nowhere, with a typed error, when nothing may serve', async () => {
    const { source, balance } = setup({}, {});
    source.current = viewOf([{ id: 3, role: 'quarantined' }]);
    expect(isFailoverError(await failure(balance()), 'NoEndpoint')).toBe(true);
    source.current = null;
    const e = await failure(balance());
    expect(isFailoverError(e, 'NoEndpoint') && e.message).toMatch(/no fallback URL/);
  });
});

describe('what moves a request to the next candidate at once', () => {
  const cases: [string, () => unknown][] = [
    ['a refused connection', () => Promise.reject(new TypeError('fetch failed'))],
    ['HTTP 500', () => Promise.reject(httpError(500))],
    ['HTTP 503', () => Promise.reject(httpError(503))],
    ['HTTP 429', () => Promise.reject(httpError(429))],
    ['JSON-RPC -32005 (node is behind)', () => rpcError(-32005)],
    ['JSON-RPC -32016 (min context slot not reached)', () => rpcError(-32016)],
    ['JSON-RPC -32603 (internal error)', () => rpcError(-32603)],
    ['a timeout', () => new Promise(() => {})],
  ];
  for (const [what, fails] of cases) {
    it(what, async () => {
      const { transport, calls, balance } = setup({ [E0]: fails, [E1]: () => answer(5n) }, { timeoutMs: 20 });
      const { value } = await balance();
      expect(value).toBe(0n);
      expect(calls).toEqual([E0, E1]);
      expect(transport.lastEndpoint).toBe(E1);
    });
  }

  it('and every failure is reported when none answers', async () => {
    const { calls, balance } = setup({ [E0]: () => Promise.reject(httpError(503)), [E1]: () => rpcError(-32005) });
    const e = await failure(balance());
    expect(isFailoverError(e, 'AllFailed')).toBe(true);
    expect((e as FailoverError).attempts.map((a) => a.url)).toEqual([E0, E1, E2]);
    expect(calls).toEqual([E0, E1, E2]); // one round: no waiting on failures
  });
});

describe('what is returned as it is (the request is wrong, not the node)', () => {
  it('HTTP 4xx other than 429', async () => {
    const { calls, balance } = setup({ [E0]: () => Promise.reject(httpError(413)), [E1]: () => answer(5n) });
    const e = await failure(balance());
    expect(isSolanaError(e, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR) && e.context.statusCode).toBe(413);
    expect(calls).toEqual([E0]);
  });

  it('a JSON-RPC error such as invalid params', async () => {
    const { calls, balance } = setup({ [E0]: () => rpcError(-32602), [E1]: () => answer(5n) });
    const e = await failure(balance());
    expect(isSolanaError(e) && e.context.__code).toBe(-32602);
    expect(calls).toEqual([E0]);
  });

  it('the caller aborting', async () => {
    const { rpc, calls } = setup({ [E0]: () => new Promise(() => {}), [E1]: () => answer(5n) });
    const abort = new AbortController();
    const pending = failure(rpc.getSlot().send({ abortSignal: abort.signal }));
    await new Promise((r) => setTimeout(r, 5));
    abort.abort(new Error('gave up'));
    expect(String(await pending)).toMatch(/gave up/);
    expect(calls).toEqual([E0]);
  });
});

describe('the circuit breaker', () => {
  it('sends an endpoint that failed twice to the back, and re-admits it after the cooldown', async () => {
    let e0Up = false;
    const { transport, calls, balance } = setup(
      { [E0]: () => (e0Up ? answer(9n) : Promise.reject(new TypeError('refused'))), [E1]: () => answer(5n) },
      { breakerCooldownMs: 40 },
    );
    await balance();
    expect(transport.candidates()[0]).toBe(E0); // one failure: still first
    await balance();
    expect(transport.candidates()).toEqual([E1, E2, E0]); // two: open
    calls.length = 0;
    await balance();
    expect(calls).toEqual([E1]);
    e0Up = true;
    await new Promise((r) => setTimeout(r, 60));
    expect(transport.candidates()[0]).toBe(E0);
    await balance();
    expect(transport.lastEndpoint).toBe(E0);
  });

  it('still tries endpoints with an open breaker when nothing else answers', async () => {
    let calls0 = 0;
    const { balance } = setup(
      { [E0]: () => (++calls0 <= 2 ? Promise.reject(new TypeError('refused')) : answer(5n)) },
      { breakerCooldownMs: 60_000 },
    );
    await failure(balance());
    await failure(balance()); // E0 has failed twice: open
    expect((await balance()).value).toBe(0n); // E1, E2 refuse; E0, last, answers
  });
});

describe('the context-slot floor', () => {
  it('refuses an answer older than one already returned, and asks the next candidate', async () => {
    let e0Slot = 100n;
    const { transport, calls, balance } = setup({ [E0]: () => answer(e0Slot), [E1]: () => answer(101n) });
    expect((await balance()).context.slot).toBe(100n);
    expect(transport.floor('confirmed')).toBe(100n);
    e0Slot = 90n; // E0 lags now
    calls.length = 0;
    expect((await balance()).context.slot).toBe(101n);
    expect(calls).toEqual([E0, E1]);
    expect(transport.served().get(E0)).toBe(1);
    // The same slot again is not older: returned.
    e0Slot = 101n;
    expect((await balance()).context.slot).toBe(101n);
  });

  it('is kept per commitment; getSlot counts, signature statuses are judged at processed', async () => {
    const slots: Record<string, bigint> = { processed: 102n, confirmed: 101n, finalized: 80n };
    const { transport, rpc } = setup({
      [E0]: (p) => {
        const c = commitmentOf(p);
        return p.method === 'getSlot' ? { jsonrpc: '2.0', id: '1', result: slots[c] } : answer(slots[c]);
      },
    });
    await rpc.getSlot({ commitment: 'processed' }).send();
    await rpc.getBalance(WHO, { commitment: 'confirmed' }).send();
    await rpc.getBalance(WHO, { commitment: 'finalized' }).send();
    expect([transport.floor('processed'), transport.floor('confirmed'), transport.floor('finalized')]).toEqual([
      102n,
      101n,
      80n,
    ]);
    expect(commitmentOf({ method: 'getSignatureStatuses', params: [[]] })).toBe('processed');
    expect(commitmentOf({ method: 'getBalance', params: ['x'] })).toBe('finalized');
    expect(commitmentOf({ method: 'sendTransaction', params: ['x', { preflightCommitment: 'confirmed' }] })).toBe(
      'confirmed',
    );
    expect(answerSlot({ method: 'getSlot' }, 7n)).toBe(7n);
    expect(answerSlot({ method: 'getBalance' }, { context: { slot: 8 } })).toBe(8n);
    expect(answerSlot({ method: 'getHealth' }, 'ok')).toBeUndefined();
  });

  it('refuses an answer from the future and serves the next candidate; the floor stays where the others are', async () => {
    let e0Slot = 1_000_000n + READ_AT;
    const { transport, calls, balance } = setup({ [E0]: () => answer(e0Slot), [E1]: () => answer(READ_AT + 1n) });
    expect((await balance()).context.slot).toBe(READ_AT + 1n);
    expect(calls).toEqual([E0, E1]);
    expect(transport.floor('confirmed')).toBe(READ_AT + 1n);
    // honest again: served at once, nothing left behind
    e0Slot = READ_AT + 1n;
    calls.length = 0;
    expect((await balance()).context.slot).toBe(READ_AT + 1n);
    expect(calls[calls.length - 1]).toBe(E0);
  });

  const ONLY_E0 = viewOf([{ id: 0, role: 'primary' }]);

  it('waits once when every answer is stale, then returns a fresh one', async () => {
    const e0 = [answer(100n), answer(99n), answer(100n)]; // the floor, stale, fresh after the wait
    const { calls, source, balance } = setup({ [E0]: () => e0.shift() });
    source.current = ONLY_E0;
    await balance();
    calls.length = 0;
    expect((await balance()).context.slot).toBe(100n);
    expect(calls).toEqual([E0, E0]);
  });

  it('errs rather than go back in time when only stale answers are left', async () => {
    let slot = 100n;
    const { calls, source, balance } = setup({ [E0]: () => answer(slot) });
    source.current = ONLY_E0;
    await balance();
    slot = 50n;
    calls.length = 0;
    const e = await failure(balance());
    expect(isFailoverError(e, 'OnlyStale')).toBe(true);
    expect((e as Error).message).toMatch(/older slot/);
    expect(calls).toEqual([E0, E0]); // two rounds, the wait between them
  });

  it('does not wait when a candidate failed rather than lagged', async () => {
    let slot = 100n;
    const { calls, balance } = setup({ [E0]: () => answer(slot) });
    await balance();
    slot = 50n;
    calls.length = 0;
    expect(isFailoverError(await failure(balance()), 'AllFailed')).toBe(true);
    expect(calls).toEqual([E0, E1, E2]);
  });
});
