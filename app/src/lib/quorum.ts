// What the on-chain ballot says about each endpoint, counted the way the program counts
// it (programs/lifeline/src/engine/ballot.rs: `collect` and `tally_at`), whether a group
// would fail over now (engine/migration.rs: `decide_migration`) and whether a quarantined
// endpoint would be readmitted (engine/readmission.rs). Display only: the program
// decides; this mirror lets the page show why a failover will or will not happen.
// tests/tests/dashboard_quorum.rs keeps the two in step on generated cases.
import type { Vote } from '@lifeline/client';
import {
  OBS_UNREACHABLE,
  ROLE,
  VERDICT,
  VOTE_DOWN,
  VOTE_HEALTHY,
  type BallotModel,
  type EndpointModel,
  type KeeperModel,
  type NetworkModel,
  type RowModel,
  type TopologyModel,
} from './model';

/** Everything a decision depends on, read at one slot (engine::Snapshot). */
export interface Chain {
  network: NetworkModel;
  topology: TopologyModel;
  ballot: BallotModel;
  /** The slot the accounts were read at: the engine's `now`. */
  slot: bigint;
}

const MAX_GROUPS = 8;
const U64_MAX = (1n << 64n) - 1n;
const U16_MAX = 0xffff;
const REASON_VACANT_PRIMARY = 10;

const addU64 = (a: bigint, b: bigint) => (a + b > U64_MAX ? U64_MAX : a + b);
const subU64 = (a: bigint, b: bigint) => (a > b ? a - b : 0n);

/** engine::policy::effective_quorum */
export function effectiveQuorum(quorum: number, keepers: number): number {
  if (keepers === 0) return Number.POSITIVE_INFINITY;
  const majority = Math.floor(keepers / 2) + 1;
  return quorum === 0 ? Math.floor((keepers * 2) / 3) + 1 : Math.max(quorum, majority);
}

/** engine::policy::fault_tolerance: [liars that cannot force a migration, liars or silent
 * keepers that cannot block one]. */
export function faultTolerance(quorum: number, keepers: number): [number, number] {
  const q = effectiveQuorum(quorum, keepers);
  if (q > keepers) return [keepers, 0];
  return [q - 1, keepers - q];
}

/** lifeline_client::plan::tolerance_note: a keeper set that cannot tolerate one faulty
 * keeper says so (the CLI's status and apply print the same warning). */
export function toleranceNote(quorum: number, keepers: number): string | null {
  if (keepers === 0) return null;
  const [safety, liveness] = faultTolerance(quorum, keepers);
  if (liveness > 0 && safety > 0) return null;
  const q = effectiveQuorum(quorum, keepers);
  return `${keepers} keepers with quorum ${q} cannot tolerate a single faulty keeper (one silent keeper blocks every failover${
    safety === 0 ? ', one lying keeper forces one' : ''
  }); run at least 4 keepers`;
}

/** Verdict::from_u8: codes other than 1–3 read as Unknown. */
export const cellVerdict = (v: Vote): number => (v.verdict >= 1 && v.verdict <= 3 ? v.verdict : VERDICT.unknown);

/** A cell counts if it holds an observation of the endpoint's current identity. */
export function validCell(topology: TopologyModel, row: RowModel, j: number): boolean {
  const e = topology.endpoints[j];
  return cellVerdict(row.votes[j]) !== VERDICT.unknown && e !== undefined && e.configEpoch <= row.topologyEpoch;
}

/** The slot since which the verdict in column `j` has held. */
export const verdictSinceSlot = (row: RowModel, j: number): bigint =>
  subU64(row.submittedSlot, BigInt(row.votes[j].verdictAgeSlots));

/**
 * How many counted keepers reached endpoint `j` with their latest attestation, and how many
 * could not: both above 0 is an endpoint reachable by some keepers only (a partition, or
 * an endpoint picking its callers). `lifeline status` and the keepers' metrics say the same.
 */
export function reachability(chain: Chain, electorate: Electorate, j: number): { reached: number; not: number } {
  let reached = 0;
  let not = 0;
  for (const { row } of electorate.counted) {
    if (!validCell(chain.topology, row, j)) continue;
    if ((row.votes[j].flags & OBS_UNREACHABLE) !== 0) not++;
    else reached++;
  }
  return { reached, not };
}

