// A plain view of a network's topology: what frontends and the failover transport follow
// (client/src/view.rs, TopologyView).
import type { Address } from '@solana/kit';

import type { Topology } from './generated/accounts';
import type { MigrationRecord } from './generated/types';
import { fixedText, roleOf, type Role } from './program';

export interface EndpointView {
  /** Stable id, assigned by the program, never reused within a topology. */
  id: number;
  group: number;
  /** ENDPOINT_KIND code. */
  kind: number;
  role: Role;
  url: string;
  region: string;
  provider: string;
  /** Lower is preferred among standbys. */
  priority: number;
  sinceSlot: bigint;
  quarantineUntilSlot: bigint;
  ejectionCount: number;
}

/** The topology at one epoch, as read at `slot`. */
export interface TopologyView {
  network: Address;
  /** Bumped on every change; a follower never goes back to an older one. */
  epoch: bigint;
  /** Per group, the epoch of its last change. */
  groupEpochs: readonly bigint[];
  /** The context slot of the read (or notification) that produced this view. */
  slot: bigint;
  /** In the account's order; endpoints with a role this client does not know are left out. */
  endpoints: readonly EndpointView[];
  /** The last migrations the account keeps, newest first. */
  migrations: readonly MigrationRecord[];
}

export function topologyView(topology: Topology, slot: bigint): TopologyView {
  const endpoints: EndpointView[] = [];
  for (const e of topology.endpoints.slice(0, Math.min(topology.endpointCount, topology.endpoints.length))) {
    const role = roleOf(e.role);
    if (!role) continue;
    endpoints.push({
      id: e.id,
      group: e.group,
      kind: e.kind,
      role,
      url: fixedText(e.url, e.urlLen),
      region: fixedText(e.region),
      provider: fixedText(e.provider),
      priority: e.priority,
      sinceSlot: e.sinceSlot,
      quarantineUntilSlot: e.quarantineUntilSlot,
      ejectionCount: e.ejectionCount,
    });
  }
  return {
    network: topology.network,
    epoch: topology.epoch,
    groupEpochs: topology.groupEpochs,
    slot,
    endpoints,
    migrations: recentMigrations(topology),
  };
}

/** The migration ring, newest first: the newest record is at (historyTotal - 1) % length. */
export function recentMigrations(topology: Topology): MigrationRecord[] {
  const len = BigInt(topology.history.length);
  if (len === 0n) return [];
  const kept = topology.historyTotal < len ? topology.historyTotal : len;
  const out: MigrationRecord[] = [];
  for (let k = 0n; k < kept; k++) out.push(topology.history[Number((topology.historyTotal - 1n - k) % len)]);
  return out;
}

/** The group's primary, if it has one. */
export function primaryOf(view: TopologyView, group: number): EndpointView | undefined {
  return view.endpoints.find((e) => e.group === group && e.role === 'primary');
}

/** The group's standbys, preferred first: priority, then id. */
export function standbysOf(view: TopologyView, group: number): EndpointView[] {
  return view.endpoints
    .filter((e) => e.group === group && e.role === 'standby')
    .sort((a, b) => a.priority - b.priority || a.id - b.id);
}

/**
 * The endpoints that may serve `group`, in order: the primary, then the standbys.
 * Quarantined and retired endpoints are never included.
 */
export function servingOf(view: TopologyView, group: number): EndpointView[] {
  const primary = primaryOf(view, group);
  return [...(primary ? [primary] : []), ...standbysOf(view, group)];
}
