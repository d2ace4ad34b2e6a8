import type { Address } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import { getEndpointDecoder, getMigrationRecordDecoder } from '../generated/types';
import fixture from '../../test/fixtures/quorum-cases.json';
import {
  AccountMismatch,
  accountKind,
  decodeNetworkAccount,
  decodeTopologyAccount,
  PROGRAM_ID,
  votersOf,
} from './model';
import { fixtureBytes } from './testing';

const c = fixture.cases[0];
const SYSTEM = '11111111111111111111111111111111';

describe('account decoding', () => {
  it('tells the three accounts apart by discriminator', () => {
    expect(accountKind(fixtureBytes(c.network.account))).toBe('network');
    expect(accountKind(fixtureBytes(c.topology.account))).toBe('topology');
    expect(accountKind(fixtureBytes(c.reports[0].account))).toBe('report');
    expect(accountKind(new Uint8Array(64))).toBeNull();
  });

  it('refuses an account of another owner (a wrong network address)', () => {
    expect(() => decodeNetworkAccount(c.network.address as Address, SYSTEM, fixtureBytes(c.network.account))).toThrow(
      AccountMismatch,
    );
    expect(() => decodeNetworkAccount(c.network.address as Address, SYSTEM, fixtureBytes(c.network.account))).toThrow(
      /owned by 1111/,
    );
  });

  it('refuses another Lifeline account given as the network', () => {
    expect(() => decodeNetworkAccount('T' as Address, PROGRAM_ID, fixtureBytes(c.topology.account))).toThrow(
      'T is not a Lifeline network: it is a topology account',
    );
  });

  it('refuses truncated data', () => {
    const data = fixtureBytes(c.network.account).slice(0, 100);
    expect(() => decodeNetworkAccount('N' as Address, PROGRAM_ID, data)).toThrow(/100 bytes/);
  });

  it('keeps keeper slots (voter bits) when the keeper array has holes', () => {
    const withHoles = fixture.cases.find((x) => {
      const n = decodeNetworkAccount(x.network.address as Address, PROGRAM_ID, fixtureBytes(x.network.account));
      return n.keepers.some((k, i) => k.index !== i);
    });
    expect(withHoles).toBeDefined();
    const n = decodeNetworkAccount(
      withHoles!.network.address as Address,
      PROGRAM_ID,
      fixtureBytes(withHoles!.network.account),
    );
    const last = n.keepers[n.keepers.length - 1];
    expect(votersOf(1 << last.index, n.keepers)).toEqual([last]);
    expect(votersOf(0, n.keepers)).toEqual([]);
  });

  it('reads the migration ring newest first', () => {
    // Topology bytes with history_total = 10 over a ring of 8: records 2..9 are kept.
    const data = fixtureBytes(c.topology.account);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const historyTotalOffset = 8 + 32 + 8 + 8 * 8;
    const historyOffset = historyTotalOffset + 8 + 32 * getEndpointDecoder().fixedSize;
    const recordSize = getMigrationRecordDecoder().fixedSize;
    view.setBigUint64(historyTotalOffset, 10n, true);
    for (let i = 0; i < 8; i++) {
      // the record written as migration number n sits at n % 8 and says new_epoch = n
      const n = i < 2 ? 8 + i : i;
      view.setBigUint64(historyOffset + i * recordSize + 8, BigInt(n), true);
    }
    const t = decodeTopologyAccount(c.topology.address as Address, PROGRAM_ID, data);
    expect(t.historyTotal).toBe(10n);
    expect(t.history.map((r) => Number(r.newEpoch))).toEqual([9, 8, 7, 6, 5, 4, 3, 2]);
  });
});
