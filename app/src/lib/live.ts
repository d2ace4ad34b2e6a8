// The live view of one network: @lifeline/client's watchNetworkState follows network,
// topology and ballot (one getMultipleAccounts, then an account subscription on each over
// the PubSub WebSocket, polling whenever the WebSocket is down and a slow resync while it
// is up; an older read never overwrites a newer one). This file adds what the page needs
// on top: finding the network when none is named, the health banner, and the evidence of
// each migration. Everything it learns reaches the page through three callbacks.
import { createSolanaRpc, createSolanaRpcSubscriptions, type Address, type Signature } from '@solana/kit';
import {
  describeError,
  findNetworks,
  isLifelineAccountError,
  watchNetworkState,
  type FollowTransport,
  type NetworkState,
} from '@lifeline/client';

import type { DashboardConfig } from './config';
import { migrationsIn, type JsonTransaction, type MigrationEvidence } from './events';
import {
  ballotModel,
  networkModel,
  PROGRAM_ID,
  topologyModel,
  type BallotModel,
  type MigrationRecordModel,
  type NetworkModel,
  type TopologyModel,
} from './model';

export type Health =
  | { kind: 'connecting' }
  | { kind: 'live'; transport: 'subscription' | 'polling' }
  | { kind: 'rpc-unreachable'; message: string }
  | { kind: 'bad-network'; message: string }
  | { kind: 'choose-network'; candidates: { address: Address; name: string }[] };

export interface Snapshot {
  /** The highest slot any of the data was read at (the mirror's `now`). */
  slot: bigint;
  network: NetworkModel;
  topology: TopologyModel;
  ballot: BallotModel;
}

export interface LiveCallbacks {
  onSnapshot(snapshot: Snapshot): void;
  onHealth(health: Health): void;
  /**
   * Every migration whose evidence was found, newest first, and the new epochs of those
   * whose transaction could not be found (pruned by the RPC, or never readable).
   */
  onMigrations(migrations: MigrationEvidence[], unavailable: ReadonlySet<string>): void;
  /** Each keeper's wallet balance (lamports), read every `balanceMs`. */
  onBalances?(balances: ReadonlyMap<string, bigint>): void;
}

export interface LiveOptions {
  pollMs: number;
  resyncMs: number;
  resubscribeMs: number;
  balanceMs: number;
}

