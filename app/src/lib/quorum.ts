// What the keepers' reports say about each endpoint, counted the way the program counts
// them (programs/lifeline/src/engine/ballot.rs: `collect` and `tally`), and whether a
// group would fail over now (engine/migration.rs: `decide_migration`). Display only: the
// program decides; this mirror lets the page show why a failover will or will not happen.
// tests/tests/dashboard_quorum.rs keeps the two in step on generated cases.
import type { Address } from '@solana/kit';

import type { Observation } from '../generated/types';
import { ROLE, type EndpointModel, type NetworkModel, type ReportModel, type TopologyModel } from './model';

const VERDICT_HEALTHY = 1;
const VERDICT_DOWN = 3;

/** engine::policy::effective_quorum */
export function effectiveQuorum(quorum: number, keepers: number): number {
  if (keepers === 0) return Number.POSITIVE_INFINITY;
  const majority = Math.floor(keepers / 2) + 1;
  return quorum === 0 ? Math.floor((keepers * 2) / 3) + 1 : Math.max(quorum, majority);
}

export interface CountedReport {
  keeperIndex: number;
  report: ReportModel;
  /** Sees every in-rotation endpoint down: probably cut off itself; its votes are discounted. */
  cutOff: boolean;
}

export interface Ballot {
  counted: CountedReport[];
  quorum: number;
}

const inRotation = (e: EndpointModel) => e.role === ROLE.primary || e.role === ROLE.standby;

export function observationOf(report: ReportModel, endpointId: number): Observation | undefined {
  return report.observations.find((o) => o.endpointId === endpointId);
}

function isCutOff(topology: TopologyModel, report: ReportModel): boolean {
  let seen = 0;
  for (const e of topology.endpoints.filter(inRotation)) {
    const o = observationOf(report, e.id);
    if (o && o.verdict === VERDICT_DOWN) seen++;
    else return false;
  }
  return seen >= 2;
}

/** Which reports count at slot `now`: fresh, for this epoch and network, from a keeper in the set. */
export function collect(network: NetworkModel, topology: TopologyModel, reports: ReportModel[], now: bigint): Ballot {
  const policy = network.policy;
  const byIndex = new Map<number, ReportModel>();
  const indexOf = new Map<Address, number>(network.keepers.map((k) => [k.address, k.index]));
  for (const r of reports) {
    if (r.network !== topology.network || r.topologyEpoch !== topology.epoch) continue;
    if (r.referenceSlot > now || r.referenceSlot + policy.stalenessSlots < now) continue;
    const idx = indexOf.get(r.keeper);
    if (idx === undefined) continue;
    const prev = byIndex.get(idx);
    if (!prev || prev.seq < r.seq) byIndex.set(idx, r);
  }
  const counted = [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([keeperIndex, report]) => ({ keeperIndex, report, cutOff: isCutOff(topology, report) }));
  return { counted, quorum: effectiveQuorum(policy.quorum, network.keepers.length) };
}

export interface Tally {
  observed: number;
  down: number;
  downVoters: number;
  healthy: number;
  healthyVoters: number;
  probation: number;
  probationVoters: number;
  medianLatencyMs: number;
  medianSlotLag: number;
  medianErrorBps: number;
  /** Reason code most down voters give (ties: the most severe). */
  reason: number;
}

