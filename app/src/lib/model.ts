// Account bytes → what the dashboard shows. Reading and checking the accounts (owner,
// discriminator, size) and decoding them is @lifeline/client's (with its Codama-generated
// client); this file turns the decoded data into plain values for the page.
import type { Address, ReadonlyUint8Array } from '@solana/kit';
import {
  decodeLifelineAccount,
  LIFELINE_PROGRAM_ADDRESS,
  recentMigrations,
  type Ballot,
  type Network,
  type Policy,
  type Topology,
  type Vote,
} from '@lifeline/client';

import { fixedText } from './format';

export const PROGRAM_ID = LIFELINE_PROGRAM_ADDRESS;

/** Endpoint.role codes (programs/lifeline/src/state/mod.rs, `Role`). */
export const ROLE = { primary: 1, standby: 2, quarantined: 3, retired: 4 } as const;
/** MigrationRecord.from_id when the group had no primary (`u32::MAX`). */
export const NO_ENDPOINT = 0xffffffff;
/** Ballot cell flags (programs/lifeline/src/state/ballot.rs): what the keeper observed… */
export const OBS_UNREACHABLE = 1 << 0;
/** …answered with a slot or time beyond the keeper's trusted reference (from the future). */
export const OBS_FUTURE = 1 << 2;
export const OBS_DIVERGENT = 1 << 1;
/** …and the votes the program computed from its streaks when the attestation landed. */
export const VOTE_DOWN = 1 << 6;
export const VOTE_HEALTHY = 1 << 7;
/** `Verdict` codes; any other value reads as Unknown (no observation). */
export const VERDICT = { unknown: 0, healthy: 1, degraded: 2, down: 3 } as const;
const ZERO_KEY = '11111111111111111111111111111111';

export interface KeeperModel {
  /** Slot in Network.keepers: the bit in voter bitmaps. */
  index: number;
  address: Address;
  region: string;
  provider: string;
}

export interface NetworkModel {
  address: Address;
  name: string;
  creator: Address;
  authority: Address;
  guardian: Address | null;
  pendingAuthority: Address | null;
  policy: Policy;
  /** The non-empty keeper slots, in slot order. */
  keepers: KeeperModel[];
  /** Network.keeper_count: what the quorum is sized on. */
  keeperCount: number;
  paused: boolean;
  /** Who set the current pause (null when not paused). */
  pausedBy: Address | null;
  createdSlot: bigint;
}

export interface EndpointModel {
  id: number;
  group: number;
  kind: number;
  role: number;
  priority: number;
  url: string;
  region: string;
  provider: string;
  sinceSlot: bigint;
  quarantineUntilSlot: bigint;
  /** Topology epoch at which what keepers probe (URL, kind) last changed. */
  configEpoch: bigint;
  ejectionCount: number;
  lastReason: number;
}

export interface MigrationRecordModel {
  slot: bigint;
  newEpoch: bigint;
  group: number;
  fromId: number;
  toId: number;
  rule: number;
  cause: number;
  voters: number;
  voterCount: number;
  medianLatencyMs: number;
  medianSlotLag: number;
  medianErrorBps: number;
}

export interface TopologyModel {
  address: Address;
  network: Address;
  epoch: bigint;
  /** Rows read before this epoch do not count (their streaks were judged under another policy). */
  policyEpoch: bigint;
  /** Per group, the epoch of its last change. */
  groupEpochs: bigint[];
  /** In position order: column j of every ballot row is `endpoints[j]`. */
  endpoints: EndpointModel[];
  /** Newest first: the on-chain ring of the last HISTORY_LEN migrations. */
  history: MigrationRecordModel[];
  historyTotal: bigint;
  lastMigrationSlot: bigint[];
}

/** One keeper slot's row of the ballot: the latest attestation written there. */
export interface RowModel {
  /** The slot in Network.keepers this row belongs to. */
  index: number;
  /** Who wrote it (it counts only while that is the keeper in the slot). */
  keeper: Address;
  seq: bigint;
  /** 0 = never attested. */
  submittedSlot: bigint;
  referenceSlot: bigint;
  topologyEpoch: bigint;
  /** Column j is the endpoint at position j of the topology (all MAX_ENDPOINTS columns). */
  votes: Vote[];
}

