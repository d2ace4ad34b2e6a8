// watchTopology: the network's current topology, followed (client/src/watcher.rs,
// TopologyWatcher). watchNetworkState: network, topology and ballot together, for pages
// that show all three (the dashboard).
import type { Address } from '@solana/kit';

import {
  decodeLifelineAccount,
  fetchRawAccounts,
  type LifelineAccount,
  type LifelineAccountKind,
  type NetworkState,
  type RawAccount,
} from './accounts';
import { AccountFollower, type FollowOptions, type FollowTransport } from './follow';
import { findBallotAddress, findTopologyAddress } from './pda';
import { topologyView, type TopologyView } from './view';

export interface WatchTopologyOptions extends FollowOptions {
  /** The Network account (the topology's address derives from it). */
  network: Address;
  /**
   * Default true: watchTopology reads the network and its topology once before it returns,
   * and throws when that fails (a LifelineAccountError when the address is not a Lifeline
   * network). With false it returns at once and the first read happens in the background
   * (`current` stays null until then; errors go to onError).
   */
  waitForFirstRead?: boolean;
  /** A read failed, a notification could not be decoded, or a listener threw. The watcher carries on. */
  onError?: (error: unknown) => void;
}

export interface TopologyWatcher {
  readonly network: Address;
  /** The Topology account's address. */
  readonly address: Address;
  /** The newest epoch seen so far; null only before the first read (waitForFirstRead: false). */
  readonly current: TopologyView | null;
  /** How changes arrive right now. */
  readonly transport: FollowTransport;
  /** Calls `listener` with every newer epoch; returns the unsubscribe function. */
  subscribe(listener: (view: TopologyView) => void): () => void;
  /** The first view (current or later) for which `predicate` holds; rejects on timeout or stop. */
  waitFor(
    predicate: (view: TopologyView) => boolean,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<TopologyView>;
  stop(): void;
}

class Watcher implements TopologyWatcher {
  #current: TopologyView | null = null;
  readonly #listeners = new Set<(view: TopologyView) => void>();
  readonly #stopListeners = new Set<() => void>();
  readonly #onError: (error: unknown) => void;
  readonly follower: AccountFollower;

  constructor(
    readonly network: Address,
    readonly address: Address,
    options: WatchTopologyOptions,
  ) {
    const onError = options.onError ?? (() => {});
    this.#onError = onError;
    this.follower = new AccountFollower(
      [address],
      {
        onRead: (slot, [account]) => this.offer(account, slot),
        onNotification: (_, slot, account) => {
          try {
            this.offer(account, slot);
          } catch (e) {
            onError(e);
          }
        },
        onReadError: onError,
        onTransport: () => {},
      },
      options,
    );
  }

  get current() {
    return this.#current;
  }

  get transport() {
    return this.follower.transport;
  }

