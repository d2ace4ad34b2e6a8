// The failover transport: an RpcTransport for @solana/kit whose every request goes to the
// group's current primary as the chain names it, and moves on at once when that node
// cannot answer (client/src/router.rs, FailoverRpc).
//
// Per request:
// * candidates: the group's serving endpoints in the topology's order — the primary, then
//   the standbys by priority and id; quarantined and retired endpoints never. Until a
//   topology is known (or without a watcher), the fixed `fallbackUrls`. Endpoints whose
//   local circuit breaker is open go last.
// * tried on the next candidate, immediately: transport errors and timeouts, HTTP 5xx and
//   429, and the JSON-RPC errors of a node that is behind or unwell (-32005, -32016,
//   -32603). Returned as they are: other HTTP and JSON-RPC errors (the request is wrong,
//   not the node; another node would say the same).
// * the context-slot floor (floors.ts): per commitment, what was already returned. An
//   answer for an older slot (a lagging or frozen node, after a failover) is refused and
//   the next candidate asked; when every candidate answered only stale, one wait of
//   `staleRetryDelayMs` and one more round, then a FailoverError rather than the past. An
//   answer from the future (beyond what the topology's read and the other endpoints
//   corroborate) is refused too, and no endpoint can raise the floor far above what the
//   others show: one lying endpoint never makes the others' answers unusable.
import {
  createDefaultRpcTransport,
  createSolanaRpcFromTransport,
  createSolanaRpcSubscriptions,
  isSolanaError,
  SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR,
  type Address,
  type Commitment,
  type RpcTransport,
} from '@solana/kit';

import { createBoundedTransport } from './bounded';
import { describeError, FailoverError, isLifelineAccountError, type FailedAttempt } from './errors';
import { Floors } from './floors';
import { sleep } from './follow';
import { servingOf, type TopologyView } from './view';
import { watchTopology, type TopologyWatcher, type WatchTopologyOptions } from './watch';

/** Anything that holds the current topology (a TopologyWatcher). */
export interface TopologySource {
  readonly current: TopologyView | null;
}

export interface FailoverTransportOptions {
  /** Where the candidates come from; without it, `fallbackUrls` are the candidates. */
  watcher?: TopologySource | null;
  /** The topology group this transport serves. Default 0. */
  group?: number;
  /** Tried in order while no topology is known (the chain itself cannot be read). */
  fallbackUrls?: readonly string[];
  /** Per attempt. Default 5000 ms. */
  timeoutMs?: number;
  /** Consecutive failures that open an endpoint's breaker. Default 2. */
  breakerThreshold?: number;
  /** How long an open breaker sends the endpoint to the back of the line. Default 3000 ms. */
  breakerCooldownMs?: number;
  /** After a round of only stale answers, wait this long and try one more round. Default 400 ms (a slot). */
  staleRetryDelayMs?: number;
  /** The transport for one endpoint. Default: kit's createDefaultRpcTransport({ url }). */
  createEndpointTransport?: (url: string) => RpcTransport;
}

export interface FailoverTransport extends RpcTransport {
  /** The order in which endpoints would be tried for the next request. */
  candidates(): string[];
  /** The endpoint that returned the last answer. */
  readonly lastEndpoint: string | null;
  /** Answers returned, per endpoint URL. */
  served(): ReadonlyMap<string, number>;
  /** The highest context slot returned so far at `commitment`. */
  floor(commitment: Commitment): bigint;
}

interface Health {
  failures: number;
  openUntil: number;
  served: number;
}

/** JSON-RPC errors of a node that is behind or unwell: another node may answer. */
const NODE_PROBLEMS = new Set([
  -32005, // node is behind / unhealthy
  -32016, // minimum context slot not reached
  -32603, // internal error
]);

type JsonRpcRequest = { method?: unknown; params?: unknown };
type JsonRpcResponse = { result?: unknown; error?: { code?: unknown; message?: unknown } };