/** Every keeper's latest attestation: one row per keeper slot. */
export interface BallotModel {
  address: Address;
  network: Address;
  rows: RowModel[];
}

const optionalKey = (key: Address): Address | null => (key === ZERO_KEY ? null : key);

/** Checks and decodes a Network account (a LifelineAccountError when it is not one). */
export function decodeNetworkAccount(address: Address, owner: string, data: ReadonlyUint8Array): NetworkModel {
  return networkModel(address, decodeLifelineAccount('network', { address, owner, data }));
}

export function networkModel(address: Address, n: Network): NetworkModel {
  return {
    address,
    name: fixedText(n.name),
    creator: n.creator,
    authority: n.authority,
    guardian: optionalKey(n.guardian),
    pendingAuthority: optionalKey(n.pendingAuthority),
    policy: n.policy,
    keepers: n.keepers
      .map((k, index) => ({
        index,
        address: k.keeper,
        region: fixedText(k.region),
        provider: fixedText(k.provider),
      }))
      .filter((k) => k.address !== ZERO_KEY),
    keeperCount: n.keeperCount,
    paused: n.paused !== 0,
    pausedBy: optionalKey(n.pausedBy),
    createdSlot: n.createdSlot,
  };
}

/** Checks and decodes a Topology account (a LifelineAccountError when it is not one). */
export function decodeTopologyAccount(address: Address, owner: string, data: ReadonlyUint8Array): TopologyModel {
  return topologyModel(address, decodeLifelineAccount('topology', { address, owner, data }));
}

export function topologyModel(address: Address, t: Topology): TopologyModel {
  const endpoints = t.endpoints.slice(0, Math.min(t.endpointCount, t.endpoints.length)).map((e) => ({
    id: e.id,
    group: e.group,
    kind: e.kind,
    role: e.role,
    priority: e.priority,
    url: fixedText(e.url, e.urlLen),
    region: fixedText(e.region),
    provider: fixedText(e.provider),
    sinceSlot: e.sinceSlot,
    quarantineUntilSlot: e.quarantineUntilSlot,
    configEpoch: e.configEpoch,
    ejectionCount: e.ejectionCount,
    lastReason: e.lastReason,
  }));
  const history: MigrationRecordModel[] = recentMigrations(t).map((r) => ({
    slot: r.slot,
    newEpoch: r.newEpoch,
    group: r.group,
    fromId: r.fromId,
    toId: r.toId,
    rule: r.rule,
    cause: r.cause,
    voters: r.voters,
    voterCount: r.voterCount,
    medianLatencyMs: r.medianLatencyMs,
    medianSlotLag: r.medianSlotLag,
    medianErrorBps: r.medianErrorBps,
  }));
  return {
    address,
    network: t.network,
    epoch: t.epoch,
    policyEpoch: t.policyEpoch,
    groupEpochs: t.groupEpochs,
    endpoints,
    history,
    historyTotal: t.historyTotal,
    lastMigrationSlot: t.lastMigrationSlot,
  };
}

/** Checks and decodes a Ballot account (a LifelineAccountError when it is not one). */
export function decodeBallotAccount(address: Address, owner: string, data: ReadonlyUint8Array): BallotModel {
  return ballotModel(address, decodeLifelineAccount('ballot', { address, owner, data }));
}

export function ballotModel(address: Address, b: Ballot): BallotModel {
  return {
    address,
    network: b.network,
    rows: b.reports.map((r, index) => ({
      index,
      keeper: r.keeper,
      seq: r.seq,
      submittedSlot: r.submittedSlot,
      referenceSlot: r.referenceSlot,
      topologyEpoch: r.topologyEpoch,
      votes: r.votes,
    })),
  };
}

/** Voter bitmap → the keepers it names (bit i = Network.keepers[i]). */
export function votersOf(bitmap: number, keepers: KeeperModel[]): KeeperModel[] {
  return keepers.filter((k) => (bitmap & (1 << k.index)) !== 0);
}

/** "#3 https://…" for an endpoint of `topology`; "none" for NO_ENDPOINT. */
export function endpointLabel(topology: TopologyModel, id: number): string {
  if (id === NO_ENDPOINT) return 'none';
  const e = topology.endpoints.find((x) => x.id === id);
  return e ? `#${id} ${e.url}` : `#${id} (removed)`;
}
