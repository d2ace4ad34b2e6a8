import { causeName, formatBps, formatMs, reasonName, shortAddress } from '../lib/format';
import type { MigrationEvidence } from '../lib/events';
import type { Snapshot } from '../lib/live';
import { endpointLabel, votersOf, type MigrationRecordModel } from '../lib/model';

/**
 * The topology's own record of its last migrations (on chain, always there), each with
 * the evidence from its MigrationExecuted event when the transaction is still readable:
 * the voters by key, the quarantine it imposed, who sent it.
 */
export function MigrationHistory({
  snapshot,
  evidence,
  unavailable,
}: {
  snapshot: Snapshot;
  evidence: MigrationEvidence[];
  unavailable: ReadonlySet<string>;
}) {
  const { topology, network } = snapshot;
  const byEpoch = new Map(evidence.map((m) => [m.event.header.epoch.toString(), m]));
  const name = (id: number) => endpointLabel(topology, id);
  return (
    <section className="panel" data-testid="migration-history">
      <h2>
        Migrations <span className="muted small">{topology.historyTotal.toString()} in all</span>
      </h2>
      {topology.history.length === 0 ? (
        <p className="muted" data-testid="no-migrations">
          No migration yet.
        </p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>slot</th>
              <th>group</th>
              <th>from → to</th>
              <th>rule · cause</th>
              <th>evidence (medians)</th>
              <th>voters</th>
              <th>transaction</th>
            </tr>
          </thead>
          <tbody>
            {topology.history.map((r: MigrationRecordModel) => {
              const m = byEpoch.get(r.newEpoch.toString());
              const voters = m
                ? m.event.voters.map((v) => network.keepers.find((k) => k.address === v)?.region || shortAddress(v))
                : votersOf(r.voters, network.keepers).map((k) => k.region || shortAddress(k.address));
              return (
                <tr key={r.newEpoch.toString()} data-testid="migration-row">
                  <td>
                    {r.slot.toString()}
                    {m?.blockTime != null && (
                      <div className="muted small">{new Date(Number(m.blockTime) * 1000).toLocaleTimeString()}</div>
                    )}
                  </td>
                  <td>{r.group}</td>
                  <td>
                    <span className="from">{name(r.fromId)}</span> → <strong className="to">{name(r.toId)}</strong>
                    <div className="muted small">
                      epoch {(m ? m.event.oldEpoch : r.newEpoch - 1n).toString()} → {r.newEpoch.toString()}
                    </div>
                  </td>
                  <td>
                    {reasonName(r.rule)} · {causeName(r.cause)}
                  </td>
                  <td className="small">
                    latency {formatMs(r.medianLatencyMs)} · lag {r.medianSlotLag} · err {formatBps(r.medianErrorBps)}
                    {m && m.event.quarantineUntilSlot > 0n && (
                      <div className="muted">quarantined until slot {m.event.quarantineUntilSlot.toString()}</div>
                    )}
                  </td>
                  <td className="small">
                    {r.voterCount} {voters.length > 0 && <span className="muted">({voters.join(', ')})</span>}
                  </td>
                  <td className="small">
                    {m ? (
                      <>
                        <code title={m.signature}>{shortAddress(m.signature, 6)}</code>
                        <div className="muted">by {shortAddress(m.event.triggeredBy)}</div>
                      </>
                    ) : unavailable.has(r.newEpoch.toString()) ? (
                      <span className="muted" title="the RPC no longer serves this transaction">
                        not available
                      </span>
                    ) : (
                      <span className="muted">looking up…</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
