// Following accounts: an account subscription per address for low latency, reads with one
// getMultipleAccounts as the fallback — often while no subscription is up, slowly while
// one is (a notification can be lost) — and resubscription with backoff after the socket
// drops. What the reads and notifications mean is the caller's (watch.ts).
import type {
  AccountNotificationsApi,
  Address,
  Commitment,
  GetMultipleAccountsApi,
  Rpc,
  RpcSubscriptions,
} from '@solana/kit';

import { fetchRawAccounts, rawAccount, type RawAccount } from './accounts';

/** How a follower currently learns about changes. */
export type FollowTransport = 'subscription' | 'polling';

export interface FollowOptions {
  /** Where the accounts are read. */
  rpc: Rpc<GetMultipleAccountsApi>;
  /** Where they are subscribed to; without it the follower only polls. */
  rpcSubscriptions?: RpcSubscriptions<AccountNotificationsApi> | null;
  /** Default 'confirmed'. */
  commitment?: Commitment;
  /** How often the accounts are read while no subscription is up. Default 2000 ms. */
  pollIntervalMs?: number;
  /** How often they are read while subscribed (a notification may be lost). Default: pollIntervalMs. */
  resyncIntervalMs?: number;
  /** Resubscription backoff after a failed or dropped subscription: doubles from min to max. Default 250 ms … 5 s. */
  resubscribeMinMs?: number;
  resubscribeMaxMs?: number;
  /** Aborting it stops the follower. */
  signal?: AbortSignal;
}

export interface FollowHandlers {
  /** Every account, read together at `slot` (null: no account at that address). */
  onRead(slot: bigint, accounts: (RawAccount | null)[]): void;
  /** One account changed, as notified at `slot`. */
  onNotification(index: number, slot: bigint, account: RawAccount | null): void;
  /** A read failed (the follower keeps trying). */
  onReadError(error: unknown): void;
  onTransport(transport: FollowTransport): void;
}

/** Resolves after `ms`, or as soon as one of `signals` aborts. */
export function sleep(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((s) => s?.aborted)) return resolve();
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s?.addEventListener('abort', done, { once: true });
  });
}

export class AccountFollower {
  readonly #addresses: Address[];
  readonly #handlers: FollowHandlers;
  readonly #options: Required<Omit<FollowOptions, 'signal' | 'rpcSubscriptions'>> &
    Pick<FollowOptions, 'rpcSubscriptions'>;
  readonly #abort = new AbortController();
  #wake = new AbortController();
  #transport: FollowTransport = 'polling';
  #started = false;

  constructor(addresses: Address[], handlers: FollowHandlers, options: FollowOptions) {
    this.#addresses = addresses;
    this.#handlers = handlers;
    const pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.#options = {
      rpc: options.rpc,
      rpcSubscriptions: options.rpcSubscriptions,
      commitment: options.commitment ?? 'confirmed',
      pollIntervalMs,
      resyncIntervalMs: options.resyncIntervalMs ?? pollIntervalMs,
      resubscribeMinMs: options.resubscribeMinMs ?? 250,
      resubscribeMaxMs: options.resubscribeMaxMs ?? 5_000,
    };
    if (options.signal?.aborted) this.#abort.abort();
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  get transport(): FollowTransport {
    return this.#transport;
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** One read of every account; throws what the RPC throws. */
  async read(): Promise<void> {
    const { slot, accounts } = await fetchRawAccounts(this.#options.rpc, this.#addresses, {
      commitment: this.#options.commitment,
      abortSignal: this.#abort.signal,
    });
    if (!this.stopped) this.#handlers.onRead(slot, accounts);
  }

  /** Starts polling (first read at once when `readFirst`) and, given rpcSubscriptions, subscribing. */
  start({ readFirst }: { readFirst: boolean }): void {
    if (this.#started || this.stopped) return;
    this.#started = true;
    void this.#pollLoop(readFirst);
    if (this.#options.rpcSubscriptions) void this.#subscribeLoop(this.#options.rpcSubscriptions);
  }

  stop(): void {
    this.#abort.abort();
  }

  /** Ends the poll loop's current wait: the next read happens now. */
  #wakeUp() {
    this.#wake.abort();
  }

  async #pollLoop(readFirst: boolean) {
    let first = readFirst;
    while (!this.stopped) {
      if (!first) {
        this.#wake = new AbortController();
        const wait = this.#transport === 'subscription' ? this.#options.resyncIntervalMs : this.#options.pollIntervalMs;
        await sleep(wait, this.#abort.signal, this.#wake.signal);
        if (this.stopped) return;
      }
      first = false;
      try {
        await this.read();
      } catch (e) {
        if (!this.stopped) this.#handlers.onReadError(e);
      }
    }
  }

  #setTransport(transport: FollowTransport) {
    if (this.#transport === transport || this.stopped) return;
    this.#transport = transport;
    this.#handlers.onTransport(transport);
  }

  async #subscribeLoop(subscriptions: RpcSubscriptions<AccountNotificationsApi>) {
    const { commitment, resubscribeMinMs, resubscribeMaxMs } = this.#options;
    let backoff = resubscribeMinMs;
    while (!this.stopped) {
      const local = new AbortController();
      const stopLocal = () => local.abort();
      this.#abort.signal.addEventListener('abort', stopLocal, { once: true });
      try {
        const streams = await Promise.all(
          this.#addresses.map((address) =>
            subscriptions
              .accountNotifications(address, { encoding: 'base64', commitment })
              .subscribe({ abortSignal: local.signal }),
          ),
        );
        backoff = resubscribeMinMs;
        this.#setTransport('subscription');
        // What changed between the last read and the subscription would never be notified.
        this.#wakeUp();
        // Any stream ending (socket closed, server gone) ends them all.
        await Promise.race(
          streams.map(async (stream, i) => {
            for await (const n of stream) {
              if (this.stopped) return;
              this.#handlers.onNotification(i, n.context.slot, rawAccount(this.#addresses[i], n.value));
            }
          }),
        );
      } catch {
        // Refused or dropped: polling carries on meanwhile.
      } finally {
        this.#abort.signal.removeEventListener('abort', stopLocal);
        local.abort();
      }
      if (this.stopped) return;
      if (this.#transport === 'subscription') {
        this.#setTransport('polling');
        this.#wakeUp();
      }
      await sleep(backoff, this.#abort.signal);
      backoff = Math.min(backoff * 2, resubscribeMaxMs);
    }
  }
}