/** Cut off = reached nothing: at least two valid cells and every one unreachable. */
function isCutOff(topology: TopologyModel, row: RowModel): boolean {
  let observed = 0;
  for (let j = 0; j < topology.endpoints.length; j++) {
    if (!validCell(topology, row, j)) continue;
    if ((row.votes[j].flags & OBS_UNREACHABLE) === 0) return false;
    observed++;
  }
  return observed >= 2;
}

export interface CountedRow {
  /** The keeper's slot in Network.keepers (the bit in voter bitmaps). */
  keeperIndex: number;
  row: RowModel;
  /** The reference slot is within staleness_slots: its down votes count. */
  fresh: boolean;
  /** Reaches no endpoint at all: probably cut off itself; none of its votes count. */
  cutOff: boolean;
}

export interface Electorate {
  counted: CountedRow[];
  quorum: number;
}

/** The keeper in slot `index` (null for an empty slot). */
export const keeperAt = (network: NetworkModel, index: number): KeeperModel | null =>
  network.keepers.find((k) => k.index === index) ?? null;

/** Why a keeper's row does or does not count at `chain.slot`. */
export type RowStatus =
  | { kind: 'counted'; fresh: boolean; cutOff: boolean }
  /** No row of this keeper yet (never attested, or the slot still holds its predecessor's). */
  | { kind: 'none' }
  /** Landed after the slot the page read (a newer notification is on its way). */
  | { kind: 'ahead' }
  /** Older than liveness_slots: none of its votes count. */
  | { kind: 'silent' }
  /** Read a topology epoch older than the policy: judged under other thresholds. */
  | { kind: 'old policy' };

export function rowStatus(chain: Chain, index: number): RowStatus {
  const { network, topology, ballot, slot: now } = chain;
  const k = keeperAt(network, index);
  const r = ballot.rows[index];
  if (!k || !r || r.keeper !== k.address || r.submittedSlot === 0n) return { kind: 'none' };
  if (r.submittedSlot > now) return { kind: 'ahead' };
  if (now - r.submittedSlot > network.policy.livenessSlots) return { kind: 'silent' };
  if (r.topologyEpoch < topology.policyEpoch) return { kind: 'old policy' };
  return {
    kind: 'counted',
    fresh: r.referenceSlot <= now && now - r.referenceSlot <= network.policy.stalenessSlots,
    cutOff: isCutOff(topology, r),
  };
}

/** engine::ballot::collect: which rows of the ballot count at `chain.slot`. */
export function collect(chain: Chain): Electorate {
  const counted: CountedRow[] = [];
  chain.ballot.rows.forEach((row, i) => {
    const s = rowStatus(chain, i);
    if (s.kind === 'counted') counted.push({ keeperIndex: i, row, fresh: s.fresh, cutOff: s.cutOff });
  });
  return { counted, quorum: effectiveQuorum(chain.network.policy.quorum, chain.network.keeperCount) };
}

export interface Tally {
  /** Counted rows (not cut off) that observed the endpoint. */
  observed: number;
  /** Down votes from fresh rows. */
  down: number;
  downVoters: number;
  healthy: number;
  healthyVoters: number;
  /** Healthy verdicts whose good streak has not reached recovery_windows yet. */
  pendingHealthy: number;
  /** Healthy voters whose verdict has held for probation_slots. */
  probation: number;
  probationVoters: number;
  medianLatencyMs: number;
  medianSlotLag: number;
  medianErrorBps: number;
  /** Reason code most down voters give (ties: the higher code). */
  reason: number;
}

/** A tally of no rows. */
export function emptyTally(): Tally {
  return {
    observed: 0,
    down: 0,
    downVoters: 0,
    healthy: 0,
    healthyVoters: 0,
    pendingHealthy: 0,
    probation: 0,
    probationVoters: 0,
    medianLatencyMs: 0,
    medianSlotLag: 0,
    medianErrorBps: 0,
    reason: 0,
  };
}

/** Lower median; 0 for no values (engine::ballot::lower_median). */
export function lowerMedian(values: number[]): number {
  if (values.length === 0) return 0;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor((v.length - 1) / 2)];
}

