import { describe, expect, it } from 'vitest';

import {
  causeName,
  fundsOf,
  fixedText,
  formatBps,
  formatMs,
  kindName,
  reasonName,
  roleName,
  shortAddress,
  slotsAgo,
  verdictName,
} from './format';

describe('format', () => {
  it('names the program codes and shows unknown ones as codes', () => {
    expect([1, 2, 3, 4].map(roleName)).toEqual(['primary', 'standby', 'quarantined', 'retired']);
    expect([0, 1, 2, 3].map(verdictName)).toEqual(['unknown', 'healthy', 'degraded', 'down']);
    expect(reasonName(2)).toBe('slot lag');
    expect([5, 6].map(reasonName)).toEqual(['stalled', 'divergent']);
    expect(kindName(5)).toBe('grpc');
    expect(reasonName(20)).toBe('manual');
    expect(causeName(1)).toBe('automatic');
    expect(roleName(9)).toBe('code 9');
  });

  it('reads NUL-padded fixed fields, honouring an explicit length', () => {
    const field = new Uint8Array(16);
    field.set(new TextEncoder().encode('eu-west'));
    expect(fixedText(field)).toBe('eu-west');
    expect(fixedText(field, 2)).toBe('eu');
    expect(fixedText(new TextEncoder().encode('full'))).toBe('full');
    expect(fixedText(new Uint8Array(4))).toBe('');
  });

  it('formats durations, rates and slot ages', () => {
    expect(formatMs(35)).toBe('35 ms');
    expect(formatMs(1500)).toBe('1.5 s');
    expect(formatMs(30_000)).toBe('30 s');
    expect(formatBps(5000)).toBe('50%');
    expect(formatBps(125)).toBe('1.3%');
    expect(slotsAgo(100n, 0n)).toBe('never');
    expect(slotsAgo(100n, 99n)).toBe('1 slot ago');
    expect(slotsAgo(100n, 40n)).toBe('60 slots ago');
    expect(slotsAgo(100n, 100n)).toBe('now');
  });

  it('shortens keys but keeps short strings whole', () => {
    expect(shortAddress('5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ')).toBe('5fFt…H6eJ');
    expect(shortAddress('abc')).toBe('abc');
  });
});

describe("a keeper's funds", () => {
  it('counts days of fees at the steady state and flags a week or less', () => {
    // default policy: a heartbeat every 250 slots (100 s), 864 a day at 5,000 lamports
    const ok = fundsOf(100_000_000n, 750n);
    expect(ok.days).toBeGreaterThan(23);
    expect(ok.days).toBeLessThan(24);
    expect(ok.low).toBe(false);
    expect(ok.sol).toBe('0.1000');
    expect(fundsOf(20_000_000n, 750n).low).toBe(true);
    // a chattier policy spends faster
    expect(fundsOf(100_000_000n, 150n).days).toBeLessThan(5);
  });
});