/** The floor a request is judged against: the commitment it asks for (absent = finalized, as a validator reads it). */
export function commitmentOf(payload: unknown): Commitment {
  const { method, params } = (payload ?? {}) as JsonRpcRequest;
  // Signature statuses speak for the processed slot.
  if (method === 'getSignatureStatuses') return 'processed';
  for (const p of Array.isArray(params) ? params : []) {
    if (p && typeof p === 'object') {
      const asked =
        (p as { commitment?: unknown; preflightCommitment?: unknown }).commitment ??
        (p as { preflightCommitment?: unknown }).preflightCommitment;
      if (asked === 'processed' || asked === 'confirmed' || asked === 'finalized') return asked;
    }
  }
  return 'finalized';
}

/** The slot an answer speaks for: getSlot's number, or the context slot. */
export function answerSlot(payload: unknown, result: unknown): bigint | undefined {
  const { method } = (payload ?? {}) as JsonRpcRequest;
  const slot =
    method === 'getSlot' ? result : (result as { context?: { slot?: unknown } } | null | undefined)?.context?.slot;
  return typeof slot === 'bigint' ? slot : typeof slot === 'number' ? BigInt(slot) : undefined;
}

class Timeout extends Error {
  constructor(url: string, ms: number) {
    super(`${url} did not answer within ${ms} ms`);
  }
}

/** Where a failed attempt leaves the request. */
type Outcome = { retry: true; error: unknown; stale: boolean } | { retry: false; error: unknown };

