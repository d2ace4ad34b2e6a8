// The checks every read makes before decoding, and the plain view of a topology.
import { describe, expect, it } from 'vitest';

import {
  decodeLifelineAccount,
  LifelineAccountError,
  lifelineAccountKind,
  LIFELINE_PROGRAM_ADDRESS,
  primaryOf,
  servingOf,
  standbysOf,
  topologyView,
  type LifelineAccountErrorCode,
} from '../../src';
import { getTopologyDecoder } from '../../src/generated/accounts';
import { ballotBytes, NETWORK, networkBytes, SYSTEM, topologyBytes } from './fakes';

const T = 'Top1111111111111111111111111111111111111111' as never;
const raw = (data: Uint8Array, owner: string = LIFELINE_PROGRAM_ADDRESS) => ({ address: T, owner, data });

function errorOf(f: () => unknown): { code: LifelineAccountErrorCode; message: string } | string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof LifelineAccountError ? { code: e.code, message: e.message } : `untyped: ${e}`;
  }
}

describe('account checks', () => {
  it('decode what they are read as', () => {
    expect(decodeLifelineAccount('topology', raw(topologyBytes({ epoch: 7n }))).epoch).toBe(7n);
    expect(decodeLifelineAccount('network', raw(networkBytes({ keeperCount: 5 }))).keeperCount).toBe(5);
    expect(decodeLifelineAccount('ballot', raw(ballotBytes())).network).toBe(NETWORK);
  });

  it('tell the three accounts apart by discriminator', () => {
    expect(lifelineAccountKind(networkBytes())).toBe('network');
    expect(lifelineAccountKind(topologyBytes())).toBe('topology');
    expect(lifelineAccountKind(ballotBytes())).toBe('ballot');
    expect(lifelineAccountKind(new Uint8Array(64))).toBeNull();
    expect(lifelineAccountKind(new Uint8Array(3))).toBeNull();
  });

  it('name a missing account', () => {
    expect(errorOf(() => decodeLifelineAccount('network', null, T))).toEqual({
      code: 'AccountNotFound',
      message: `${T} is not a Lifeline network: no account exists at this address`,
    });
  });

  it('name another owner', () => {
    expect(errorOf(() => decodeLifelineAccount('network', raw(networkBytes(), SYSTEM)))).toEqual({
      code: 'WrongOwner',
      message: `${T} is not a Lifeline network: it is owned by ${SYSTEM}, not the Lifeline program ${LIFELINE_PROGRAM_ADDRESS}`,
    });
  });

  it('name another Lifeline account, or none', () => {
    expect(errorOf(() => decodeLifelineAccount('network', raw(topologyBytes())))).toEqual({
      code: 'WrongDiscriminator',
      message: `${T} is not a Lifeline network: it is a topology account`,
    });
    expect(errorOf(() => decodeLifelineAccount('ballot', raw(new Uint8Array(9000))))).toEqual({
      code: 'WrongDiscriminator',
      message: `${T} is not a Lifeline ballot: its data is no Lifeline account type`,
    });
  });

  it('name a short account, and read a longer one (a later layout) by its known prefix', () => {
    const bytes = topologyBytes({ epoch: 3n });
    expect(errorOf(() => decodeLifelineAccount('topology', raw(bytes.slice(0, 100))))).toEqual({
      code: 'WrongSize',
      message: `${T} is not a Lifeline topology: 100 bytes, a topology needs ${bytes.length}`,
    });
    const longer = new Uint8Array(bytes.length + 64);
    longer.set(bytes);
    expect(decodeLifelineAccount('topology', raw(longer)).epoch).toBe(3n);
  });
});

describe('the topology view', () => {
  const bytes = topologyBytes({
    epoch: 9n,
    endpoints: [
      { id: 0, role: 'quarantined' },
      { id: 1, role: 'standby', priority: 2 },
      { id: 2, role: 'primary' },
      { id: 3, role: 'standby', priority: 1 },
      { id: 4, role: 'retired' },
      { id: 5, role: 'standby', priority: 1 },
      { id: 6, role: 'primary', group: 1 },
      { id: 7, role: 9 }, // a role this client does not know
    ],
    historyTotal: 10n,
  });
  const view = topologyView(getTopologyDecoder().decode(bytes), 42n);

  it('serves a group from its primary, then its standbys by priority and id; never quarantined or retired', () => {
    expect(view.epoch).toBe(9n);
    expect(view.slot).toBe(42n);
    expect(primaryOf(view, 0)?.id).toBe(2);
    expect(standbysOf(view, 0).map((e) => e.id)).toEqual([3, 5, 1]);
    expect(servingOf(view, 0).map((e) => e.url)).toEqual(['http://e2', 'http://e3', 'http://e5', 'http://e1']);
    expect(servingOf(view, 1).map((e) => e.id)).toEqual([6]);
    expect(servingOf(view, 2)).toEqual([]);
    expect(view.endpoints.map((e) => e.id)).not.toContain(7);
    expect(view.endpoints[0]).toMatchObject({ role: 'quarantined', region: 'r0', provider: 'p0' });
  });

  it('lists the migration ring newest first', () => {
    // historyTotal 10 over 8 slots: migrations 2..9 kept, the newest (9) at 9 % 8 = 1.
    expect(view.migrations.map((m) => m.toId)).toEqual([1, 0, 7, 6, 5, 4, 3, 2]);
    const young = topologyView(getTopologyDecoder().decode(topologyBytes({ historyTotal: 2n })), 1n);
    expect(young.migrations.map((m) => m.toId)).toEqual([1, 0]);
  });
});