/** A tally of no reports. */
export function emptyTally(): Tally {
  return {
    observed: 0,
    down: 0,
    downVoters: 0,
    healthy: 0,
    healthyVoters: 0,
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

export function tally(network: NetworkModel, ballot: Ballot, endpointId: number, now: bigint): Tally {
  const p = network.policy;
  const t = emptyTally();
  const latency: number[] = [];
  const lag: number[] = [];
  const errors: number[] = [];
  const reasons = [0, 0, 0, 0, 0];
  for (const c of ballot.counted.filter((c) => !c.cutOff)) {
    const o = observationOf(c.report, endpointId);
    if (!o) continue;
    const bit = 1 << c.keeperIndex;
    t.observed++;
    latency.push(o.latencyMs);
    lag.push(o.slotLag);
    errors.push(o.errorBps);
    if (o.verdict === VERDICT_DOWN && o.consecutiveBad >= p.breachWindows) {
      t.downVoters |= bit;
      t.down++;
      reasons[Math.min(o.reason, 4)]++;
    }
    if (o.verdict === VERDICT_HEALTHY && o.consecutiveGood >= p.recoveryWindows) {
      t.healthyVoters |= bit;
      t.healthy++;
      if (o.verdictSinceSlot + p.probationSlots <= now) {
        t.probationVoters |= bit;
        t.probation++;
      }
    }
  }
  t.medianLatencyMs = lowerMedian(latency);
  t.medianSlotLag = lowerMedian(lag);
  t.medianErrorBps = lowerMedian(errors);
  let best = 0;
  for (let r = 4; r >= 1; r--) {
    if (reasons[r] > 0 && (best === 0 || reasons[r] > reasons[best])) best = r;
  }
  t.reason = best;
  return t;
}

export type QuorumVerdict = 'down' | 'healthy' | 'no quorum' | 'no reports';

/** The one word the page shows: does a quorum agree, and on what? */
export function quorumVerdict(t: Tally, quorum: number): QuorumVerdict {
  if (t.down >= quorum) return 'down';
  if (t.healthy >= quorum) return 'healthy';
  return t.observed === 0 ? 'no reports' : 'no quorum';
}

export type Refusal = 'paused' | 'no breach quorum' | 'cooldown' | 'no healthy standby' | 'no primary';

export type GroupDecision =
  | { kind: 'migrate'; fromId: number | null; toId: number; rule: number }
  | { kind: 'refused'; reason: Refusal; untilSlot: bigint | null };

const REASON_VACANT_PRIMARY = 10;

/**
 * engine::migration::decide_migration: would `group` fail over at slot `now`? In order:
 * not paused; the primary is down by quorum; out of cooldown; a quorum-healthy standby
 * exists; the best one (other provider/region first, then priority, latency, id) wins.
 */
export function decideMigration(
  network: NetworkModel,
  topology: TopologyModel,
  ballot: Ballot,
  group: number,
  now: bigint,
): GroupDecision {
  const refused = (reason: Refusal, untilSlot: bigint | null = null): GroupDecision => ({
    kind: 'refused',
    reason,
    untilSlot,
  });
  if (network.paused) return refused('paused');
  const primary = topology.endpoints.find((e) => e.group === group && e.role === ROLE.primary);
  let primaryTally: Tally | null = null;
  if (primary) {
    primaryTally = tally(network, ballot, primary.id, now);
    if (primaryTally.down < ballot.quorum) return refused('no breach quorum');
    const last = topology.lastMigrationSlot[group] ?? 0n;
    const until = last + network.policy.cooldownSlots;
    if (last !== 0n && now < until) return refused('cooldown', until);
  }
  // Smallest wins: (labels shared with the failed primary, priority, latency, id).
  const rank = (e: EndpointModel, t: Tally): number[] => [
    primary ? Number(primary.provider === e.provider) + Number(primary.region === e.region) : 0,
    e.priority,
    t.medianLatencyMs,
    e.id,
  ];
  const before = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
    return false;
  };
  let best: { e: EndpointModel; key: number[] } | null = null;
  for (const e of topology.endpoints.filter((x) => x.group === group && x.role === ROLE.standby)) {
    const t = tally(network, ballot, e.id, now);
    if (t.healthy < ballot.quorum) continue;
    const key = rank(e, t);
    if (!best || before(key, best.key)) best = { e, key };
  }
  if (!best) return refused(primary ? 'no healthy standby' : 'no primary');
  return primary && primaryTally
    ? { kind: 'migrate', fromId: primary.id, toId: best.e.id, rule: primaryTally.reason }
    : { kind: 'migrate', fromId: null, toId: best.e.id, rule: REASON_VACANT_PRIMARY };
}
