// Test support (imported by the *.test.ts files only, never by the page).
import { getBase64Encoder } from '@solana/kit';

/**
 * An account from app/test/fixtures/quorum-cases.json, which stores accounts sparsely:
 * `size` bytes, zero but for each [offset, base64] run.
 */
export function fixtureBytes({ size, runs }: { size: number; runs: (string | number)[][] }): Uint8Array {
  const out = new Uint8Array(size);
  for (const [offset, data] of runs) out.set(getBase64Encoder().encode(data as string), offset as number);
  return out;
}
