// Test support (imported by the *.test.ts files only, never by the page).
import { getBase64Encoder, type Address } from '@solana/kit';

import fixture from '../../test/fixtures/quorum-cases.json';
import { decodeBallotAccount, decodeNetworkAccount, decodeTopologyAccount, PROGRAM_ID, ROLE } from './model';
import type * as Quorum from './quorum';

/**
 * An account from app/test/fixtures/quorum-cases.json, which stores accounts sparsely:
 * `size` bytes, zero but for each [offset, base64] run.
 */
export function fixtureBytes({ size, runs }: { size: number; runs: (string | number)[][] }): Uint8Array {
  const out = new Uint8Array(size);
  for (const [offset, data] of runs) out.set(getBase64Encoder().encode(data as string), offset as number);
  return out;
}

export type FixtureCase = (typeof fixture.cases)[number];
export const fixtureCases: FixtureCase[] = fixture.cases;

/** A case's accounts, decoded with the generated client as the page decodes them. */
export function decodeCase(c: FixtureCase): Quorum.Chain {
  const account = (a: { address: string; account: { size: number; runs: (string | number)[][] } }) =>
    [a.address as Address, PROGRAM_ID, fixtureBytes(a.account)] as const;
  return {
    network: decodeNetworkAccount(...account(c.network)),
    topology: decodeTopologyAccount(...account(c.topology)),
    ballot: decodeBallotAccount(...account(c.ballot)),
    slot: BigInt(c.now),
  };
}

const text = (v: bigint | null) => (v === null ? null : v.toString());

/**
 * What `mirror` answers for `chain`, in the shape of the fixture's `expected` (the
 * engine's answers as tests/tests/dashboard_quorum.rs wrote them).
 */
export function answers(mirror: typeof Quorum, chain: Quorum.Chain) {
  const electorate = mirror.collect(chain);
  const decision = (d: Quorum.GroupDecision) =>
    d.kind === 'migrate'
      ? { ...d, quarantineUntilSlot: d.quarantineUntilSlot.toString() }
      : { ...d, untilSlot: text(d.untilSlot) };
  return {
    quorum: electorate.quorum,
    counted: electorate.counted.map((c) => ({ keeperIndex: c.keeperIndex, fresh: c.fresh, cutOff: c.cutOff })),
    tallies: chain.topology.endpoints.map((e) => {
      const t = mirror.tally(chain, electorate, e.id);
      return {
        endpointId: e.id,
        ...t,
        mayBecomeHealthy: mirror.mayBecomeHealthy(t, chain.network.keeperCount, electorate.quorum),
      };
    }),
    decisions: [0, 1].map((group) => ({ ...decision(mirror.decideMigration(chain, electorate, group)), group })),
    readmissions: chain.topology.endpoints
      .filter((e) => e.role === ROLE.quarantined)
      .map((e) => {
        const d = mirror.decideReadmission(chain, electorate, e.id);
        return d.kind === 'readmit'
          ? { kind: d.kind, endpointId: e.id }
          : { ...d, untilSlot: text(d.untilSlot), endpointId: e.id };
      }),
  };
}
