import {
  formatBps,
  formatLag,
  formatMs,
  kindName,
  reasonName,
  roleName,
  shortAddress,
  slotsAgo,
  verdictName,
} from '../lib/format';
import type { Snapshot } from '../lib/live';
import { endpointLabel, OBS_DIVERGENT, OBS_UNREACHABLE, ROLE, VERDICT, VOTE_DOWN, VOTE_HEALTHY } from '../lib/model';
import type { EndpointModel, KeeperModel } from '../lib/model';
import {
  cellVerdict,
  collect,
  decideMigration,
  decideReadmission,
  quorumVerdict,
  reachability,
  rowStatus,
  tallyAt,
  validCell,
  verdictSinceSlot,
  type Electorate,
  type GroupDecision,
} from '../lib/quorum';

// Primary first, then standbys, quarantined, retired.
const ROLE_ORDER: Record<number, number> = {
  [ROLE.primary]: 0,
  [ROLE.standby]: 1,
  [ROLE.quarantined]: 2,
  [ROLE.retired]: 3,
};

const verdictClass = (v: string) =>
  v === 'healthy' ? 'ok' : v === 'down' ? 'bad' : v === 'degraded' || v === 'no quorum' ? 'warn' : 'muted';

/** Flags an endpoint some keepers reach and others cannot. */
function Reach({ reach, id }: { reach: { reached: number; not: number }; id: number }) {
  if (reach.reached === 0 || reach.not === 0) return null;
  return (
    <div
      className="badge warn"
      data-testid={`partial-${id}`}
      title="some keepers reach it, others cannot: a partition, or an endpoint picking its callers"
    >
      reachable by {reach.reached} of {reach.reached + reach.not} keepers
    </div>
  );
}

