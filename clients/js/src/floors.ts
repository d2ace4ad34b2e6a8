// What the failover transport will serve (client/src/floors.rs, the same rules): never an
// answer older than one already served (no going back in time across a failover), never
// an answer from the future (a lying endpoint), and no endpoint may make the others
// unusable.
//
// Per commitment it keeps each endpoint's last accepted slot and when; what it trusts —
// the topology's read slot and the other endpoints' last answers, each advanced by the
// time since at a slot per 400 ms (the reference); and the overall floor, which one answer
// raises at most FLOOR_SLACK slots above the reference. An answer more than
// FUTURE_TOLERANCE slots ahead of the reference is refused as from the future; with no
// reference at all, answers are taken as they come. client/tests/floors_cases.json holds
// cases both implementations must agree on.
import type { Commitment } from '@solana/kit';

export const FUTURE_TOLERANCE = 64n;
export const FLOOR_SLACK = 2n;
const SLOT_MS = 400;

type Seen = { slot: bigint; atMs: number };

const advanced = ({ slot, atMs }: Seen, nowMs: number): bigint =>
  slot + BigInt(Math.max(0, Math.floor((nowMs - atMs) / SLOT_MS)));

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

export class Floors {
  private readonly floors = new Map<Commitment, bigint>();
  /** Per endpoint URL and commitment: the last accepted slot, and when. */
  private readonly last = new Map<string, Map<Commitment, Seen>>();
  /** The topology's read: its epoch, slot, and when this transport first saw it. */
  private anchor: (Seen & { epoch: bigint }) | null = null;

  floor(commitment: Commitment): bigint {
    return this.floors.get(commitment) ?? 0n;
  }

  /**
   * A topology view read at `slot` (epoch `epoch`) is current. A new epoch re-derives the
   * floors from that read; answers taken before that lie beyond it are forgotten.
   */
  topology(epoch: bigint, slot: bigint, nowMs: number): void {
    if (this.anchor?.epoch === epoch) return;
    this.anchor = { epoch, slot, atMs: nowMs };
    for (const [c, f] of this.floors) this.floors.set(c, min(f, slot + FLOOR_SLACK));
    const ceiling = slot + FUTURE_TOLERANCE;
    for (const levels of this.last.values()) {
      for (const [c, seen] of levels) if (seen.slot > ceiling) levels.delete(c);
    }
  }

  /** What the transport trusts at `commitment` now, leaving `url`'s own answers out. */
  private reference(url: string, commitment: Commitment, nowMs: number): bigint | undefined {
    let r: bigint | undefined = this.anchor ? advanced(this.anchor, nowMs) : undefined;
    for (const [u, levels] of this.last) {
      if (u === url) continue;
      const seen = levels.get(commitment);
      if (seen) r = r === undefined ? advanced(seen, nowMs) : max(r, advanced(seen, nowMs));
    }
    return r;
  }

  /** Judges an answer for `slot` from `url`: null when accepted (and recorded), else why not. */
  judge(url: string, commitment: Commitment, slot: bigint, nowMs: number): { stale: boolean; why: string } | null {
    const reference = this.reference(url, commitment, nowMs);
    if (reference !== undefined && slot > reference + FUTURE_TOLERANCE) {
      return { stale: false, why: `answered for slot ${slot}, from the future (the others stand near ${reference})` };
    }
    const own = this.last.get(url)?.get(commitment)?.slot ?? 0n;
    const floor = max(this.floor(commitment), own);
    if (slot < floor) {
      return { stale: true, why: `answered for slot ${slot}, behind slot ${floor} already served (${commitment})` };
    }
    let levels = this.last.get(url);
    if (!levels) this.last.set(url, (levels = new Map()));
    levels.set(commitment, { slot, atMs: nowMs });
    const raise = reference === undefined ? slot : min(slot, reference + FLOOR_SLACK);
    this.floors.set(commitment, max(this.floor(commitment), raise));
    return null;
  }
}