  /** Decodes `account` (throws a LifelineAccountError) and publishes it if its epoch is newer. */
  offer(account: RawAccount | null, slot: bigint) {
    const view = topologyView(decodeLifelineAccount('topology', account, this.address), slot);
    // Never back to an older epoch, nor the same epoch again: a slow poll or a lagging
    // node cannot roll the view back.
    if (this.#current && view.epoch <= this.#current.epoch) return;
    this.#current = view;
    for (const listener of [...this.#listeners]) {
      try {
        listener(view);
      } catch (e) {
        this.#onError(e);
      }
    }
  }

  subscribe(listener: (view: TopologyView) => void) {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  waitFor(predicate: (view: TopologyView) => boolean, options: { timeoutMs?: number; signal?: AbortSignal } = {}) {
    return new Promise<TopologyView>((resolve, reject) => {
      if (this.#current && predicate(this.#current)) return resolve(this.#current);
      const cleanup = () => {
        unsubscribe();
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#stopListeners.delete(onStop);
      };
      const unsubscribe = this.subscribe((view) => {
        if (predicate(view)) {
          cleanup();
          resolve(view);
        }
      });
      const fail = (why: string) => {
        cleanup();
        reject(new Error(`topology watcher: ${why}`));
      };
      const onAbort = () => fail('aborted');
      const onStop = () => fail('stopped');
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => fail(`no matching topology within ${options.timeoutMs} ms`), options.timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#stopListeners.add(onStop);
    });
  }

  stop() {
    this.follower.stop();
    for (const f of [...this.#stopListeners]) f();
  }
}

/**
 * Follows the network's topology: an account subscription (given rpcSubscriptions) with
 * polling as the fallback and resubscription after a dropped socket. `current` only ever
 * moves to a strictly newer epoch.
 */
export async function watchTopology(options: WatchTopologyOptions): Promise<TopologyWatcher> {
  const watcher = new Watcher(options.network, await findTopologyAddress(options.network), options);
  if (options.waitForFirstRead ?? true) {
    try {
      await firstRead(watcher, options);
    } catch (e) {
      watcher.stop();
      throw e;
    }
    watcher.follower.start({ readFirst: false });
  } else {
    watcher.follower.start({ readFirst: true });
  }
  return watcher;
}

/** Network and topology in one read: the network is checked first, so a wrong address is named for what it holds. */
async function firstRead(watcher: Watcher, options: WatchTopologyOptions) {
  const { slot, accounts } = await fetchRawAccounts(options.rpc, [watcher.network, watcher.address], {
    commitment: options.commitment,
    abortSignal: options.signal,
  });
  decodeLifelineAccount('network', accounts[0], watcher.network);
  watcher.offer(accounts[1], slot);
}

export interface WatchNetworkStateOptions extends FollowOptions {
  network: Address;
  /** Every change, once all three accounts are known; `changed` says which moved. */
  onState: (state: NetworkState, changed: LifelineAccountKind[]) => void;
  /** A read failed: a LifelineAccountError when the accounts are not a Lifeline network, else the RPC's error. */
  onError?: (error: unknown) => void;
  onTransport?: (transport: FollowTransport) => void;
}

export interface NetworkStateWatcher {
  readonly current: NetworkState | null;
  readonly transport: FollowTransport;
  stop(): void;
}

const KINDS: LifelineAccountKind[] = ['network', 'topology', 'ballot'];

/**
 * Network, topology and ballot, followed together: read at once and then as watchTopology
 * follows the topology (subscriptions, polling, resubscription). Each account only moves
 * to data read at the same or a newer slot, the topology never to an older epoch.
 * Returns at once; read failures go to onError and are retried.
 */
export async function watchNetworkState(options: WatchNetworkStateOptions): Promise<NetworkStateWatcher> {
  const { network, onState } = options;
  const onError = options.onError ?? (() => {});
  const addresses = [network, await findTopologyAddress(network), await findBallotAddress(network)];
  const held: Partial<{ [K in LifelineAccountKind]: LifelineAccount<unknown> }> = {};
  let current: NetworkState | null = null;

  const newer = (kind: LifelineAccountKind, next: LifelineAccount<unknown>) => {
    const had = held[kind];
    if (!had) return true;
    if (next.slot < had.slot) return false;
    if (kind === 'topology') {
      const epoch = (a: LifelineAccount<unknown>) => (a.data as NetworkState['topology']['data']).epoch;
      return epoch(next) >= epoch(had);
    }
    return true;
  };

  const apply = (updates: [LifelineAccountKind, LifelineAccount<unknown>][]) => {
    const changed = updates.filter(([kind, next]) => newer(kind, next));
    for (const [kind, next] of changed) held[kind] = next;
    const { network: n, topology: t, ballot: b } = held;
    if (!n || !t || !b) return;
    current = {
      slot: [n.slot, t.slot, b.slot].reduce((m, s) => (s > m ? s : m)),
      network: n as NetworkState['network'],
      topology: t as NetworkState['topology'],
      ballot: b as NetworkState['ballot'],
    };
    onState(
      current,
      changed.map(([k]) => k),
    );
  };

  const follower = new AccountFollower(
    addresses,
    {
      onRead: (slot, accounts) => {
        // Decode all three before applying any: a read is applied whole or not at all.
        const decoded = KINDS.map(
          (kind, i) =>
            [kind, { address: addresses[i], data: decodeLifelineAccount(kind, accounts[i], addresses[i]), slot }] as [
              LifelineAccountKind,
              LifelineAccount<unknown>,
            ],
        );
        apply(decoded);
      },
      onNotification: (i, slot, account) => {
        try {
          apply([
            [KINDS[i], { address: addresses[i], data: decodeLifelineAccount(KINDS[i], account, addresses[i]), slot }],
          ]);
        } catch {
          // Closed or replaced by something else: the next read says what.
        }
      },
      onReadError: onError,
      onTransport: (t) => options.onTransport?.(t),
    },
    options,
  );
  // A read that throws in onRead (not a Lifeline network) reaches onReadError too.
  follower.start({ readFirst: true });
  return {
    get current() {
      return current;
    },
    get transport() {
      return follower.transport;
    },
    stop: () => follower.stop(),
  };
}