/** engine::ballot::tally_at: what the counted rows say about the endpoint at position `j`. */
export function tallyAt(chain: Chain, electorate: Electorate, j: number): Tally {
  const p = chain.network.policy;
  const t = emptyTally();
  if (j < 0 || j >= chain.topology.endpoints.length) return t;
  const latency: number[] = [];
  const lag: number[] = [];
  const errors: number[] = [];
  const reasons = new Array<number>(8).fill(0);
  for (const c of electorate.counted) {
    if (c.cutOff || !validCell(chain.topology, c.row, j)) continue;
    const v = c.row.votes[j];
    const bit = 1 << c.keeperIndex;
    latency.push(v.latencyMs);
    lag.push(v.slotLag);
    errors.push(v.errorBps);
    if ((v.flags & VOTE_DOWN) !== 0 && c.fresh) {
      t.downVoters |= bit;
      t.down++;
      reasons[Math.min(v.reason, 7)]++;
    }
    const votesHealthy = (v.flags & VOTE_HEALTHY) !== 0;
    if (cellVerdict(v) === VERDICT.healthy && !votesHealthy) t.pendingHealthy++;
    if (votesHealthy) {
      t.healthyVoters |= bit;
      t.healthy++;
      if (addU64(verdictSinceSlot(c.row, j), p.probationSlots) <= chain.slot) {
        t.probationVoters |= bit;
        t.probation++;
      }
    }
  }
  t.observed = latency.length;
  t.medianLatencyMs = lowerMedian(latency);
  t.medianSlotLag = lowerMedian(lag);
  t.medianErrorBps = lowerMedian(errors);
  // The most frequent of codes 1–7; on a tie the higher code (the loop runs downwards).
  for (let r = 7; r >= 1; r--) if (reasons[r] > 0 && (t.reason === 0 || reasons[r] > reasons[t.reason])) t.reason = r;
  return t;
}

/** engine::ballot::tally: the endpoint with id `endpointId` (an unknown id tallies nothing). */
export function tally(chain: Chain, electorate: Electorate, endpointId: number): Tally {
  return tallyAt(
    chain,
    electorate,
    chain.topology.endpoints.findIndex((e) => e.id === endpointId),
  );
}

/**
 * Tally::may_become_healthy: the keepers that have not judged the endpoint otherwise
 * (silent, not counted, not observing it, or on their way to a healthy vote), added to
 * its healthy votes, could still reach `quorum`.
 */
export function mayBecomeHealthy(t: Tally, keepers: number, quorum: number): boolean {
  const judgedNotHealthy = Math.max(0, t.observed - (t.healthy + t.pendingHealthy));
  return Math.max(0, keepers - judgedNotHealthy) >= quorum;
}

export type QuorumVerdict = 'down' | 'healthy' | 'no quorum' | 'no reports';

/** The one word the page shows: does a quorum agree, and on what? */
export function quorumVerdict(t: Tally, quorum: number): QuorumVerdict {
  if (t.down >= quorum) return 'down';
  if (t.healthy >= quorum) return 'healthy';
  return t.observed === 0 ? 'no reports' : 'no quorum';
}

export type Refusal =
  | 'invalid group'
  | 'paused'
  | 'no breach quorum'
  | 'cooldown'
  | 'no healthy standby'
  | 'no primary'
  | 'standby undecided';

export type GroupDecision =
  | { kind: 'migrate'; fromId: number | null; toId: number; rule: number; voters: number; quarantineUntilSlot: bigint }
  /** `untilSlot` for a cooldown; `endpointId` for the standby a decision waits for. */
  | { kind: 'refused'; reason: Refusal; untilSlot: bigint | null; endpointId: number | null };

/** engine::policy::quarantine_slots: base × ejections, capped. */
export function quarantineSlots(network: NetworkModel, ejections: number): bigint {
  const p = network.policy;
  const q = p.quarantineBaseSlots * BigInt(Math.max(ejections, 1));
  return q < p.quarantineMaxSlots ? q : p.quarantineMaxSlots;
}

/** Ordering key of a standby, smallest wins: labels shared with the failed primary, priority, latency, id. */
function rank(primary: EndpointModel | undefined, e: EndpointModel, t: Tally): number[] {
  const shared = primary ? Number(primary.provider === e.provider) + Number(primary.region === e.region) : 0;
  return [shared, e.priority, t.medianLatencyMs, e.id];
}

