// Typed errors: what went wrong, by a code a program can switch on, and a message a person
// can act on.
import type { Address } from '@solana/kit';

import type { LifelineAccountKind } from './accounts';

/**
 * Why bytes at an address are not the Lifeline account they were read as:
 * - `AccountNotFound`: nothing exists at the address (a wrong network address, another cluster);
 * - `WrongOwner`: the account belongs to another program;
 * - `WrongDiscriminator`: a Lifeline account of another type, or not a Lifeline account at all;
 * - `WrongSize`: shorter than the account's layout.
 */
export type LifelineAccountErrorCode = 'AccountNotFound' | 'WrongOwner' | 'WrongDiscriminator' | 'WrongSize';

export class LifelineAccountError extends Error {
  override readonly name = 'LifelineAccountError';

  constructor(
    readonly code: LifelineAccountErrorCode,
    /** The address that was read. */
    readonly address: Address,
    /** What it was read as. */
    readonly expected: LifelineAccountKind,
    message: string,
    /** What is there instead, when known: the owner, or the Lifeline account type, or the size. */
    readonly found?: { owner?: Address; kind?: LifelineAccountKind | null; size?: number; minimumSize?: number },
  ) {
    super(message);
  }
}

export function isLifelineAccountError(e: unknown, code?: LifelineAccountErrorCode): e is LifelineAccountError {
  return e instanceof LifelineAccountError && (code === undefined || e.code === code);
}

/**
 * Why the failover transport returns no answer:
 * - `NoEndpoint`: nothing to send to (no serving endpoint in the group, no fallback URL);
 * - `AllFailed`: every candidate failed (transport error, HTTP 5xx/429, node behind);
 * - `OnlyStale`: the only answers were older than what was already returned (after one
 *   wait and retry): returning them would take the caller back in time.
 */
export type FailoverErrorCode = 'NoEndpoint' | 'AllFailed' | 'OnlyStale';

export interface FailedAttempt {
  url: string;
  error: unknown;
}

export class FailoverError extends Error {
  override readonly name = 'FailoverError';

  constructor(
    readonly code: FailoverErrorCode,
    message: string,
    /** Every attempt of the request, in order. */
    readonly attempts: readonly FailedAttempt[],
  ) {
    super(message, { cause: attempts.at(-1)?.error });
  }
}

export function isFailoverError(e: unknown, code?: FailoverErrorCode): e is FailoverError {
  return e instanceof FailoverError && (code === undefined || e.code === code);
}

/** An error's message with its cause's, for logs and banners. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error && !e.message.includes(cause.message) ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}
