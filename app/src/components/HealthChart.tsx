import { formatMs } from '../lib/format';
import type { Snapshot } from '../lib/live';
import type { Sample, SeriesStore } from '../lib/series';

const COLORS = ['#4f9cf9', '#f5a623', '#7ed321', '#e94e77', '#b57edc', '#50e3c2', '#f8e71c', '#9b9b9b'];
const W = 560;
const H = 160;
const PAD = { left: 44, right: 8, top: 8, bottom: 20 };

/** Median latency and slot lag per endpoint, as the counted keepers report them. */
export function HealthChart({ snapshot, series }: { snapshot: Snapshot; series: SeriesStore }) {
  const ids = series.endpointIds();
  const label = (id: number) => {
    const e = snapshot.topology.endpoints.find((x) => x.id === id);
    return e ? `#${id} ${hostOf(e.url)}` : `#${id}`;
  };
  const now = Date.now();
  const span = visibleSpan(series, now);
  return (
    <section className="panel" data-testid="health-chart">
      <h2>Latency and slot lag</h2>
      <p className="muted small">
        Medians over the keepers' ballot rows that count, sampled each time a keeper attests; kept in this page since it
        opened (up to {Math.round(series.windowMs / 60_000)} min).
      </p>
      {ids.length === 0 ? (
        <p className="muted">Waiting for keeper attestations…</p>
      ) : (
        <>
          <div className="charts">
            <Chart
              title="latency"
              ids={ids}
              series={series}
              field="latencyMs"
              now={now}
              span={span}
              format={(v) => formatMs(Math.round(v))}
            />
            <Chart
              title="slot lag"
              ids={ids}
              series={series}
              field="slotLag"
              now={now}
              span={span}
              format={(v) => `${Math.round(v)}`}
            />
          </div>
          <div className="legend">
            {ids.map((id, i) => (
              <span key={id}>
                <span className="swatch" style={{ background: COLORS[i % COLORS.length] }} /> {label(id)}
              </span>
            ))}
          </div>
        </>
      )}
    </section>
  );
}

/**
 * The time the x axis covers: what the page has seen, at least 30 s, at most the store's
 * window — so the first minutes are not squeezed into the right edge.
 */
export function visibleSpan(series: SeriesStore, now: number): number {
  let first = now;
  for (const id of series.endpointIds()) first = Math.min(first, series.get(id)[0]?.t ?? now);
  return Math.min(series.windowMs, Math.max(30_000, now - first));
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** SVG polyline points for `samples` in a `[now - window, now]` × `[0, max]` box. */
export function polylinePoints(
  samples: readonly Sample[],
  field: 'latencyMs' | 'slotLag',
  now: number,
  windowMs: number,
  max: number,
): string {
  const x0 = now - windowMs;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  return samples
    .filter((s) => s.t >= x0)
    .map((s) => {
      const x = PAD.left + ((s.t - x0) / windowMs) * iw;
      const y = PAD.top + ih - (max > 0 ? (s[field] / max) * ih : 0);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

function Chart({
  title,
  ids,
  series,
  field,
  now,
  span,
  format,
}: {
  title: string;
  ids: number[];
  series: SeriesStore;
  field: 'latencyMs' | 'slotLag';
  now: number;
  span: number;
  format: (v: number) => string;
}) {
  const max = Math.max(series.max(field), field === 'slotLag' ? 4 : 10) * 1.1;
  const ih = H - PAD.top - PAD.bottom;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title} per endpoint`}>
        {[0, 0.5, 1].map((f) => {
          const y = PAD.top + ih - f * ih;
          return (
            <g key={f}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} className="gridline" />
              <text x={PAD.left - 4} y={y + 4} textAnchor="end" className="tick">
                {format(max * f)}
              </text>
            </g>
          );
        })}
        <text x={PAD.left} y={H - 4} className="tick">
          −{Math.round(span / 1000)} s
        </text>
        <text x={W - PAD.right} y={H - 4} textAnchor="end" className="tick">
          now
        </text>
        {ids.map((id, i) => (
          <polyline
            key={id}
            data-endpoint={id}
            fill="none"
            stroke={COLORS[i % COLORS.length]}
            strokeWidth={2}
            points={polylinePoints(series.get(id), field, now, span, max)}
          />
        ))}
      </svg>
    </figure>
  );
}
