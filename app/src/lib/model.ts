// Account bytes → what the dashboard shows. Decoding is the Codama-generated client's;
// this file checks that the bytes are what they claim to be (owner, discriminator, size)
// and turns fixed-size fields into plain values.
import type { Address, ReadonlyUint8Array } from '@solana/kit';

import {
  KEEPER_REPORT_DISCRIMINATOR,
  NETWORK_DISCRIMINATOR,
  TOPOLOGY_DISCRIMINATOR,
  getKeeperReportDecoder,
  getKeeperReportSize,
  getNetworkDecoder,
  getNetworkSize,
  getTopologyDecoder,
  getTopologySize,
} from '../generated/accounts';
import type { Observation, Policy } from '../generated/types';
// The program id from the committed IDL (the same file the generated client comes from).
import idl from '../../../idl/lifeline.json';
import { fixedText } from './format';

export const PROGRAM_ID = idl.address as Address;

/** Endpoint.role codes (programs/lifeline/src/state/mod.rs, `Role`). */
export const ROLE = { primary: 1, standby: 2, quarantined: 3, retired: 4 } as const;
/** MigrationRecord.from_id when the group had no primary (`u32::MAX`). */
export const NO_ENDPOINT = 0xffffffff;
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
  keepers: KeeperModel[];
  paused: boolean;
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
  endpoints: EndpointModel[];
  /** Newest first: the on-chain ring of the last HISTORY_LEN migrations. */
  history: MigrationRecordModel[];
  historyTotal: bigint;
  lastMigrationSlot: bigint[];
}

export interface ReportModel {
  address: Address;
  network: Address;
  keeper: Address;
  seq: bigint;
  submittedSlot: bigint;
  referenceSlot: bigint;
  topologyEpoch: bigint;
  observations: Observation[];
}

/** The bytes at an address are not the account the dashboard was told they are. */
export class AccountMismatch extends Error {}

function sameBytes(a: ReadonlyUint8Array, b: ReadonlyUint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type AccountKind = 'network' | 'topology' | 'report';

/** Which Lifeline account `data` holds, by its discriminator; null for anything else. */
export function accountKind(data: ReadonlyUint8Array): AccountKind | null {
  const disc = data.slice(0, 8);
  if (sameBytes(disc, NETWORK_DISCRIMINATOR)) return 'network';
  if (sameBytes(disc, TOPOLOGY_DISCRIMINATOR)) return 'topology';
  if (sameBytes(disc, KEEPER_REPORT_DISCRIMINATOR)) return 'report';
  return null;
}

function expect(address: string, owner: string, data: ReadonlyUint8Array, kind: AccountKind, size: number) {
  if (owner !== PROGRAM_ID) {
    throw new AccountMismatch(
      `${address} is not a Lifeline ${kind}: it is owned by ${owner}, not the Lifeline program ${PROGRAM_ID}`,
    );
  }
  const actual = accountKind(data);
  if (actual !== kind) {
    throw new AccountMismatch(`${address} is not a Lifeline ${kind}${actual ? `: it is a ${actual} account` : ''}`);
  }
  // Accounts are allocated with their exact size; a shorter one cannot be decoded.
  if (data.length < size) {
    throw new AccountMismatch(`${address}: ${data.length} bytes, a ${kind} needs ${size}`);
  }
}

const optionalKey = (key: Address): Address | null => (key === ZERO_KEY ? null : key);

export function decodeNetworkAccount(address: Address, owner: string, data: ReadonlyUint8Array): NetworkModel {
  expect(address, owner, data, 'network', getNetworkSize());
  const n = getNetworkDecoder().decode(data);
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
    paused: n.paused !== 0,
    createdSlot: n.createdSlot,
  };
}

export function decodeTopologyAccount(address: Address, owner: string, data: ReadonlyUint8Array): TopologyModel {
  expect(address, owner, data, 'topology', getTopologySize());
  const t = getTopologyDecoder().decode(data);
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
    ejectionCount: e.ejectionCount,
    lastReason: e.lastReason,
  }));
  // The ring holds the last `len` records; the newest is at (total - 1) % len.
  const len = t.history.length;
  const kept = Number(t.historyTotal < BigInt(len) ? t.historyTotal : BigInt(len));
  const history: MigrationRecordModel[] = [];
  for (let k = 0; k < kept; k++) {
    const idx = Number((t.historyTotal - 1n - BigInt(k)) % BigInt(len));
    const r = t.history[idx];
    history.push({
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
    });
  }
  return {
    address,
    network: t.network,
    epoch: t.epoch,
    endpoints,
    history,
    historyTotal: t.historyTotal,
    lastMigrationSlot: t.lastMigrationSlot,
  };
}

export function decodeReportAccount(address: Address, owner: string, data: ReadonlyUint8Array): ReportModel {
  expect(address, owner, data, 'report', getKeeperReportSize());
  const r = getKeeperReportDecoder().decode(data);
  return {
    address,
    network: r.network,
    keeper: r.keeper,
    seq: r.seq,
    submittedSlot: r.submittedSlot,
    referenceSlot: r.referenceSlot,
    topologyEpoch: r.topologyEpoch,
    observations: r.observations.slice(0, Math.min(r.observationCount, r.observations.length)),
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