export function createFailoverTransport(options: FailoverTransportOptions = {}): FailoverTransport {
  const group = options.group ?? 0;
  const fallbackUrls = [...(options.fallbackUrls ?? [])];
  const timeoutMs = options.timeoutMs ?? 5_000;
  const breakerThreshold = options.breakerThreshold ?? 2;
  const breakerCooldownMs = options.breakerCooldownMs ?? 3_000;
  const staleRetryDelayMs = options.staleRetryDelayMs ?? 400;
  const makeEndpoint = options.createEndpointTransport ?? ((url: string) => createDefaultRpcTransport({ url }));
  const endpoints = new Map<string, RpcTransport>();
  const health = new Map<string, Health>();
  const floors = new Floors();
  let lastEndpoint: string | null = null;

  const endpoint = (url: string) => {
    let t = endpoints.get(url);
    if (!t) endpoints.set(url, (t = makeEndpoint(url)));
    return t;
  };
  const healthOf = (url: string) => {
    let h = health.get(url);
    if (!h) health.set(url, (h = { failures: 0, openUntil: 0, served: 0 }));
    return h;
  };
  const failed = (url: string) => {
    const h = healthOf(url);
    h.failures += 1;
    if (h.failures >= breakerThreshold) h.openUntil = Date.now() + breakerCooldownMs;
  };
  const answered = (url: string, counts: boolean) => {
    const h = healthOf(url);
    h.failures = 0;
    h.openUntil = 0;
    if (counts) {
      h.served += 1;
      lastEndpoint = url;
    }
  };

  // The serving URLs of the last view seen (a view is immutable: computed once per epoch).
  let seenView: TopologyView | null = null;
  let seenUrls: string[] = [];
  function order(): string[] {
    const view = options.watcher?.current ?? null;
    if (!view) return fallbackUrls;
    if (view !== seenView) {
      seenView = view;
      seenUrls = servingOf(view, group).map((e) => e.url);
      floors.topology(view.epoch, view.slot, Date.now());
    }
    return seenUrls;
  }

  /** The URLs to try, in order: open breakers last, the topology's order otherwise. */
  function candidates(): string[] {
    const urls = order();
    const now = Date.now();
    const open = (url: string) => (health.get(url)?.openUntil ?? 0) > now;
    if (!urls.some(open)) return [...urls];
    return [...urls.filter((u) => !open(u)), ...urls.filter(open)];
  }

  // Per-attempt deadlines, checked by one timer while requests are in flight rather than a
  // timer (and an AbortController) per request: on the hot path an attempt costs one
  // promise. A timed-out attempt is abandoned, not aborted (its endpoint is hung; the
  // breaker keeps traffic away from it), and the caller's own signal is passed through.
  const inFlight = new Set<{ deadline: number; url: string; fail: (e: unknown) => void }>();
  let ticker: ReturnType<typeof setInterval> | null = null;
  const tick = () => {
    const now = Date.now();
    for (const a of inFlight) {
      if (a.deadline <= now) {
        inFlight.delete(a);
        a.fail(new Timeout(a.url, timeoutMs));
      }
    }
    if (inFlight.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  /** One endpoint's answer; rejects on its error, on the per-attempt timeout, or when the caller aborts. */
  function attempt(url: string, payload: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const entry = { deadline: Date.now() + timeoutMs, url, fail: reject };
      inFlight.add(entry);
      ticker ??= setInterval(tick, Math.max(5, Math.min(250, timeoutMs / 4)));
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        inFlight.delete(entry);
        signal?.removeEventListener('abort', onAbort);
      };
      endpoint(url)({ payload, ...(signal && { signal }) }).then(
        (v) => {
          done();
          resolve(v);
        },
        (e) => {
          done();
          reject(e);
        },
      );
    });
  }

  /** Classifies what an endpoint threw. */
  function thrown(error: unknown): Outcome {
    if (isSolanaError(error, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR)) {
      const status = error.context.statusCode;
      return status >= 500 || status === 429 ? { retry: true, error, stale: false } : { retry: false, error };
    }
    // fetch's TypeError (refused, reset, DNS), a timeout, a body that is not JSON.
    return { retry: true, error, stale: false };
  }

  const transport = async function failoverTransport<TResponse>({
    payload,
    signal,
  }: Parameters<RpcTransport>[0]): Promise<TResponse> {
    const commitment = commitmentOf(payload);
    const attempts: FailedAttempt[] = [];
    for (let round = 0; round < 2; round++) {
      const urls = candidates();
      if (urls.length === 0) {
        throw new FailoverError(
          'NoEndpoint',
          options.watcher?.current
            ? `no endpoint serves group ${group} (the topology names no primary or standby)`
            : 'no endpoint to send to: no topology yet and no fallback URL',
          attempts,
        );
      }
      let onlyStale = true;
      for (const url of urls) {
        signal?.throwIfAborted();
        let outcome: Outcome;
        try {
          const response = (await attempt(url, payload, signal)) as JsonRpcResponse;
          if (response && typeof response === 'object' && response.error) {
            const code = Number(response.error.code);
            if (!NODE_PROBLEMS.has(code)) {
              // The node is fine; the request is not. The RPC layer raises it.
              answered(url, true);
              return response as TResponse;
            }
            outcome = {
              retry: true,
              error: new Error(`${url} answered JSON-RPC error ${code}: ${String(response.error.message)}`),
              stale: false,
            };
          } else {
            const slot = answerSlot(payload, response?.result);
            const refused = slot === undefined ? null : floors.judge(url, commitment, slot, Date.now());
            if (refused) {
              outcome = { retry: true, error: new Error(`${url} ${refused.why}`), stale: refused.stale };
            } else {
              answered(url, true);
              return response as TResponse;
            }
          }
        } catch (error) {
          if (signal?.aborted) throw error; // the caller gave up
          outcome = thrown(error);
          if (!outcome.retry) {
            answered(url, false);
            throw error;
          }
        }
        failed(url);
        attempts.push({ url, error: outcome.error });
        if (!outcome.stale) onlyStale = false;
      }
      if (round > 0 || !onlyStale) {
        const stale = onlyStale;
        throw new FailoverError(
          stale ? 'OnlyStale' : 'AllFailed',
          stale
            ? `every endpoint answered for an older slot than already returned at ${commitment}: ${String((attempts.at(-1)?.error as Error).message)}`
            : `every endpoint failed (${attempts.length} attempts): ${attempts.map((a) => `${a.url}: ${describeError(a.error)}`).join('; ')}`,
          attempts,
        );
      }
      // A healthy standby may trail the old primary by a slot: give it one.
      await sleep(staleRetryDelayMs, signal);
    }
    throw new Error('unreachable');
  };

  // defineProperties, not Object.assign: the getter must stay a getter.
  return Object.defineProperties(transport as RpcTransport, {
    candidates: { value: candidates },
    lastEndpoint: { get: () => lastEndpoint },
    served: { value: () => new Map([...health].map(([url, h]) => [url, h.served])) },
    floor: { value: (commitment: Commitment) => floors.floor(commitment) },
  }) as FailoverTransport;
}

