// The live view of one network: a first read over JSON-RPC (network, topology and ballot
// in one getMultipleAccounts), then an account subscription on each of the three over the
// PubSub WebSocket, with polling whenever the WebSocket is down (and a slow resync while
// it is up, in case a notification was missed). Everything it learns reaches the page
// through three callbacks.
import {
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  getAddressEncoder,
  getBase58Decoder,
  getBase64Encoder,
  getProgramDerivedAddress,
  type Address,
  type Base58EncodedBytes,
  type ReadonlyUint8Array,
  type Signature,
} from '@solana/kit';

import { NETWORK_DISCRIMINATOR } from '../generated/accounts';
import type { DashboardConfig } from './config';
import { migrationsIn, type JsonTransaction, type MigrationEvidence } from './events';
import {
  AccountMismatch,
  decodeBallotAccount,
  decodeNetworkAccount,
  decodeTopologyAccount,
  PROGRAM_ID,
  type BallotModel,
  type AccountKind,
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
}

export interface LiveOptions {
  pollMs: number;
  resyncMs: number;
  resubscribeMs: number;
}

const DEFAULTS: LiveOptions = { pollMs: 1_500, resyncMs: 10_000, resubscribeMs: 5_000 };
const COMMITMENT = 'confirmed' as const;
const EVIDENCE_RETRY_MS = 3_000;
const EVIDENCE_TRIES = 20;

const base58 = (bytes: ReadonlyUint8Array) => getBase58Decoder().decode(bytes) as Base58EncodedBytes;
const fromBase64 = (data: string) => getBase64Encoder().encode(data);

async function pda(seed: string, network: Address): Promise<Address> {
  const [address] = await getProgramDerivedAddress({
    programAddress: PROGRAM_ID,
    seeds: [seed, getAddressEncoder().encode(network)],
  });
  return address;
}

/** The network's Topology account: PDA ["topology", network]. */
export const topologyAddress = (network: Address) => pda('topology', network);
/** The network's Ballot account: PDA ["ballot", network]. */
export const ballotAddress = (network: Address) => pda('ballot', network);

