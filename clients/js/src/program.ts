// The program's address and the codes its accounts use, in words. The address comes from
// the generated client (which comes from the committed IDL).
import type { ReadonlyUint8Array } from '@solana/kit';

import { LIFELINE_PROGRAM_ADDRESS } from './generated/programs';

export { LIFELINE_PROGRAM_ADDRESS };

/** Endpoint roles (programs/lifeline/src/state/mod.rs, `Role`). */
export type Role = 'primary' | 'standby' | 'quarantined' | 'retired';
/** `Endpoint.role` codes. */
export const ROLE_CODE: Readonly<Record<Role, number>> = { primary: 1, standby: 2, quarantined: 3, retired: 4 };

/** The role a code names; null for a code this client does not know. */
export function roleOf(code: number): Role | null {
  switch (code) {
    case 1:
      return 'primary';
    case 2:
      return 'standby';
    case 3:
      return 'quarantined';
    case 4:
      return 'retired';
    default:
      return null;
  }
}

/** Endpoint kinds (programs/lifeline/src/state/mod.rs, `EndpointKind`). */
export const ENDPOINT_KIND = { rpc: 0, websocket: 1, oracle: 2, gateway: 3, other: 4, grpc: 5 } as const;

/** `MigrationRecord.fromId` when the group had no primary (`u32::MAX`). */
export const NO_ENDPOINT = 0xffffffff;

/** A fixed-size text field (zero-padded, or `length` bytes long) as a string. */
export function fixedText(bytes: ReadonlyUint8Array, length?: number): string {
  const limit = Math.min(length ?? bytes.length, bytes.length);
  let end = 0;
  while (end < limit && bytes[end] !== 0) end++;
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.slice(0, end));
}
