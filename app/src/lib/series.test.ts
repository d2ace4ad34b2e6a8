import { describe, expect, it } from 'vitest';

import { polylinePoints, visibleSpan } from '../components/HealthChart';
import { SeriesStore } from './series';

describe('series', () => {
  it('keeps only the window, the capacity and monotonic time', () => {
    const s = new SeriesStore(10_000, 5);
    for (let i = 0; i < 20; i++) s.record(1, { t: i * 1_000, latencyMs: i, slotLag: 0 });
    expect(s.get(1).map((x) => x.t)).toEqual([15_000, 16_000, 17_000, 18_000, 19_000]);
    s.record(1, { t: 100, latencyMs: 999, slotLag: 0 }); // out of order: dropped
    expect(s.get(1)).toHaveLength(5);
    expect(s.max('latencyMs')).toBe(19);
    const w = new SeriesStore(3_000, 100);
    for (let i = 0; i < 10; i++) w.record(2, { t: i * 1_000, latencyMs: 1, slotLag: i });
    expect(w.get(2).map((x) => x.t)).toEqual([6_000, 7_000, 8_000, 9_000]);
    expect(w.endpointIds()).toEqual([2]);
    expect(w.get(7)).toEqual([]);
  });

  it('maps samples into the chart box: older left, larger up', () => {
    const pts = polylinePoints(
      [
        { t: 0, latencyMs: 0, slotLag: 0 },
        { t: 500, latencyMs: 50, slotLag: 0 },
        { t: 1_000, latencyMs: 100, slotLag: 0 },
      ],
      'latencyMs',
      1_000,
      1_000,
      100,
    )
      .split(' ')
      .map((p) => p.split(',').map(Number));
    expect(pts).toHaveLength(3);
    expect(pts[0][0]).toBeLessThan(pts[1][0]);
    expect(pts[1][0]).toBeLessThan(pts[2][0]);
    expect(pts[0][1]).toBeGreaterThan(pts[1][1]); // y grows downwards in SVG
    expect(pts[1][1]).toBeGreaterThan(pts[2][1]);
    expect(polylinePoints([{ t: -5, latencyMs: 1, slotLag: 0 }], 'latencyMs', 1_000, 1_000, 100)).toBe('');
  });

  it('shows what the page has seen: at least 30 s, at most the window', () => {
    const s = new SeriesStore(180_000, 1_000);
    expect(visibleSpan(s, 1_000_000)).toBe(30_000);
    s.record(1, { t: 1_000_000 - 10_000, latencyMs: 1, slotLag: 0 });
    expect(visibleSpan(s, 1_000_000)).toBe(30_000);
    s.record(2, { t: 1_000_000 - 90_000, latencyMs: 1, slotLag: 0 });
    expect(visibleSpan(s, 1_000_000)).toBe(90_000);
    expect(visibleSpan(s, 1_000_000 + 500_000)).toBe(180_000);
  });
});
