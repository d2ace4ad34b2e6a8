// Account bytes made with the generated encoders, and scripted stand-ins for an RPC, its
// subscriptions and its endpoints: the rules are tested without I/O or timing.
import {
  getBallotDecoder,
  getBallotEncoder,
  getBallotSize,
  getNetworkDecoder,
  getNetworkEncoder,
  getNetworkSize,
  getTopologyDecoder,
  getTopologyEncoder,
  getTopologySize,
  BALLOT_DISCRIMINATOR,
  NETWORK_DISCRIMINATOR,
  TOPOLOGY_DISCRIMINATOR,
} from '../../src/generated/accounts';
import { getBase64Decoder, type Address, type ReadonlyUint8Array, type RpcTransport } from '@solana/kit';

import { LIFELINE_PROGRAM_ADDRESS, ROLE_CODE, type Role } from '../../src';

export const NETWORK = 'Net1111111111111111111111111111111111111111' as Address;
export const SYSTEM = '11111111111111111111111111111111' as Address;

function zeroed(size: number, discriminator: ReadonlyUint8Array): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(discriminator);
  return bytes;
}

const text = (s: string, size: number) => {
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(s));
  return out;
};

export interface EndpointSpec {
  id: number;
  role: Role | number;
  url?: string;
  group?: number;
  priority?: number;
}

export function topologyBytes({
  epoch = 1n,
  endpoints = [] as EndpointSpec[],
  historyTotal = 0n,
  network = NETWORK,
}: {
  epoch?: bigint;
  endpoints?: EndpointSpec[];
  historyTotal?: bigint;
  network?: Address;
} = {}): Uint8Array {
  const t = getTopologyDecoder().decode(zeroed(getTopologySize(), TOPOLOGY_DISCRIMINATOR));
  const list = t.endpoints.map((e, i) => {
    const spec = endpoints[i];
    if (!spec) return e;
    const url = spec.url ?? `http://e${spec.id}`;
    return {
      ...e,
      id: spec.id,
      group: spec.group ?? 0,
      role: typeof spec.role === 'number' ? spec.role : ROLE_CODE[spec.role],
      priority: spec.priority ?? 0,
      urlLen: url.length,
      url: text(url, 128),
      region: text(`r${spec.id}`, 16),
      provider: text(`p${spec.id}`, 16),
    };
  });
  // Record n of the ring (at n % 8) says it made epoch 100 + n.
  const history = t.history.map((r, i) => ({ ...r, newEpoch: BigInt(100 + i), toId: i }));
  return getTopologyEncoder().encode({
    ...t,
    network,
    epoch,
    endpoints: list,
    endpointCount: endpoints.length,
    history,
    historyTotal,
  }) as Uint8Array;
}

export function networkBytes({ keeperCount = 4 } = {}): Uint8Array {
  const n = getNetworkDecoder().decode(zeroed(getNetworkSize(), NETWORK_DISCRIMINATOR));
  return getNetworkEncoder().encode({ ...n, keeperCount, name: text('unit', 32) }) as Uint8Array;
}

export function ballotBytes({ network = NETWORK } = {}): Uint8Array {
  const b = getBallotDecoder().decode(zeroed(getBallotSize(), BALLOT_DISCRIMINATOR));
  return getBallotEncoder().encode({ ...b, network }) as Uint8Array;
}

/** An account as getMultipleAccounts / accountNotifications return it (base64). */
export function info(bytes: Uint8Array, owner: Address = LIFELINE_PROGRAM_ADDRESS) {
  return {
    owner,
    data: [getBase64Decoder().decode(bytes), 'base64'] as [string, 'base64'],
    executable: false,
    lamports: 1n,
    space: BigInt(bytes.length),
    rentEpoch: 0n,
  };
}

export type Info = ReturnType<typeof info> | null;

/**
 * A scripted RPC: getMultipleAccounts answers from `accounts` (address → info) at the
 * current `slot`, or throws `failWith` when set.
 */
export function fakeRpc(accounts: Map<string, Info>) {
  const state = { slot: 10n, reads: 0, failWith: null as unknown };
  const rpc = {
    getMultipleAccounts: (addresses: Address[]) => ({
      send: async () => {
        state.reads += 1;
        if (state.failWith) throw state.failWith;
        return { context: { slot: state.slot }, value: addresses.map((a) => accounts.get(a) ?? null) };
      },
    }),
  };
  return { rpc: rpc as never, state };
}

/** One scripted notification stream: push notifications, end it, or make it fail. */
export class Stream {
  private queue: unknown[] = [];
  private waiting: ((v: IteratorResult<unknown>) => void) | null = null;
  private failing: ((e: unknown) => void) | null = null;
  private done = false;

  push(slot: bigint, value: Info) {
    this.deliver({ context: { slot }, value });
  }

  private deliver(v: unknown) {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failing = null;
      w({ value: v, done: false });
    } else this.queue.push(v);
  }

  /** The socket dropped: the iterator throws. */
  fail(e: unknown = new Error('socket closed')) {
    this.done = true;
    if (this.failing) this.failing(e);
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () =>
        new Promise((resolve, reject) => {
          if (this.queue.length) return resolve({ value: this.queue.shift(), done: false });
          if (this.done) return reject(new Error('socket closed'));
          this.waiting = resolve;
          this.failing = reject;
        }),
    };
  }
}

/**
 * Scripted subscriptions: each subscribe() takes the next entry of `plan` — a Stream, or
 * an error to reject with (refused). Past the plan, subscribe() refuses.
 */
export function fakeSubscriptions(plan: (Stream | Error)[]) {
  const state = { subscribes: 0 };
  const subscriptions = {
    accountNotifications: () => ({
      subscribe: async ({ abortSignal }: { abortSignal: AbortSignal }) => {
        const next = plan[state.subscribes++] ?? new Error('refused');
        if (next instanceof Error) throw next;
        abortSignal.addEventListener('abort', () => next.fail(new Error('aborted')));
        return next;
      },
    }),
  };
  return { subscriptions: subscriptions as never, state };
}

/** A JSON-RPC answer with a context slot. */
export const answer = (slot: bigint, value: unknown = 0n) => ({
  jsonrpc: '2.0',
  id: '1',
  result: { context: { slot }, value },
});

/** Endpoints whose behaviour per URL is a function of the request; records every call. */
export function scriptedEndpoints(
  behaviour: Record<string, (payload: { method: string; params: unknown[] }) => unknown>,
) {
  const calls: string[] = [];
  const create = (url: string): RpcTransport =>
    (async ({ payload }: { payload: unknown }) => {
      calls.push(url);
      const b = behaviour[url];
      if (!b) throw new TypeError(`fetch failed: ${url} refused`);
      return await b(payload as { method: string; params: unknown[] });
    }) as RpcTransport;
  return { create, calls };
}
