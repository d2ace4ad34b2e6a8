import type { Address } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import { lifelineAccountKind as accountKind, LifelineAccountError } from '@lifeline/client';
import { getTopologyDecoder, getTopologyEncoder } from '@lifeline/client/generated';
import fixture from '../../test/fixtures/quorum-cases.json';
import { decodeBallotAccount, decodeNetworkAccount, decodeTopologyAccount, PROGRAM_ID, votersOf } from './model';
import { fixtureBytes } from './testing';

const c = fixture.cases[0];
const SYSTEM = '11111111111111111111111111111111';

describe('account decoding', () => {
  it('tells the three accounts apart by discriminator', () => {
    expect(accountKind(fixtureBytes(c.network.account))).toBe('network');
    expect(accountKind(fixtureBytes(c.topology.account))).toBe('topology');
    expect(accountKind(fixtureBytes(c.ballot.account))).toBe('ballot');
    expect(accountKind(new Uint8Array(64))).toBeNull();
  });

  it('refuses an account of another owner (a wrong network address)', () => {
    expect(() => decodeNetworkAccount(c.network.address as Address, SYSTEM, fixtureBytes(c.network.account))).toThrow(
      LifelineAccountError,
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

  it('reads the ballot as one row per keeper slot, a cell per endpoint position', () => {
    const b = decodeBallotAccount(c.ballot.address as Address, PROGRAM_ID, fixtureBytes(c.ballot.account));
    const t = decodeTopologyAccount(c.topology.address as Address, PROGRAM_ID, fixtureBytes(c.topology.account));
    expect(b.network).toBe(t.network);
    expect(b.rows.map((r) => r.index)).toEqual([...Array(16).keys()]);
    expect(b.rows.every((r) => r.votes.length === 32)).toBe(true);
    // Columns past the last endpoint are empty unless an endpoint was removed.
    expect(
      b.rows.some((r) => r.submittedSlot > 0n && r.votes.slice(0, t.endpoints.length).some((v) => v.verdict)),
    ).toBe(true);
    expect(() => decodeBallotAccount('B' as Address, PROGRAM_ID, fixtureBytes(c.network.account))).toThrow(
      'B is not a Lifeline ballot: it is a network account',
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
    // Topology bytes with history_total = 10 over a ring of 8: records 2..9 are kept; the
    // record written as migration number n sits at n % 8 and says new_epoch = n.
    const t = getTopologyDecoder().decode(fixtureBytes(c.topology.account));
    const data = getTopologyEncoder().encode({
      ...t,
      historyTotal: 10n,
      history: t.history.map((r, i) => ({ ...r, newEpoch: BigInt(i < 2 ? 8 + i : i) })),
    });
    const decoded = decodeTopologyAccount(c.topology.address as Address, PROGRAM_ID, data);
    expect(decoded.historyTotal).toBe(10n);
    expect(decoded.history.map((r) => Number(r.newEpoch))).toEqual([9, 8, 7, 6, 5, 4, 3, 2]);
  });
});
