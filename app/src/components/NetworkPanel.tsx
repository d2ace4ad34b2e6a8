import { formatBps, formatMs, fundsOf, shortAddress, slotsAgo } from '../lib/format';
import type { Snapshot } from '../lib/live';
import { effectiveQuorum, rowStatus, toleranceNote, type RowStatus } from '../lib/quorum';

function Key({ address }: { address: string | null }) {
  if (!address) return <span className="muted">none</span>;
  return (
    <code title={address} className="key">
      {shortAddress(address, 6)}
    </code>
  );
}

export function NetworkPanel({
  snapshot,
  balances = new Map(),
}: {
  snapshot: Snapshot;
  /** Each keeper's wallet balance, lamports (read every 10 s). */
  balances?: ReadonlyMap<string, bigint>;
}) {
  const { network, topology, ballot, slot } = snapshot;
  const p = network.policy;
  const quorum = effectiveQuorum(p.quorum, network.keeperCount);
  const policy: [string, string][] = [
    [
      'quorum',
      `${quorum === Infinity ? '—' : quorum} of ${network.keeperCount}${p.quorum === 0 ? ' (⅔ default)' : ''}`,
    ],
    ['breach / recovery windows', `${p.breachWindows} / ${p.recoveryWindows}`],
    ['latency degraded / down', `${formatMs(p.latencyDegradedMs)} / ${formatMs(p.latencyDownMs)}`],
    ['slot lag degraded / down', `${p.lagDegradedSlots} / ${p.lagDownSlots} slots`],
    ['stalled (slot stands still)', p.stallSlots === 0 ? 'off' : `after ${p.stallSlots} slots`],
    ['errors degraded / down', `${formatBps(p.errorDegradedBps)} / ${formatBps(p.errorDownBps)}`],
    ['down votes fresh for', `${p.stalenessSlots} slots`],
    ['keeper silent after', `${p.livenessSlots} slots`],
    ['cooldown', `${p.cooldownSlots} slots`],
    ['quarantine', `${p.quarantineBaseSlots}–${p.quarantineMaxSlots} slots`],
    ['probation', `${p.probationSlots} slots`],
  ];
  const fragile = toleranceNote(p.quorum, network.keeperCount);
  return (
    <section className="panel" data-testid="network-panel">
      <h2>Network</h2>
      {fragile && (
        <p className="badge warn" data-testid="tolerance-warning">
          {fragile}
        </p>
      )}
      <div className="facts">
        <div>
          <span className="label">name</span> <strong data-testid="network-name">{network.name}</strong>
        </div>
        <div>
          <span className="label">address</span> <Key address={network.address} />
        </div>
        <div>
          <span className="label">topology epoch</span> <strong data-testid="epoch">{topology.epoch.toString()}</strong>
          <span className="muted small"> · policy set at {topology.policyEpoch.toString()}</span>
        </div>
        <div>
          <span className="label">state</span>{' '}
          {network.paused ? (
            <span className="badge bad" data-testid="paused" title={network.pausedBy ?? undefined}>
              paused{network.pausedBy ? ` by ${shortAddress(network.pausedBy)}` : ''}
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
                <th>last attestation</th>
                <th>seq</th>
                <th>votes</th>
                <th>funds</th>
              </tr>
            </thead>
            <tbody>
              {network.keepers.map((k) => {
                // The slot's row, if this keeper wrote it (it may still be a predecessor's).
                const row = ballot.rows[k.index];
                const mine = row && row.keeper === k.address && row.submittedSlot !== 0n ? row : null;
                return (
                  <tr key={k.address}>
                    <td>
                      <Key address={k.address} />
                    </td>
                    <td>{k.region}</td>
                    <td>{k.provider}</td>
                    <td>
                      {mine ? (
                        <>
                          slot {mine.submittedSlot.toString()}
                          <div className="muted small">{slotsAgo(slot, mine.submittedSlot)}</div>
                        </>
                      ) : (
                        <span className="muted">none yet</span>
                      )}
                    </td>
                    <td>{mine ? mine.seq.toString() : '—'}</td>
                    <td>
                      <KeeperStatus
                        index={k.index}
                        status={rowStatus(snapshot, k.index)}
                        lastSlot={mine?.submittedSlot ?? 0n}
                        snapshot={snapshot}
                      />
                    </td>
                    <td data-testid={`keeper-funds-${k.index}`}>
                      <Funds balance={balances.get(k.address)} livenessSlots={p.livenessSlots} />
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

/** A keeper's balance and the days of fees it covers; flagged a week before it runs dry. */
function Funds({ balance, livenessSlots }: { balance: bigint | undefined; livenessSlots: bigint }) {
  if (balance === undefined) return <span className="muted">…</span>;
  const f = fundsOf(balance, livenessSlots);
  return (
    <>
      {f.sol} SOL
      <div className={f.low ? 'badge bad' : 'muted small'} data-low={f.low}>
        {f.low ? `low on funds: ~${f.days.toFixed(1)} days of fees` : `~${Math.floor(f.days)} days of fees`}
      </div>
    </>
  );
}

/** Whether the keeper's row counts now, and if not why (the engine's `collect`, mirrored). */
export function KeeperStatus({
  index,
  status: s,
  lastSlot,
  snapshot,
}: {
  index: number;
  status: RowStatus;
  lastSlot: bigint;
  snapshot: Snapshot;
}) {
  const p = snapshot.network.policy;
  const show = (cls: string, text: string, title: string) => (
    <span className={`badge ${cls}`} data-testid={`keeper-status-${index}`} data-kind={s.kind} title={title}>
      {text}
    </span>
  );
  switch (s.kind) {
    case 'counted':
      if (s.cutOff) {
        return show(
          'warn',
          'cut off',
          'reaches no endpoint at all: more likely cut off itself, so its votes do not count',
        );
      }
      if (!s.fresh) {
        return show(
          'warn',
          'count · reference stale',
          `its reference slot is over ${p.stalenessSlots} slots old: its down votes do not count until it attests again`,
        );
      }
      return show('ok', 'count', 'attested within the liveness window, under the current policy');
    case 'silent':
      return show(
        'bad',
        `silent since slot ${lastSlot}`,
        `no attestation for over ${p.livenessSlots} slots: none of its votes count`,
      );
    case 'old policy':
      return show(
        'muted',
        'before the policy change',
        'attested before the policy last changed: its votes count again from its next attestation',
      );
    case 'ahead':
      return show('muted', 'just attested', 'its attestation landed after the slot this page read');
    case 'none':
      return show('muted', 'no attestation yet', 'has not attested since it took this keeper slot');
  }
}
