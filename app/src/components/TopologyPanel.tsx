import {
  formatBps,
  formatMs,
  kindName,
  reasonName,
  roleName,
  shortAddress,
  slotsAgo,
  verdictName,
} from '../lib/format';
import type { Snapshot } from '../lib/live';
import { endpointLabel, ROLE, type EndpointModel } from '../lib/model';
import { collect, decideMigration, observationOf, quorumVerdict, tally, type GroupDecision } from '../lib/quorum';

// Primary first, then standbys, quarantined, retired.
const ROLE_ORDER: Record<number, number> = {
  [ROLE.primary]: 0,
  [ROLE.standby]: 1,
  [ROLE.quarantined]: 2,
  [ROLE.retired]: 3,
};

const verdictClass = (v: string) =>
  v === 'healthy' ? 'ok' : v === 'down' ? 'bad' : v === 'degraded' || v === 'no quorum' ? 'warn' : 'muted';

export function TopologyPanel({ snapshot }: { snapshot: Snapshot }) {
  const { network, topology, reports, slot } = snapshot;
  const ballot = collect(network, topology, reports, slot);
  const groups = [...new Set(topology.endpoints.map((e) => e.group))].sort((a, b) => a - b);
  const byKeeper = new Map(ballot.counted.map((c) => [c.keeperIndex, c]));
  return (
    <section className="panel" data-testid="topology-panel">
      <h2>Topology</h2>
      {groups.length === 0 && <p className="muted">No endpoints yet.</p>}
      {groups.map((group) => {
        const endpoints = topology.endpoints
          .filter((e) => e.group === group)
          .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.priority - b.priority);
        const primary = endpoints.find((e) => e.role === ROLE.primary);
        const decision = decideMigration(network, topology, ballot, group, slot);
        const primaryDown = primary ? tally(network, ballot, primary.id, slot).down : 0;
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
                downVotes={primaryDown}
                quorum={ballot.quorum}
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
                    <th key={k.address} title={k.address}>
                      {k.region || `keeper ${k.index}`}
                      <div className="muted small key">{shortAddress(k.address)}</div>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {endpoints.map((e) => {
                  const t = tally(network, ballot, e.id, slot);
                  const verdict = quorumVerdict(t, ballot.quorum);
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
                        <RoleBadge endpoint={e} now={slot} />
                      </td>
                      <td>
                        {e.region} · {e.provider}
                      </td>
                      <td>
                        <span className={`badge ${verdictClass(verdict)}`} data-testid={`verdict-${e.id}`}>
                          {verdict}
                        </span>
                        <div className="muted small">
                          down {t.down}/{ballot.quorum} · healthy {t.healthy}/{ballot.quorum}
                          {t.down > 0 && t.reason !== 0 ? ` · ${reasonName(t.reason)}` : ''}
                        </div>
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
                      {network.keepers.map((k) => {
                        const c = byKeeper.get(k.index);
                        const o = c ? observationOf(c.report, e.id) : undefined;
                        if (!o) {
                          return (
                            <td key={k.address} className="muted small">
                              —
                            </td>
                          );
                        }
                        const v = verdictName(o.verdict);
                        return (
                          <td key={k.address} className="small">
                            <span className={`dot ${verdictClass(v)}`} /> {v}
                            <div className="muted">
                              {o.flags & 1 ? 'unreachable' : `${formatMs(o.latencyMs)} · lag ${o.slotLag}`}
                              {o.errorBps > 0 ? ` · err ${formatBps(o.errorBps)}` : ''}
                            </div>
                          </td>
                        );
                      })}
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

function RoleBadge({ endpoint: e, now }: { endpoint: EndpointModel; now: bigint }) {
  const role = roleName(e.role);
  const cls = role === 'primary' ? 'ok' : role === 'standby' ? 'info' : role === 'quarantined' ? 'bad' : 'muted';
  return (
    <>
      <span className={`badge ${cls}`}>{role}</span>
      <div className="muted small">
        {role === 'quarantined'
          ? e.quarantineUntilSlot > now
            ? `until slot ${e.quarantineUntilSlot} (${reasonName(e.lastReason)})`
            : `quarantine over, awaiting recovery (${reasonName(e.lastReason)})`
          : `since ${slotsAgo(now, e.sinceSlot)}`}
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
  downVotes,
  quorum,
  name,
}: {
  group: number;
  decision: GroupDecision;
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
  if (d.kind === 'migrate') {
    return show(
      'warn',
      `failover due → ${name(d.toId)} (${reasonName(d.rule)})`,
      'a quorum of keepers attests the breach: anyone may call trigger_migration now, and the keepers will',
    );
  }
  switch (d.reason) {
    case 'paused':
      return show('bad', 'network paused: no automatic failover');
    case 'cooldown':
      return show('warn', `primary down by quorum; failover held by cooldown until slot ${d.untilSlot}`);
    case 'no healthy standby':
      return show('bad', 'primary down by quorum; no quorum-healthy standby to fail over to');
    case 'no primary':
      return show('bad', 'no primary, and no quorum-healthy standby to take the role');
    case 'no breach quorum':
      return downVotes > 0 ? show('muted', `${downVotes} of ${quorum} down votes: short of quorum`) : null;
  }
}