const DEFAULTS: LiveOptions = { pollMs: 1_500, resyncMs: 10_000, resubscribeMs: 5_000, balanceMs: 10_000 };
const COMMITMENT = 'confirmed' as const;
const EVIDENCE_RETRY_MS = 3_000;
const EVIDENCE_TRIES = 20;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export class LiveNetwork {
  private readonly rpc;
  private readonly subscriptions;
  private readonly options: LiveOptions;
  private readonly abort = new AbortController();
  private lastHealth: Health = { kind: 'connecting' };
  private transport: FollowTransport = 'polling';
  private readonly evidence = new Map<string, MigrationEvidence>();
  /** Per migration (new epoch): failed look-ups so far and when the next may run. */
  private readonly evidenceTries = new Map<string, { tries: number; nextAt: number }>();
  private readonly evidenceUnavailable = new Set<string>();
  private evidenceBusy = false;
  private keepers: Address[] = [];

  constructor(
    private readonly config: DashboardConfig,
    private readonly callbacks: LiveCallbacks,
    options: Partial<LiveOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.rpc = createSolanaRpc(config.rpcUrl);
    this.subscriptions = createSolanaRpcSubscriptions(config.wsUrl);
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.abort.abort();
  }

  private get stopped() {
    return this.abort.signal.aborted;
  }

  private health(h: Health) {
    this.lastHealth = h;
    if (!this.stopped) this.callbacks.onHealth(h);
  }

  private async run() {
    this.health({ kind: 'connecting' });
    const network = await this.resolveNetwork();
    if (!network) return;
    void this.followBalances();
    await watchNetworkState({
      rpc: this.rpc,
      rpcSubscriptions: this.subscriptions,
      network,
      commitment: COMMITMENT,
      pollIntervalMs: this.options.pollMs,
      resyncIntervalMs: this.options.resyncMs,
      resubscribeMinMs: Math.min(250, this.options.resubscribeMs),
      resubscribeMaxMs: this.options.resubscribeMs,
      signal: this.abort.signal,
      onState: (state) => this.publish(state),
      onError: (e) => {
        if (this.stopped) return;
        if (isLifelineAccountError(e)) this.health({ kind: 'bad-network', message: e.message });
        else this.health({ kind: 'rpc-unreachable', message: `${this.config.rpcUrl}: ${describeError(e)}` });
      },
      onTransport: (transport) => {
        this.transport = transport;
        if (this.lastHealth.kind === 'live') this.health({ kind: 'live', transport });
      },
    });
  }

  /** The configured network, or the only one the RPC knows; null when the page must ask. */
  private async resolveNetwork(): Promise<Address | null> {
    if (this.config.network) return this.config.network as Address;
    while (!this.stopped) {
      try {
        const candidates = await findNetworks(this.rpc, { commitment: COMMITMENT, abortSignal: this.abort.signal });
        if (candidates.length === 1) return candidates[0].address;
        if (candidates.length === 0) {
          this.health({
            kind: 'bad-network',
            message: `no Lifeline network exists on ${this.config.rpcUrl} yet (program ${PROGRAM_ID})`,
          });
        } else {
          this.health({ kind: 'choose-network', candidates });
          return null;
        }
      } catch (e) {
        if (this.stopped) return null;
        this.health({ kind: 'rpc-unreachable', message: `${this.config.rpcUrl}: ${describeError(e)}` });
      }
      await sleep(this.options.pollMs, this.abort.signal);
    }
    return null;
  }

  /** Reads the keepers' balances every `balanceMs` (what flags a keeper low on funds). */
  private async followBalances() {
    while (!this.stopped) {
      if (this.keepers.length > 0 && this.callbacks.onBalances) {
        try {
          const { value } = await this.rpc
            .getMultipleAccounts(this.keepers, { commitment: COMMITMENT, encoding: 'base64' })
            .send({ abortSignal: this.abort.signal });
          const balances = new Map<string, bigint>();
          this.keepers.forEach((k, i) => balances.set(k, value[i]?.lamports ?? 0n));
          if (!this.stopped) this.callbacks.onBalances(balances);
        } catch {
          // the health banner already says when the RPC is unreachable
        }
      }
      await sleep(this.keepers.length > 0 ? this.options.balanceMs : 500, this.abort.signal);
    }
  }

  private publish(state: NetworkState) {
    if (this.stopped) return;
    const topology = topologyModel(state.topology.address, state.topology.data);
    this.health({ kind: 'live', transport: this.transport });
    const network = networkModel(state.network.address, state.network.data);
    this.keepers = network.keepers.map((k) => k.address);
    this.callbacks.onSnapshot({
      slot: state.slot,
      network,
      topology,
      ballot: ballotModel(state.ballot.address, state.ballot.data),
    });
    void this.findEvidence(topology);
  }

  /**
   * The evidence for each migration in the topology's history: the MigrationExecuted
   * event in the transaction that made it. Usually that is the keeper attestation that
   * completed the breach quorum (submit_attestation executes the migration in the same
   * transaction), otherwise a trigger_migration or force_failover; all of them write the
   * topology, so the transaction is among the topology's signatures in the slot the record
   * names. Only transactions in those slots are fetched (attestations also touch the
   * topology, and they are many), and a slot's stop once its migrations are found.
   */
  private async findEvidence(topology: TopologyModel) {
    if (this.evidenceBusy) return;
    const now = Date.now();
    const missing = topology.history.filter((r) => {
      const key = r.newEpoch.toString();
      const tried = this.evidenceTries.get(key);
      return !this.evidence.has(key) && !this.evidenceUnavailable.has(key) && (!tried || tried.nextAt <= now);
    });
    if (missing.length === 0) return;
    this.evidenceBusy = true;
    try {
      const wanted = new Set(missing.map((r) => r.slot));
      const found = (r: MigrationRecordModel) => this.evidence.has(r.newEpoch.toString());
      const slotDone = (slot: bigint) => missing.every((r) => r.slot !== slot || found(r));
      const oldest = missing.reduce((m, r) => (r.slot < m ? r.slot : m), missing[0].slot);
      let before: Signature | undefined;
      for (let page = 0; page < 10 && !this.stopped; page++) {
        const sigs = await this.rpc
          .getSignaturesForAddress(topology.address, { limit: 200, before, commitment: COMMITMENT })
          .send({ abortSignal: this.abort.signal });
        for (const s of sigs) {
          if (!wanted.has(s.slot) || s.err || slotDone(s.slot)) continue;
          const tx = await this.rpc
            .getTransaction(s.signature, {
              encoding: 'json',
              maxSupportedTransactionVersion: 0,
              commitment: COMMITMENT,
            })
            .send({ abortSignal: this.abort.signal });
          if (!tx) continue;
          for (const m of migrationsIn(tx as unknown as JsonTransaction, PROGRAM_ID)) {
            if (m.event.header.network === topology.network) {
              this.evidence.set(m.event.header.epoch.toString(), m);
            }
          }
        }
        if (missing.every(found) || sigs.length < 200 || sigs[sigs.length - 1].slot < oldest) break;
        before = sigs[sigs.length - 1].signature;
      }
      // Not found yet: the transaction may not be readable at this commitment yet. Try
      // again a few seconds later, a bounded number of times.
      for (const r of missing) {
        const key = r.newEpoch.toString();
        if (this.evidence.has(key)) continue;
        const tries = (this.evidenceTries.get(key)?.tries ?? 0) + 1;
        this.evidenceTries.set(key, { tries, nextAt: Date.now() + EVIDENCE_RETRY_MS });
        if (tries >= EVIDENCE_TRIES) this.evidenceUnavailable.add(key);
      }
      const list = [...this.evidence.values()].sort((a, b) => (a.event.header.epoch < b.event.header.epoch ? 1 : -1));
      if (!this.stopped) this.callbacks.onMigrations(list, new Set(this.evidenceUnavailable));
    } catch {
      // The RPC hiccuped: the next snapshot tries again.
    } finally {
      this.evidenceBusy = false;
    }
  }
}
