// Latency and slot lag per endpoint over time, kept in the browser: the chain holds only
// each keeper's latest report, so history exists only from the moment the page opened.

export interface Sample {
  /** Milliseconds since the epoch (Date.now()). */
  t: number;
  latencyMs: number;
  slotLag: number;
}

export class SeriesStore {
  private readonly series = new Map<number, Sample[]>();

  constructor(
    readonly windowMs = 180_000,
    readonly capacity = 600,
  ) {}

  record(endpointId: number, sample: Sample): void {
    const list = this.series.get(endpointId) ?? [];
    const last = list[list.length - 1];
    if (last && sample.t < last.t) return; // out of order: keep the line monotonic
    list.push(sample);
    const cutoff = sample.t - this.windowMs;
    let drop = 0;
    while (drop < list.length - 1 && list[drop].t < cutoff) drop++;
    if (list.length - drop > this.capacity) drop = list.length - this.capacity;
    if (drop > 0) list.splice(0, drop);
    this.series.set(endpointId, list);
  }

  get(endpointId: number): readonly Sample[] {
    return this.series.get(endpointId) ?? [];
  }

  endpointIds(): number[] {
    return [...this.series.keys()].sort((a, b) => a - b);
  }

  /** Largest value of `field` across all series (for a shared y axis); 0 when empty. */
  max(field: 'latencyMs' | 'slotLag'): number {
    let m = 0;
    for (const list of this.series.values()) for (const s of list) m = Math.max(m, s[field]);
    return m;
  }
}