/** The three accounts the page reads. */
interface Addresses {
  network: Address;
  topology: Address;
  ballot: Address;
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}

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
  private network: NetworkModel | null = null;
  private topology: TopologyModel | null = null;
  private ballot: BallotModel | null = null;
  /** Per account, the slot its current data was read at: an older read never wins. */
  private readonly readAt = new Map<Address, bigint>();
  private slot = 0n;
  private subscribed = false;
  private readonly evidence = new Map<string, MigrationEvidence>();
  /** Per migration (new epoch): failed look-ups so far and when the next may run. */
  private readonly evidenceTries = new Map<string, { tries: number; nextAt: number }>();
  private readonly evidenceUnavailable = new Set<string>();
  private evidenceBusy = false;

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
    if (!this.stopped) this.callbacks.onHealth(h);
  }

  private async run() {
    this.health({ kind: 'connecting' });
    const network = await this.resolveNetwork();
    if (!network) return;
    const addresses = { network, topology: await topologyAddress(network), ballot: await ballotAddress(network) };
    // First read: retried until it works, so the page recovers when the RPC comes back.
    while (!this.stopped) {
      if (await this.refresh(addresses)) break;
      await sleep(this.options.pollMs, this.abort.signal);
    }
    void this.subscribeLoop(addresses);
    while (!this.stopped) {
      await sleep(this.subscribed ? this.options.resyncMs : this.options.pollMs, this.abort.signal);
      if (!this.stopped) await this.refresh(addresses);
    }
  }

  /** The configured network, or the only one the RPC knows; null when the page must ask. */
  private async resolveNetwork(): Promise<Address | null> {
    if (this.config.network) return this.config.network as Address;
    while (!this.stopped) {
      try {
        const found = await this.rpc
          .getProgramAccounts(PROGRAM_ID, {
            encoding: 'base64',
            commitment: COMMITMENT,
            filters: [{ memcmp: { offset: 0n, bytes: base58(NETWORK_DISCRIMINATOR), encoding: 'base58' } }],
          })
          .send({ abortSignal: this.abort.signal });
        const candidates = found.flatMap(({ pubkey, account }) => {
          try {
            const n = decodeNetworkAccount(pubkey, account.owner, fromBase64(account.data[0]));
            return [{ address: pubkey, name: n.name }];
          } catch {
            return []; // not decodable as a network: not a candidate
          }
        });
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
        this.health({ kind: 'rpc-unreachable', message: `${this.config.rpcUrl}: ${describe(e)}` });
      }
      await sleep(this.options.pollMs, this.abort.signal);
    }
    return null;
  }

  /** Reads network, topology and ballot in one request. False when the page cannot show the network. */
  private async refresh(addresses: Addresses): Promise<boolean> {
    try {
      const { network, topology, ballot } = addresses;
      const read = await this.rpc
        .getMultipleAccounts([network, topology, ballot], { encoding: 'base64', commitment: COMMITMENT })
        .send({ abortSignal: this.abort.signal });
      const [networkAccount, topologyAccount, ballotAccount] = read.value;
      if (!networkAccount) {
        throw new AccountMismatch(`no account exists at ${network} on ${this.config.rpcUrl}`);
      }
      // The network's own bytes first: a wrong address is named for what it holds.
      this.apply(network, networkAccount.owner, fromBase64(networkAccount.data[0]), read.context.slot, 'network');
      if (!topologyAccount) throw new AccountMismatch(`${network} has no topology account (${topology})`);
      if (!ballotAccount) throw new AccountMismatch(`${network} has no ballot account (${ballot})`);
      this.apply(topology, topologyAccount.owner, fromBase64(topologyAccount.data[0]), read.context.slot, 'topology');
      this.apply(ballot, ballotAccount.owner, fromBase64(ballotAccount.data[0]), read.context.slot, 'ballot');
      this.health({ kind: 'live', transport: this.subscribed ? 'subscription' : 'polling' });
      this.publish();
      return true;
    } catch (e) {
      if (this.stopped) return false;
      if (e instanceof AccountMismatch) {
        this.health({ kind: 'bad-network', message: e.message });
      } else {
        this.health({ kind: 'rpc-unreachable', message: `${this.config.rpcUrl}: ${describe(e)}` });
      }
      return false;
    }
  }

  /** One account's bytes, read at `slot`, into the state: it must be the `kind` expected at `address`. */
  private apply(address: Address, owner: string, data: ReadonlyUint8Array, slot: bigint, kind: AccountKind) {
    const seen = this.readAt.get(address);
    if (seen !== undefined && seen > slot) return;
    if (kind === 'network') this.network = decodeNetworkAccount(address, owner, data);
    else if (kind === 'topology') this.topology = decodeTopologyAccount(address, owner, data);
    else this.ballot = decodeBallotAccount(address, owner, data);
    this.readAt.set(address, slot);
    if (slot > this.slot) this.slot = slot;
  }

  private publish() {
    const { network, topology, ballot } = this;
    if (this.stopped || !network || !topology || !ballot) return;
    this.callbacks.onSnapshot({ slot: this.slot, network, topology, ballot });
    void this.findEvidence(topology);
  }

  private async subscribeLoop(addresses: Addresses) {
    const kinds: AccountKind[] = ['network', 'topology', 'ballot'];
    while (!this.stopped) {
      const local = new AbortController();
      const stopLocal = () => local.abort();
      this.abort.signal.addEventListener('abort', stopLocal);
      try {
        const streams = await Promise.all(
          kinds.map((kind) =>
            this.subscriptions
              .accountNotifications(addresses[kind], { encoding: 'base64', commitment: COMMITMENT })
              .subscribe({ abortSignal: local.signal }),
          ),
        );
        this.subscribed = true;
        this.health({ kind: 'live', transport: 'subscription' });
        // Any stream ending (socket closed, server gone) ends them all.
        await Promise.race(
          streams.map(async (stream, i) => {
            for await (const n of stream) {
              this.safeApply(addresses[kinds[i]], n.value.owner, n.value.data[0], n.context.slot, kinds[i]);
            }
          }),
        );
      } catch {
        // Connection refused or dropped: fall through to polling.
      } finally {
        this.abort.signal.removeEventListener('abort', stopLocal);
        local.abort();
      }
      if (this.stopped) return;
      if (this.subscribed) {
        this.subscribed = false;
        this.health({ kind: 'live', transport: 'polling' });
      }
      await sleep(this.options.resubscribeMs, this.abort.signal);
    }
  }

  private safeApply(address: Address, owner: string, data: string, slot: bigint, kind: AccountKind) {
    try {
      this.apply(address, owner, fromBase64(data), slot, kind);
      this.publish();
    } catch {
      // Not decodable (closed, or replaced by something else): the next poll says what.
    }
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
