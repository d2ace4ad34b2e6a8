import type { ReadonlyUint8Array } from '@solana/kit';

// Names and human formats for the program's codes. The codes are the program's
// (programs/lifeline/src/state/mod.rs); unknown values print as such, never as a guess.

export const ROLE_NAMES: Record<number, string> = {
  1: 'primary',
  2: 'standby',
  3: 'quarantined',
  4: 'retired',
};
export const VERDICT_NAMES: Record<number, string> = {
  0: 'unknown',
  1: 'healthy',
  2: 'degraded',
  3: 'down',
};
export const REASON_NAMES: Record<number, string> = {
  0: 'none',
  1: 'latency',
  2: 'slot lag',
  3: 'error rate',
  4: 'unreachable',
  5: 'stalled',
  6: 'divergent',
  7: 'from the future',
  10: 'vacant primary',
  20: 'manual',
};
export const CAUSE_NAMES: Record<number, string> = { 1: 'automatic', 2: 'manual' };
export const KIND_NAMES: Record<number, string> = {
  0: 'rpc',
  1: 'websocket',
  2: 'oracle',
  3: 'gateway',
  4: 'other',
  5: 'grpc',
};

function named(table: Record<number, string>, code: number): string {
  return table[code] ?? `code ${code}`;
}
export const roleName = (code: number) => named(ROLE_NAMES, code);
export const verdictName = (code: number) => named(VERDICT_NAMES, code);
export const reasonName = (code: number) => named(REASON_NAMES, code);
export const causeName = (code: number) => named(CAUSE_NAMES, code);
export const kindName = (code: number) => named(KIND_NAMES, code);

/** A fixed-size, NUL-padded ASCII field (labels, names, urls) as a string. */
export function fixedText(bytes: ReadonlyUint8Array, length?: number): string {
  const limit = Math.min(length ?? bytes.length, bytes.length);
  let end = 0;
  while (end < limit && bytes[end] !== 0) end++;
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.slice(0, end));
}

/** "5fFt…H6eJ": enough to tell keys apart on screen; the full key is in the title. */
export function shortAddress(address: string, keep = 4): string {
  return address.length <= keep * 2 + 1 ? address : `${address.slice(0, keep)}…${address.slice(-keep)}`;
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(0)} s`;
  if (ms >= 1_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms} ms`;
}

export function formatBps(bps: number): string {
  const pct = bps / 100;
  return `${pct % 1 === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

export function formatLag(slots: number): string {
  return slots === 1 ? '1 slot' : `${slots} slots`;
}

/** How long ago `slot` was, in slots, relative to `now` ("now" for the current slot). */
export function slotsAgo(now: bigint, slot: bigint): string {
  if (slot === 0n) return 'never';
  if (slot >= now) return 'now';
  const d = now - slot;
  return d === 1n ? '1 slot ago' : `${d} slots ago`;
}

/** Lamports per signature: a keeper's base fee per transaction. */
const BASE_FEE = 5_000n;
/** A keeper is low on funds below this many days of fees at the steady state. */
export const LOW_FUNDS_DAYS = 7;

/**
 * What a keeper's balance covers: days of fees at its steady state under the policy (a
 * heartbeat every third of `livenessSlots`, 400 ms slots) — the same figure as the
 * keeper's `lifeline_keeper_fee_days_left` floor and `lifeline status`.
 */
export function fundsOf(balance: bigint, livenessSlots: bigint): { sol: string; days: number; low: boolean } {
  const heartbeatMs = (livenessSlots / 3n > 0n ? livenessSlots / 3n : 1n) * 400n;
  const perDay = (86_400_000n / heartbeatMs) * BASE_FEE;
  const days = Number(balance) / Number(perDay > 0n ? perDay : 1n);
  return { sol: (Number(balance) / 1e9).toFixed(4), days, low: days < LOW_FUNDS_DAYS };
}
