// The dashboard decodes real account bytes (made by the Rust program's own structs, the
// ballot rows recorded by the engine's `record`) and reaches the same answers as the
// program's engine: which rows count, every endpoint's tally, every group's migration
// decision and every quarantined endpoint's readmission. The fixture comes from
// tests/tests/dashboard_quorum.rs, which fails when the engine or layout drifts from it.
import { describe, expect, it } from 'vitest';

import fixture from '../../test/fixtures/quorum-cases.json';
import { PROGRAM_ID } from './model';
import * as quorum from './quorum';
import { answers, decodeCase, fixtureCases } from './testing';

describe('the ballot and decision mirror agrees with the program engine', () => {
  it('uses the same program id as the fixture', () => {
    expect(PROGRAM_ID).toBe(fixture.programId);
  });

  fixtureCases.forEach((c, i) => {
    const kinds = c.expected.decisions.map((d) => ('reason' in d ? d.reason : d.kind)).join(', ');
    it(`case ${i}: ${c.expected.counted.length} rows counted, ${c.expected.tallies.length} endpoints, ${kinds}`, () => {
      const chain = decodeCase(c);
      expect(chain.network.name).toBe('conformance');
      expect(chain.ballot.network).toBe(chain.topology.network);
      expect(chain.topology.endpoints.map((e) => e.url)).toEqual(
        c.expected.tallies.map((t) => `http://e${t.endpointId}`),
      );
      const got = answers(quorum, chain);
      // Piece by piece, so a failure names what disagrees.
      expect(got.quorum).toBe(c.expected.quorum);
      expect(got.counted).toEqual(c.expected.counted);
      expect(got.tallies).toEqual(c.expected.tallies);
      expect(got.decisions).toEqual(c.expected.decisions);
      expect(got.readmissions).toEqual(c.expected.readmissions);
    });
  });
});
