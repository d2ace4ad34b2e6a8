// The dashboard decodes real account bytes (made by the Rust program's own structs) and
// tallies them exactly as the program's engine does. The fixture comes from
// tests/tests/dashboard_quorum.rs, which fails when the engine or layout drifts from it.
import type { Address } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import fixture from '../../test/fixtures/quorum-cases.json';
import { decodeNetworkAccount, decodeReportAccount, decodeTopologyAccount, PROGRAM_ID } from './model';
import { collect, decideMigration, tally } from './quorum';
import { fixtureBytes } from './testing';

interface ExpectedDecision {
  group: number;
  kind: 'migrate' | 'refused';
  fromId?: number | null;
  toId?: number;
  rule?: number;
  reason?: string;
  untilSlot?: string | null;
}

describe('the ballot and decision mirror agrees with the program engine', () => {
  it('uses the same program id as the fixture', () => {
    expect(PROGRAM_ID).toBe(fixture.programId);
  });

  fixture.cases.forEach((c, i) => {
    it(`case ${i}: ${c.reports.length} reports, ${c.expected.tallies.length} endpoints`, () => {
      const now = BigInt(c.now);
      const network = decodeNetworkAccount(c.network.address as Address, PROGRAM_ID, fixtureBytes(c.network.account));
      const topology = decodeTopologyAccount(
        c.topology.address as Address,
        PROGRAM_ID,
        fixtureBytes(c.topology.account),
      );
      const reports = c.reports.map((r) =>
        decodeReportAccount(r.address as Address, PROGRAM_ID, fixtureBytes(r.account)),
      );
      expect(network.name).toBe('conformance');
      expect(topology.endpoints.map((e) => e.url)).toEqual(c.expected.tallies.map((t) => `http://e${t.endpointId}`));

      const ballot = collect(network, topology, reports, now);
      expect(ballot.quorum).toBe(c.expected.quorum);
      expect(ballot.counted.map((x) => ({ keeperIndex: x.keeperIndex, cutOff: x.cutOff }))).toEqual(c.expected.counted);
      for (const want of c.expected.decisions as ExpectedDecision[]) {
        const got = decideMigration(network, topology, ballot, want.group, now);
        if (want.kind === 'migrate') {
          expect(got).toEqual({ kind: 'migrate', fromId: want.fromId, toId: want.toId, rule: want.rule });
        } else {
          expect(got).toEqual({
            kind: 'refused',
            reason: want.reason,
            untilSlot: want.untilSlot == null ? null : BigInt(want.untilSlot),
          });
        }
      }
      for (const want of c.expected.tallies) {
        const { endpointId, ...figures } = want;
        expect({ endpointId, ...tally(network, ballot, endpointId, now) }).toEqual({ endpointId, ...figures });
      }
    });
  });
});
