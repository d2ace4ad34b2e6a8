import { useEffect, useMemo, useRef, useState } from 'react';

import { ConfigForm } from './components/ConfigForm';
import { HealthChart } from './components/HealthChart';
import { MigrationHistory } from './components/MigrationHistory';
import { NetworkPanel } from './components/NetworkPanel';
import { StatusBanner } from './components/StatusBanner';
import { TopologyPanel } from './components/TopologyPanel';
import { parseConfig, toSearch, type DashboardConfig } from './lib/config';
import type { MigrationEvidence } from './lib/events';
import { LiveNetwork, type Health, type Snapshot } from './lib/live';
import { collect, tallyAt } from './lib/quorum';
import { SeriesStore } from './lib/series';

export function App() {
  const initial = useMemo(() => parseConfig(window.location.search), []);
  const [config, setConfig] = useState<DashboardConfig>(initial.config);
  const [health, setHealth] = useState<Health>({ kind: 'connecting' });
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [migrations, setMigrations] = useState<MigrationEvidence[]>([]);
  const [unavailable, setUnavailable] = useState<ReadonlySet<string>>(new Set());
  const [balances, setBalances] = useState<ReadonlyMap<string, bigint>>(new Map());
  const series = useRef(new SeriesStore());
  const lastSeqs = useRef('');

  useEffect(() => {
    setSnapshot(null);
    setMigrations([]);
    series.current = new SeriesStore();
    lastSeqs.current = '';
    const live = new LiveNetwork(config, {
      onHealth: setHealth,
      onBalances: setBalances,
      onMigrations: (found, missing) => {
        setMigrations(found);
        setUnavailable(missing);
      },
      onSnapshot: (s) => {
        // A chart point per endpoint whenever a keeper attested (a ballot row's seq moved),
        // not on every topology or network notification, which carry no new measurements.
        const seqs = s.ballot.rows.map((r) => r.seq).join(',');
        if (seqs !== lastSeqs.current) {
          lastSeqs.current = seqs;
          const electorate = collect(s);
          const now = Date.now();
          s.topology.endpoints.forEach((e, j) => {
            const t = tallyAt(s, electorate, j);
            if (t.observed > 0) {
              series.current.record(e.id, { t: now, latencyMs: t.medianLatencyMs, slotLag: t.medianSlotLag });
            }
          });
        }
        setSnapshot(s);
      },
    });
    live.start();
    return () => live.stop();
  }, [config]);

  const connect = (next: DashboardConfig) => {
    window.history.replaceState(null, '', toSearch(next));
    setConfig(next);
  };

  return (
    <div className="page">
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true" /> Lifeline
          {snapshot && <span className="network-name">{snapshot.network.name}</span>}
        </div>
        <ConfigForm config={config} onConnect={connect} />
        <LivePill health={health} slot={snapshot?.slot} />
      </header>
      <StatusBanner
        health={health}
        problems={initial.problems}
        onChoose={(network) => connect({ ...config, network })}
      />
      {snapshot && (
        <main>
          <NetworkPanel snapshot={snapshot} balances={balances} />
          <TopologyPanel snapshot={snapshot} />
          <HealthChart snapshot={snapshot} series={series.current} />
          <MigrationHistory snapshot={snapshot} evidence={migrations} unavailable={unavailable} />
        </main>
      )}
    </div>
  );
}

function LivePill({ health, slot }: { health: Health; slot?: bigint }) {
  const [label, cls] =
    health.kind === 'live'
      ? health.transport === 'subscription'
        ? ['live · subscription', 'ok']
        : ['live · polling', 'warn']
      : health.kind === 'connecting'
        ? ['connecting…', 'muted']
        : ['offline', 'bad'];
  return (
    <div className={`pill ${cls}`} data-testid="live-status">
      {label}
      {slot !== undefined && <span className="slot"> · slot {slot.toString()}</span>}
    </div>
  );
}
