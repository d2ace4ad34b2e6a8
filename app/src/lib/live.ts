// The live view of one network: a first read over JSON-RPC, then account and program
// subscriptions over the PubSub WebSocket, with polling whenever the WebSocket is down
// (and a slow resync while it is up, in case a notification was missed). Everything it
// learns reaches the page through three callbacks.
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

import { KEEPER_REPORT_DISCRIMINATOR, NETWORK_DISCRIMINATOR } from '../generated/accounts';
import type { DashboardConfig } from './config';
import { migrationsIn, type JsonTransaction, type MigrationEvidence } from './events';
import {
  AccountMismatch,
  accountKind,
  decodeNetworkAccount,
  decodeReportAccount,
  decodeTopologyAccount,
  PROGRAM_ID,
  type NetworkModel,
  type ReportModel,
  type TopologyModel,
} from './model';

export type Health =
  | { kind: 'connecting' }
  | { kind: 'live'; transport: 'subscription' | 'polling' }
  | { kind: 'rpc-unreachable'; message: string }
  | { kind: 'bad-network'; message: string }
  | { kind: 'choose-network'; candidates: { address: Address; name: string }[] };

export interface Snapshot {
  /** The highest slot any of the data was read at. */
  slot: bigint;
  network: NetworkModel;
  topology: TopologyModel;
  reports: ReportModel[];
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

export async function topologyAddress(network: Address): Promise<Address> {
  const [pda] = await getProgramDerivedAddress({
    programAddress: PROGRAM_ID,
    seeds: ['topology', getAddressEncoder().encode(network)],
  });
  return pda;
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
  private readonly reports = new Map<Address, ReportModel>();
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
    const address = await this.resolveNetwork();
    if (!address) return;
    const topology = await topologyAddress(address);
    // First read: retried until it works, so the page recovers when the RPC comes back.
    while (!this.stopped) {
      if (await this.refresh(address, topology)) break;
      await sleep(this.options.pollMs, this.abort.signal);
    }
    void this.subscribeLoop(address);
    while (!this.stopped) {
      await sleep(this.subscribed ? this.options.resyncMs : this.options.pollMs, this.abort.signal);
      if (!this.stopped) await this.refresh(address, topology);
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

  /** Reads network, topology and reports. False when the page cannot show the network. */
  private async refresh(network: Address, topology: Address): Promise<boolean> {
    try {
      const signal = { abortSignal: this.abort.signal };
      const [pair, reports] = await Promise.all([
        this.rpc.getMultipleAccounts([network, topology], { encoding: 'base64', commitment: COMMITMENT }).send(signal),
        this.rpc
          .getProgramAccounts(PROGRAM_ID, {
            encoding: 'base64',
            commitment: COMMITMENT,
            withContext: true,
            filters: [
              { memcmp: { offset: 0n, bytes: base58(KEEPER_REPORT_DISCRIMINATOR), encoding: 'base58' } },
              { memcmp: { offset: 8n, bytes: network as string as Base58EncodedBytes, encoding: 'base58' } },
            ],
          })
          .send(signal),
      ]);
      const [networkAccount, topologyAccount] = pair.value;
      if (!networkAccount) {
        throw new AccountMismatch(`no account exists at ${network} on ${this.config.rpcUrl}`);
      }
      if (!topologyAccount) {
        throw new AccountMismatch(`${network} has no topology account (${topology})`);
      }
      this.apply(network, networkAccount.owner, fromBase64(networkAccount.data[0]), pair.context.slot);
      this.apply(topology, topologyAccount.owner, fromBase64(topologyAccount.data[0]), pair.context.slot);
      for (const { pubkey, account } of reports.value) {
        this.apply(pubkey, account.owner, fromBase64(account.data[0]), reports.context.slot);
      }
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

  /** One account's bytes, read at `slot`, into the state. */
  private apply(address: Address, owner: string, data: ReadonlyUint8Array, slot: bigint) {
    const seen = this.readAt.get(address);
    if (seen !== undefined && seen > slot) return;
    this.readAt.set(address, slot);
    if (slot > this.slot) this.slot = slot;
    const kind = accountKind(data);
    if (kind === 'network') this.network = decodeNetworkAccount(address, owner, data);
    else if (kind === 'topology') this.topology = decodeTopologyAccount(address, owner, data);
    else if (kind === 'report') this.reports.set(address, decodeReportAccount(address, owner, data));
    else throw new AccountMismatch(`${address} is not a Lifeline account`);
  }

  private publish() {
    if (this.stopped || !this.network || !this.topology) return;
    const reports = [...this.reports.values()].filter((r) => r.network === this.network!.address);
    this.callbacks.onSnapshot({ slot: this.slot, network: this.network, topology: this.topology, reports });
    void this.findEvidence(this.topology);
  }

  private async subscribeLoop(network: Address) {
    while (!this.stopped) {
      const local = new AbortController();
      const stopLocal = () => local.abort();
      this.abort.signal.addEventListener('abort', stopLocal);
      try {
        const accountStream = await this.subscriptions
          .accountNotifications(network, { encoding: 'base64', commitment: COMMITMENT })
          .subscribe({ abortSignal: local.signal });
        // Topology and reports both carry the network at offset 8; one subscription serves both.
        const programStream = await this.subscriptions
          .programNotifications(PROGRAM_ID, {
            encoding: 'base64',
            commitment: COMMITMENT,
            filters: [{ memcmp: { offset: 8n, bytes: network as string as Base58EncodedBytes, encoding: 'base58' } }],
          })
          .subscribe({ abortSignal: local.signal });
        this.subscribed = true;
        this.health({ kind: 'live', transport: 'subscription' });
        const onNetwork = (async () => {
          for await (const n of accountStream) {
            this.safeApply(network, n.value.owner, n.value.data[0], n.context.slot);
          }
        })();
        const onProgram = (async () => {
          for await (const n of programStream) {
            this.safeApply(n.value.pubkey, n.value.account.owner, n.value.account.data[0], n.context.slot);
          }
        })();
        // Either stream ending (socket closed, server gone) ends both.
        await Promise.race([onNetwork, onProgram]);
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

  private safeApply(address: Address, owner: string, data: string, slot: bigint) {
    try {
      this.apply(address, owner, fromBase64(data), slot);
      this.publish();
    } catch {
      // A non-Lifeline account matched the filter: not ours to show.
    }
  }

  /**
   * The evidence for each migration in the topology's history: the MigrationExecuted
   * event in the transaction that made it. Only transactions in the slots the history
   * names are fetched (attestations also touch the topology, and they are many).
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
      const oldest = missing.reduce((m, r) => (r.slot < m ? r.slot : m), missing[0].slot);
      let before: Signature | undefined;
      for (let page = 0; page < 10 && !this.stopped; page++) {
        const sigs = await this.rpc
          .getSignaturesForAddress(topology.address, { limit: 200, before, commitment: COMMITMENT })
          .send({ abortSignal: this.abort.signal });
        for (const s of sigs) {
          if (!wanted.has(s.slot) || s.err) continue;
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
        if (sigs.length < 200 || sigs[sigs.length - 1].slot < oldest) break;
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
