// The dashboard decodes real account bytes (made by the Rust program's own structs) and
// tallies them exactly as the program's engine does. The fixture comes from
// tests/tests/dashboard_quorum.rs, which fails when the engine or layout drifts from it.
import { getBase64Encoder, type Address } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import fixture from '../../test/fixtures/quorum-cases.json';
import { decodeNetworkAccount, decodeReportAccount, decodeTopologyAccount, PROGRAM_ID } from './model';
import { collect, tally } from './quorum';

const bytes = (b64: string) => getBase64Encoder().encode(b64);

describe('the quorum mirror agrees with the program engine', () => {
  it('uses the same program id as the fixture', () => {
    expect(PROGRAM_ID).toBe(fixture.programId);
  });

  fixture.cases.forEach((c, i) => {
    it(`case ${i}: ${c.reports.length} reports, ${c.expected.tallies.length} endpoints`, () => {
      const now = BigInt(c.now);
      const network = decodeNetworkAccount(c.network.address as Address, PROGRAM_ID, bytes(c.network.data));
      const topology = decodeTopologyAccount(c.topology.address as Address, PROGRAM_ID, bytes(c.topology.data));
      const reports = c.reports.map((r) => decodeReportAccount(r.address as Address, PROGRAM_ID, bytes(r.data)));
      expect(network.name).toBe('conformance');
      expect(topology.endpoints.map((e) => e.url)).toEqual(c.expected.tallies.map((t) => `http://e${t.endpointId}`));

      const ballot = collect(network, topology, reports, now);
      expect(ballot.quorum).toBe(c.expected.quorum);
      expect(ballot.counted.map((x) => ({ keeperIndex: x.keeperIndex, cutOff: x.cutOff }))).toEqual(c.expected.counted);
      for (const want of c.expected.tallies) {
        const { endpointId, ...figures } = want;
        expect({ endpointId, ...tally(network, ballot, endpointId, now) }).toEqual({ endpointId, ...figures });
      }
    });
  });
});
