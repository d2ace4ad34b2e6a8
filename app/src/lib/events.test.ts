import { getBase58Decoder, type Address } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import {
  getAttestationSubmittedEventEncoder,
  getMigrationExecutedEventEncoder,
  getPausedSetEventEncoder,
} from '@lifeline/client/generated';
import { EVENT_IX_TAG_LE, eventPayloads, migrationsIn, type JsonTransaction } from './events';
import { PROGRAM_ID } from './model';

const NETWORK = '8Q32oKMsCFjVWmt2bwDNUejVfpvFDBqF1wLJCsUtqqHG' as Address;
const KEEPER = 'Vote111111111111111111111111111111111111111' as Address;
const OTHER_PROGRAM = 'ComputeBudget111111111111111111111111111111';

const header = { network: NETWORK, slot: 49n, epoch: 4n };
const migration = getMigrationExecutedEventEncoder().encode({
  header,
  oldEpoch: 3n,
  group: 0,
  fromId: 0,
  toId: 1,
  rule: 2,
  cause: 1,
  voters: [NETWORK],
  medianLatencyMs: 3,
  medianSlotLag: 12,
  medianErrorBps: 0,
  quarantineUntilSlot: 149n,
  triggeredBy: NETWORK,
});
const paused = getPausedSetEventEncoder().encode({ header, paused: true, by: NETWORK });

const ixData = (payload: Uint8Array | ReadonlyArray<number>, tag = EVENT_IX_TAG_LE) =>
  getBase58Decoder().decode(Uint8Array.from([...tag, ...payload]));

function tx(inner: { programIdIndex: number; data: string }[], err: unknown = null): JsonTransaction {
  return {
    slot: 49n,
    blockTime: 1_790_000_000n,
    meta: { err, innerInstructions: [{ index: 0, instructions: inner }], loadedAddresses: null },
    transaction: { message: { accountKeys: [KEEPER, PROGRAM_ID, OTHER_PROGRAM] }, signatures: ['sig1'] },
  };
}

describe('events from transactions', () => {
  it('finds the MigrationExecuted self-CPI and decodes its evidence', () => {
    const found = migrationsIn(tx([{ programIdIndex: 1, data: ixData(migration as Uint8Array) }]), PROGRAM_ID);
    expect(found).toHaveLength(1);
    const m = found[0];
    expect(m.signature).toBe('sig1');
    expect(m.slot).toBe(49n);
    expect(m.event.header.epoch).toBe(4n);
    expect(m.event.toId).toBe(1);
    expect(m.event.medianSlotLag).toBe(12);
    expect(m.event.quarantineUntilSlot).toBe(149n);
    expect(m.event.voters).toEqual([NETWORK]);
  });

  it('ignores other events, other programs, untagged data and failed transactions', () => {
    const other = ixData(paused as Uint8Array);
    expect(migrationsIn(tx([{ programIdIndex: 1, data: other }]), PROGRAM_ID)).toEqual([]);
    // the same bytes from another program are not our event
    expect(eventPayloads(tx([{ programIdIndex: 2, data: ixData(migration as Uint8Array) }]), PROGRAM_ID)).toEqual([]);
    // an instruction to the program that is not an event (no tag)
    const untagged = ixData(migration as Uint8Array, new Uint8Array(8));
    expect(eventPayloads(tx([{ programIdIndex: 1, data: untagged }]), PROGRAM_ID)).toEqual([]);
    const failed = tx([{ programIdIndex: 1, data: ixData(migration as Uint8Array) }], { InstructionError: [0, 'x'] });
    expect(migrationsIn(failed, PROGRAM_ID)).toEqual([]);
  });

  it('finds the migrations an attestation executed in its own transaction', () => {
    // submit_attestation emits AttestationSubmitted, then a MigrationExecuted for every
    // group whose migration the attestation's vote completed.
    const attested = getAttestationSubmittedEventEncoder().encode({
      header: { ...header, epoch: 3n },
      keeper: KEEPER,
      seq: 41n,
      referenceSlot: 48n,
      healthy: 1,
      degraded: 0,
      down: 1,
    });
    const second = getMigrationExecutedEventEncoder().encode({
      header: { ...header, epoch: 5n },
      oldEpoch: 4n,
      group: 1,
      fromId: null,
      toId: 3,
      rule: 10,
      cause: 1,
      voters: [KEEPER],
      medianLatencyMs: 20,
      medianSlotLag: 0,
      medianErrorBps: 0,
      quarantineUntilSlot: 0n,
      triggeredBy: KEEPER,
    });
    const found = migrationsIn(
      tx([
        { programIdIndex: 1, data: ixData(attested as Uint8Array) },
        { programIdIndex: 1, data: ixData(migration as Uint8Array) },
        { programIdIndex: 1, data: ixData(second as Uint8Array) },
      ]),
      PROGRAM_ID,
    );
    expect(found.map((m) => m.event.header.epoch)).toEqual([4n, 5n]);
    expect(found[1].event.fromId).toEqual({ __option: 'None' });
    expect(found[1].event.triggeredBy).toBe(KEEPER);
  });

  it('resolves the program through v0 loaded addresses', () => {
    const t = tx([{ programIdIndex: 3, data: ixData(migration as Uint8Array) }]);
    t.transaction.message.accountKeys = [KEEPER, OTHER_PROGRAM, OTHER_PROGRAM];
    t.meta!.loadedAddresses = { writable: [], readonly: [PROGRAM_ID] };
    expect(migrationsIn(t, PROGRAM_ID)).toHaveLength(1);
  });

  it('treats a truncated event as no event rather than throwing', () => {
    const cut = ixData((migration as Uint8Array).slice(0, 30));
    expect(migrationsIn(tx([{ programIdIndex: 1, data: cut }]), PROGRAM_ID)).toEqual([]);
  });
});
