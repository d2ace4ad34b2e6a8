import { formatBps, formatMs, shortAddress } from '../lib/format';
import type { Snapshot } from '../lib/live';
import { collect } from '../lib/quorum';

function Key({ address }: { address: string | null }) {
  if (!address) return <span className="muted">none</span>;
  return (
    <code title={address} className="key">
      {shortAddress(address, 6)}
    </code>
  );
}

export function NetworkPanel({ snapshot }: { snapshot: Snapshot }) {
  const { network, topology, reports, slot } = snapshot;
  const p = network.policy;
  const ballot = collect(network, topology, reports, slot);
  const counted = new Set(ballot.counted.map((c) => c.keeperIndex));
  const reportOf = (keeper: string) =>
    reports.filter((r) => r.keeper === keeper).sort((a, b) => (a.seq < b.seq ? 1 : -1))[0];
  const policy: [string, string][] = [
    [
      'quorum',
      `${ballot.quorum === Infinity ? '—' : ballot.quorum} of ${network.keepers.length}${p.quorum === 0 ? ' (⅔ default)' : ''}`,
    ],
    ['breach / recovery windows', `${p.breachWindows} / ${p.recoveryWindows}`],
    ['latency degraded / down', `${formatMs(p.latencyDegradedMs)} / ${formatMs(p.latencyDownMs)}`],
    ['slot lag degraded / down', `${p.lagDegradedSlots} / ${p.lagDownSlots} slots`],
    ['errors degraded / down', `${formatBps(p.errorDegradedBps)} / ${formatBps(p.errorDownBps)}`],
    ['report staleness', `${p.stalenessSlots} slots`],
    ['cooldown', `${p.cooldownSlots} slots`],
    ['quarantine', `${p.quarantineBaseSlots}–${p.quarantineMaxSlots} slots`],
    ['probation', `${p.probationSlots} slots`],
  ];
  return (
    <section className="panel" data-testid="network-panel">
      <h2>Network</h2>
      <div className="facts">
        <div>
          <span className="label">name</span> <strong data-testid="network-name">{network.name}</strong>
        </div>
        <div>
          <span className="label">address</span> <Key address={network.address} />
        </div>
        <div>
          <span className="label">topology epoch</span> <strong data-testid="epoch">{topology.epoch.toString()}</strong>
        </div>
        <div>
          <span className="label">state</span>{' '}
          {network.paused ? (
            <span className="badge bad" data-testid="paused">
              paused
            </span>
          ) : (
            <span className="badge ok">active</span>
          )}
        </div>
        <div>
          <span className="label">authority</span> <Key address={network.authority} />
        </div>
        <div>
          <span className="label">guardian</span> <Key address={network.guardian} />
        </div>
      </div>
      <div className="two">
        <div>
          <h3>Policy</h3>
          <table className="kv">
            <tbody>
              {policy.map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h3>Keepers</h3>
          <table className="grid" data-testid="keepers">
            <thead>
              <tr>
                <th>keeper</th>
                <th>region</th>
                <th>provider</th>
                <th>last report</th>
                <th>seq</th>
                <th>counts</th>
              </tr>
            </thead>
            <tbody>
              {network.keepers.map((k) => {
                const r = reportOf(k.address);
                return (
                  <tr key={k.address}>
                    <td>
                      <Key address={k.address} />
                    </td>
                    <td>{k.region}</td>
                    <td>{k.provider}</td>
                    <td>{r ? `slot ${r.submittedSlot}` : <span className="muted">no report</span>}</td>
                    <td>{r ? r.seq.toString() : '—'}</td>
                    <td>
                      {counted.has(k.index) ? (
                        <span className="badge ok">fresh</span>
                      ) : (
                        <span className="badge muted" title="stale, other epoch, or missing: not counted">
                          not counted
                        </span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
