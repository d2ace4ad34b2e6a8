// The floor cases the Rust FailoverRpc and this transport must judge alike
// (client/tests/floors_cases.json, read by client/tests/floors.rs too).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { Commitment } from '@solana/kit';
import { describe, expect, it } from 'vitest';

import { Floors } from '../../src/floors';

type Step =
  | { topology: { epoch: number; slot: string; at_ms?: number } }
  | { answer: { url: string; level: Commitment; slot: string; at_ms?: number }; expect: string }
  | { floor: { level: Commitment }; expect: string };

const file = fileURLToPath(new URL('../../../../client/tests/floors_cases.json', import.meta.url));
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: { name: string; steps: Step[] }[] };

describe('the shared floor cases', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(5));
  for (const c of cases) {
    it(c.name, () => {
      const f = new Floors();
      c.steps.forEach((step, i) => {
        if ('topology' in step) {
          f.topology(BigInt(step.topology.epoch), BigInt(step.topology.slot), step.topology.at_ms ?? 0);
        } else if ('answer' in step) {
          const a = step.answer;
          const refused = f.judge(a.url, a.level, BigInt(a.slot), a.at_ms ?? 0);
          const got = refused === null ? 'ok' : refused.stale ? 'stale' : 'future';
          expect(got, `step ${i}`).toBe(step.expect);
        } else {
          expect(f.floor(step.floor.level), `step ${i}`).toBe(BigInt(step.expect));
        }
      });
    });
  }
});