function before(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/**
 * engine::migration::decide_migration: would `group` fail over at `chain.slot`? In order:
 * not paused; the primary is down by quorum (or the group has none); out of cooldown
 * (a vacancy too); a quorum-healthy standby exists; the best one (other provider/region
 * first, then priority, latency, id) wins, unless a better-ranked standby may still be
 * voted healthy.
 */
export function decideMigration(chain: Chain, electorate: Electorate, group: number): GroupDecision {
  const refused = (reason: Refusal, untilSlot: bigint | null = null, endpointId: number | null = null) =>
    ({ kind: 'refused', reason, untilSlot, endpointId }) as const;
  const { network, topology, slot: now } = chain;
  if (group >= MAX_GROUPS) return refused('invalid group');
  if (network.paused) return refused('paused');
  const endpoints = topology.endpoints;
  const pj = endpoints.findIndex((e) => e.group === group && e.role === ROLE.primary);
  const primary = pj >= 0 ? endpoints[pj] : undefined;
  const primaryTally = primary ? tallyAt(chain, electorate, pj) : null;
  if (primaryTally && primaryTally.down < electorate.quorum) return refused('no breach quorum');
  const last = topology.lastMigrationSlot[group] ?? 0n;
  const until = addU64(last, network.policy.cooldownSlots);
  if (last !== 0n && now < until) return refused('cooldown', until);

  const standbys = endpoints
    .map((e, j) => ({ e, j }))
    .filter(({ e }) => e.group === group && e.role === ROLE.standby)
    .map(({ e, j }) => ({ e, t: tallyAt(chain, electorate, j) }));
  let best: { e: EndpointModel; t: Tally } | null = null;
  for (const s of standbys) {
    if (s.t.healthy < electorate.quorum) continue;
    if (!best || before(rank(primary, s.e, s.t), rank(primary, best.e, best.t))) best = s;
  }
  if (!best) return refused(primary ? 'no healthy standby' : 'no primary');
  const bestRank = rank(primary, best.e, best.t);
  for (const s of standbys) {
    if (s.e.id === best.e.id) continue;
    if (
      s.t.healthy < electorate.quorum &&
      before(rank(primary, s.e, s.t), bestRank) &&
      mayBecomeHealthy(s.t, network.keeperCount, electorate.quorum)
    ) {
      return refused('standby undecided', null, s.e.id);
    }
  }
  if (primary && primaryTally) {
    return {
      kind: 'migrate',
      fromId: primary.id,
      toId: best.e.id,
      rule: primaryTally.reason,
      voters: primaryTally.downVoters,
      quarantineUntilSlot: addU64(now, quarantineSlots(network, Math.min(primary.ejectionCount + 1, U16_MAX))),
    };
  }
  return {
    kind: 'migrate',
    fromId: null,
    toId: best.e.id,
    rule: REASON_VACANT_PRIMARY,
    voters: best.t.healthyVoters,
    quarantineUntilSlot: 0n,
  };
}

export type ReadmissionRefusal =
  'endpoint not found' | 'not quarantined' | 'paused' | 'quarantine active' | 'probation incomplete';

export type ReadmissionDecision =
  { kind: 'readmit' } | { kind: 'refused'; reason: ReadmissionRefusal; untilSlot: bigint | null };

/**
 * engine::readmission::decide_readmission: may the quarantined endpoint return as a
 * standby? Not paused, the quarantine elapsed, and a quorum of keepers that have seen it
 * healthy without a break for probation_slots.
 */
export function decideReadmission(chain: Chain, electorate: Electorate, endpointId: number): ReadmissionDecision {
  const refused = (reason: ReadmissionRefusal, untilSlot: bigint | null = null) =>
    ({ kind: 'refused', reason, untilSlot }) as const;
  const e = chain.topology.endpoints.find((x) => x.id === endpointId);
  if (!e) return refused('endpoint not found');
  if (e.role !== ROLE.quarantined) return refused('not quarantined');
  if (chain.network.paused) return refused('paused');
  if (chain.slot < e.quarantineUntilSlot) return refused('quarantine active', e.quarantineUntilSlot);
  if (tally(chain, electorate, endpointId).probation < electorate.quorum) return refused('probation incomplete');
  return { kind: 'readmit' };
}