export interface LifelineRpcOptions extends Omit<FailoverTransportOptions, 'watcher'> {
  /** The Network account whose topology the requests follow. */
  network: Address;
  /** Where the topology is read: one RPC URL or several (tried in order, failing over). */
  chainRpcUrl: string | readonly string[];
  /** PubSub URL to follow the topology by subscription; without it, polling only. */
  chainWsUrl?: string;
  /** Commitment of the topology reads. Default 'confirmed'. */
  commitment?: Commitment;
  /** Topology polling (without a subscription, or as resync with one). Default 2000 ms. */
  pollIntervalMs?: number;
  /** Passed to the watcher (read failures after the first). */
  onError?: WatchTopologyOptions['onError'];
  /** The most read of one answer to the client's own chain reads (the topology). Default 1 MiB. */
  maxChainAnswerBytes?: number;
}

export interface LifelineRpc {
  /** A kit Rpc whose every request goes through `transport`. */
  rpc: ReturnType<typeof createSolanaRpcFromTransport>;
  transport: FailoverTransport;
  watcher: TopologyWatcher;
  /** Stops following the topology (the Rpc keeps the last topology it knew). */
  stop(): void;
}

/**
 * A ready kit Rpc that follows the network's topology: watchTopology on `chainRpcUrl`
 * (and `chainWsUrl`), and a failover transport over the group's endpoints. Throws a
 * LifelineAccountError when `network` is not a Lifeline network. When the chain cannot be
 * read at all, throws too — unless `fallbackUrls` are given: then requests go to those
 * until the topology has been read.
 */
export async function createLifelineRpc(options: LifelineRpcOptions): Promise<LifelineRpc> {
  const chainUrls = typeof options.chainRpcUrl === 'string' ? [options.chainRpcUrl] : [...options.chainRpcUrl];
  const chain = createSolanaRpcFromTransport(
    createFailoverTransport({
      fallbackUrls: chainUrls,
      // The client's own reads are bounded: a hostile RPC cannot exhaust the page's memory.
      createEndpointTransport: (url) => createBoundedTransport(url, options.maxChainAnswerBytes),
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    }),
  );
  const watchOptions: WatchTopologyOptions = {
    rpc: chain,
    rpcSubscriptions: options.chainWsUrl ? createSolanaRpcSubscriptions(options.chainWsUrl) : null,
    network: options.network,
    ...(options.commitment && { commitment: options.commitment }),
    ...(options.pollIntervalMs !== undefined && { pollIntervalMs: options.pollIntervalMs }),
    ...(options.onError && { onError: options.onError }),
  };
  let watcher: TopologyWatcher;
  try {
    watcher = await watchTopology(watchOptions);
  } catch (e) {
    if (isLifelineAccountError(e) || !options.fallbackUrls?.length) throw e;
    // The chain cannot be read: serve from the fallback list until it can.
    watcher = await watchTopology({ ...watchOptions, waitForFirstRead: false });
  }
  const transport = createFailoverTransport({ ...options, watcher });
  return { rpc: createSolanaRpcFromTransport(transport), transport, watcher, stop: () => watcher.stop() };
}