export function TopologyPanel({ snapshot }: { snapshot: Snapshot }) {
  const { network, topology } = snapshot;
  const electorate = collect(snapshot);
  const groups = [...new Set(topology.endpoints.map((e) => e.group))].sort((a, b) => a - b);
  // Ballot column j is the endpoint at position j of the topology.
  const position = new Map(topology.endpoints.map((e, j) => [e.id, j]));
  return (
    <section className="panel" data-testid="topology-panel">
      <h2>Topology</h2>
      {groups.length === 0 && <p className="muted">No endpoints yet.</p>}
      {groups.map((group) => {
        const endpoints = topology.endpoints
          .filter((e) => e.group === group)
          .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.priority - b.priority);
        const primary = endpoints.find((e) => e.role === ROLE.primary);
        const decision = decideMigration(snapshot, electorate, group);
        const primaryDown = primary ? tallyAt(snapshot, electorate, position.get(primary.id)!).down : 0;
        return (
          <div className="group" key={group}>
            <h3>
              Group {group} · primary{' '}
              <span data-testid={`primary-g${group}`} className="primary-url">
                {primary ? `#${primary.id} ${primary.url}` : 'none'}
              </span>{' '}
              <Decision
                group={group}
                decision={decision}
                hasPrimary={primary !== undefined}
                downVotes={primaryDown}
                quorum={electorate.quorum}
                name={(id) => endpointLabel(topology, id)}
              />
            </h3>
            <table className="grid topology">
              <thead>
                <tr>
                  <th>endpoint</th>
                  <th>role</th>
                  <th>region · provider</th>
                  <th>quorum verdict</th>
                  <th>medians</th>
                  {network.keepers.map((k) => (
                    <KeeperHeader key={k.address} keeper={k} snapshot={snapshot} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {endpoints.map((e) => {
                  const j = position.get(e.id)!;
                  const t = tallyAt(snapshot, electorate, j);
                  const verdict = quorumVerdict(t, electorate.quorum);
                  return (
                    <tr key={e.id} data-testid={`endpoint-${e.id}`} data-role={roleName(e.role)}>
                      <td>
                        <div className="url">
                          #{e.id} {e.url}
                        </div>
                        <div className="muted small">
                          {kindName(e.kind)} · priority {e.priority}
                        </div>
                      </td>
                      <td>
                        <RoleBadge endpoint={e} snapshot={snapshot} electorate={electorate} />
                      </td>
                      <td>
                        {e.region} · {e.provider}
                      </td>
                      <td>
                        <span className={`badge ${verdictClass(verdict)}`} data-testid={`verdict-${e.id}`}>
                          {verdict}
                        </span>
                        <div className="muted small">
                          down {t.down}/{electorate.quorum} · healthy {t.healthy}/{electorate.quorum}
                          {t.pendingHealthy > 0 ? ` (+${t.pendingHealthy} on the way)` : ''}
                          {t.down > 0 && t.reason !== 0 ? ` · ${reasonName(t.reason)}` : ''}
                        </div>
                        <Reach reach={reachability(snapshot, electorate, j)} id={e.id} />
                      </td>
                      <td className="small">
                        {t.observed > 0 ? (
                          <>
                            {formatMs(t.medianLatencyMs)} · lag {t.medianSlotLag} · err {formatBps(t.medianErrorBps)}
                          </>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      {network.keepers.map((k) => (
                        <KeeperCell key={k.address} keeper={k} position={j} snapshot={snapshot} />
                      ))}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        );
      })}
    </section>
  );
}

/** A keeper's column head: where it runs, its key, and whether its row counts now. */
function KeeperHeader({ keeper: k, snapshot }: { keeper: KeeperModel; snapshot: Snapshot }) {
  const status = rowStatus(snapshot, k.index);
  const row = snapshot.ballot.rows[k.index];
  const note =
    status.kind === 'silent'
      ? `silent since slot ${row.submittedSlot}`
      : status.kind === 'none'
        ? 'no attestation yet'
        : status.kind === 'old policy'
          ? 'before the policy change'
          : status.kind === 'counted' && status.cutOff
            ? 'cut off'
            : null;
  return (
    <th title={k.address} data-testid={`keeper-col-${k.index}`} data-kind={status.kind}>
      {k.region || `keeper ${k.index}`}
      <div className="muted small key">{shortAddress(k.address)}</div>
      {note && <div className="small warn-text">{note}</div>}
    </th>
  );
}

/**
 * One ballot cell: what the keeper last attested about the endpoint at `position` (the
 * verdict and figures the program recorded, and the vote its streak earned), muted when
 * the row does not count.
 */
function KeeperCell({
  keeper: k,
  position: j,
  snapshot,
}: {
  keeper: KeeperModel;
  position: number;
  snapshot: Snapshot;
}) {
  const { network, topology, ballot, slot } = snapshot;
  const p = network.policy;
  const status = rowStatus(snapshot, k.index);
  const row = ballot.rows[k.index];
  if (status.kind === 'none' || !row) {
    return <td className="muted small">—</td>;
  }
  const v = row.votes[j];
  if (!validCell(topology, row, j)) {
    const stale = cellVerdict(v) !== VERDICT.unknown;
    return (
      <td
        className="muted small"
        title={stale ? 'observed before the endpoint changed (URL or kind): does not count' : 'not observed'}
      >
        {stale ? 'changed since' : '—'}
      </td>
    );
  }
  const counts = status.kind === 'counted' && !status.cutOff;
  const verdict = verdictName(cellVerdict(v));
  const since = verdictSinceSlot(row, j);
  let vote: string | null = null;
  if (v.flags & VOTE_DOWN) {
    vote = status.kind === 'counted' && status.fresh ? '↓ votes down' : '↓ down vote (stale)';
  } else if (v.flags & VOTE_HEALTHY) {
    vote = '↑ votes healthy';
  } else if (cellVerdict(v) === VERDICT.healthy) {
    vote = `healthy ${v.streak}/${p.recoveryWindows} windows`;
  } else if (cellVerdict(v) === VERDICT.down) {
    vote = `down ${v.streak}/${p.breachWindows} windows`;
  }
  const why =
    status.kind === 'counted'
      ? status.cutOff
        ? 'this keeper reaches no endpoint: its votes do not count'
        : undefined
      : status.kind === 'silent'
        ? `silent since slot ${row.submittedSlot}: its votes do not count`
        : 'this row does not count';
  return (
    <td className={`small${counts ? '' : ' not-counted'}`} title={why}>
      <span className={`dot ${verdictClass(verdict)}`} /> {verdict}
      {v.verdict !== VERDICT.healthy && v.reason !== 0 ? ` · ${reasonName(v.reason)}` : ''}
      <div className="muted">
        {v.flags & OBS_UNREACHABLE ? 'unreachable' : `${formatMs(v.latencyMs)} · lag ${v.slotLag}`}
        {v.flags & OBS_DIVERGENT ? ' · other fork' : ''}
        {v.errorBps > 0 && !(v.flags & OBS_UNREACHABLE) ? ` · err ${formatBps(v.errorBps)}` : ''}
      </div>
      {vote && <div className="muted">{vote}</div>}
      <div className="muted">held {formatLag(Number(slot > since ? slot - since : 0n))}</div>
    </td>
  );
}

function RoleBadge({
  endpoint: e,
  snapshot,
  electorate,
}: {
  endpoint: EndpointModel;
  snapshot: Snapshot;
  electorate: Electorate;
}) {
  const now = snapshot.slot;
  const role = roleName(e.role);
  const cls = role === 'primary' ? 'ok' : role === 'standby' ? 'info' : role === 'quarantined' ? 'bad' : 'muted';
  let note = `since ${slotsAgo(now, e.sinceSlot)}`;
  if (e.role === ROLE.quarantined) {
    const d = decideReadmission(snapshot, electorate, e.id);
    const reason = reasonName(e.lastReason);
    if (d.kind === 'readmit') {
      note = `probation complete: readmission due (${reason})`;
    } else if (d.reason === 'quarantine active') {
      note = `until slot ${e.quarantineUntilSlot} (${reason})`;
    } else if (d.reason === 'probation incomplete') {
      const position = snapshot.topology.endpoints.indexOf(e);
      const probation = tallyAt(snapshot, electorate, position).probation;
      note = `quarantine over; probation ${probation}/${electorate.quorum} keepers (${reason})`;
    } else {
      note = `quarantine over; ${d.reason} (${reason})`;
    }
  }
  return (
    <>
      <span className={`badge ${cls}`}>{role}</span>
      <div className="muted small" data-testid={`role-note-${e.id}`}>
        {note}
      </div>
    </>
  );
}

/**
 * Would this group fail over now, and if not, why not: the engine's answer (mirrored),
 * which is what an on-call engineer asks while an endpoint is failing.
 */
function Decision({
  group,
  decision: d,
  hasPrimary,
  downVotes,
  quorum,
  name,
}: {
  group: number;
  decision: GroupDecision;
  hasPrimary: boolean;
  downVotes: number;
  quorum: number;
  name: (id: number) => string;
}) {
  const testId = `decision-g${group}`;
  const kind = d.kind === 'migrate' ? 'migrate' : d.reason;
  const show = (cls: string, text: string, title?: string) => (
    <span className={`badge ${cls}`} data-testid={testId} data-kind={kind} title={title}>
      {text}
    </span>
  );
  const held = hasPrimary ? 'primary down by quorum' : 'no primary';
  if (d.kind === 'migrate') {
    return d.fromId === null
      ? show(
          'warn',
          `vacancy: ${name(d.toId)} is due to take the role`,
          'a quorum of keepers votes this standby healthy: the next attestation that votes on it fills the role, or anyone may call trigger_migration',
        )
      : show(
          'warn',
          `failover due → ${name(d.toId)} (${reasonName(d.rule)})`,
          'a quorum of keepers attests the breach: the next attestation that votes on it fails the group over, or anyone may call trigger_migration',
        );
  }
  switch (d.reason) {
    case 'paused':
      return show('bad', 'network paused: no automatic failover');
    case 'cooldown':
      return show('warn', `${held}; failover held by cooldown until slot ${d.untilSlot}`);
    case 'standby undecided':
      return show(
        'warn',
        `${held}; waiting for ${name(d.endpointId!)} (ranked higher) to be voted healthy or not`,
        'a better-ranked standby may still reach a healthy quorum: the engine waits for it rather than promote a worse one',
      );
    case 'no healthy standby':
      return show('bad', 'primary down by quorum; no quorum-healthy standby to fail over to');
    case 'no primary':
      return show('bad', 'no primary, and no quorum-healthy standby to take the role');
    case 'no breach quorum':
      return downVotes > 0 ? show('muted', `${downVotes} of ${quorum} down votes: short of quorum`) : null;
    case 'invalid group':
      return null;
  }
}
