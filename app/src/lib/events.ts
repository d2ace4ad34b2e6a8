// Program events, read back from transactions. Lifeline emits every event through a
// self-CPI (Anchor's event_cpi): an inner instruction to the program whose data is
// EVENT_IX_TAG_LE ‖ event discriminator ‖ borsh. Unlike log lines, inner instructions
// survive log truncation, so this is where the migration evidence is read from.
import { getBase58Encoder, type Address, type ReadonlyUint8Array } from '@solana/kit';

import { getMigrationExecutedEventDecoder, type MigrationExecutedEvent } from '@lifeline/client/generated';

/** anchor_lang::event::EVENT_IX_TAG (0x1d9acb512ea545e4), little-endian. */
export const EVENT_IX_TAG_LE = new Uint8Array([0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d]);

/** The parts of a `getTransaction` (encoding "json") answer this module reads. */
export interface JsonTransaction {
  slot: bigint | number;
  blockTime?: bigint | number | null;
  meta: {
    err: unknown;
    innerInstructions?:
      | readonly {
          index: number;
          instructions: readonly { programIdIndex: number; data: string }[];
        }[]
      | null;
    loadedAddresses?: { writable: readonly string[]; readonly: readonly string[] } | null;
  } | null;
  transaction: { message: { accountKeys: readonly string[] }; signatures: readonly string[] };
}

/** Every event payload (discriminator ‖ borsh) the program emitted in `tx`. */
export function eventPayloads(tx: JsonTransaction, programId: Address): Uint8Array[] {
  if (!tx.meta || tx.meta.err) return [];
  // v0 transactions index loaded addresses after the static keys: writable, then readonly.
  const keys = [
    ...tx.transaction.message.accountKeys,
    ...(tx.meta.loadedAddresses?.writable ?? []),
    ...(tx.meta.loadedAddresses?.readonly ?? []),
  ];
  const base58 = getBase58Encoder();
  const out: Uint8Array[] = [];
  for (const group of tx.meta.innerInstructions ?? []) {
    for (const ix of group.instructions) {
      if (keys[ix.programIdIndex] !== programId) continue;
      const data = base58.encode(ix.data) as Uint8Array;
      if (data.length < 16) continue;
      if (!EVENT_IX_TAG_LE.every((b, i) => data[i] === b)) continue;
      out.push(data.slice(8));
    }
  }
  return out;
}

/** A MigrationExecuted event, or null when `payload` is another event (or malformed). */
export function decodeMigrationExecuted(payload: ReadonlyUint8Array): MigrationExecutedEvent | null {
  try {
    // The generated decoder checks the discriminator (a hidden constant prefix).
    return getMigrationExecutedEventDecoder().decode(payload);
  } catch {
    return null;
  }
}

export interface MigrationEvidence {
  signature: string;
  slot: bigint;
  blockTime: bigint | null;
  event: MigrationExecutedEvent;
}

export function migrationsIn(tx: JsonTransaction, programId: Address): MigrationEvidence[] {
  const out: MigrationEvidence[] = [];
  for (const payload of eventPayloads(tx, programId)) {
    const event = decodeMigrationExecuted(payload);
    if (event) {
      out.push({
        signature: tx.transaction.signatures[0],
        slot: BigInt(tx.slot),
        blockTime: tx.blockTime == null ? null : BigInt(tx.blockTime),
        event,
      });
    }
  }
  return out;
}
