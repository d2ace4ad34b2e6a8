// The conformance cases must be able to tell a wrong mirror from the right one: each
// mutant below is quorum.ts with one rule of the engine broken the way a port could
// break it, and the generated cases must catch every one. When a mutant survives, the
// generator (tests/tests/dashboard_quorum.rs) needs a case that exercises that rule.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import * as model from './model';
import type * as Quorum from './quorum';
import source from './quorum.ts?raw';
import { answers, decodeCase, fixtureCases } from './testing';

const MUTANTS: [what: string, from: string, to: string][] = [
  ['upper instead of lower median', 'v[Math.floor((v.length - 1) / 2)]', 'v[Math.floor(v.length / 2)]'],
  [
    'ranking ignores the labels shared with the failed primary',
    'const shared = primary ? Number(primary.provider === e.provider) + Number(primary.region === e.region) : 0;',
    'const shared = 0;',
  ],
  [
    'ranking by id before latency',
    'return [shared, e.priority, t.medianLatencyMs, e.id];',
    'return [shared, e.priority, e.id, t.medianLatencyMs];',
  ],
  ['a group never migrated counts as cooling down', 'if (last !== 0n && now < until)', 'if (now < until)'],
  ['a vacancy ignores the cooldown', 'if (last !== 0n && now < until)', 'if (primary && last !== 0n && now < until)'],
  [
    'a standby quorum one short',
    'if (s.t.healthy < electorate.quorum) continue;',
    'if (s.t.healthy < electorate.quorum - 1) continue;',
  ],
  ['never waits for a better standby', 'mayBecomeHealthy(s.t, network.keeperCount, electorate.quorum)', 'false'],
  [
    'pending healthy votes cannot make a standby healthy',
    'Math.max(0, t.observed - (t.healthy + t.pendingHealthy))',
    'Math.max(0, t.observed - t.healthy)',
  ],
  ['a vacancy rests on down voters', 'voters: best.t.healthyVoters', 'voters: best.t.downVoters'],
  ['down votes of stale rows count', '(v.flags & VOTE_DOWN) !== 0 && c.fresh', '(v.flags & VOTE_DOWN) !== 0'],
  [
    'the staleness bound is exclusive',
    'now - r.referenceSlot <= network.policy.stalenessSlots',
    'now - r.referenceSlot < network.policy.stalenessSlots',
  ],
  ['silent keepers count', "if (now - r.submittedSlot > network.policy.livenessSlots) return { kind: 'silent' };", ''],
  [
    'rows read before the policy count',
    "if (r.topologyEpoch < topology.policyEpoch) return { kind: 'old policy' };",
    '',
  ],
  ['rows landed after now count', "if (r.submittedSlot > now) return { kind: 'ahead' };", ''],
  ["a slot's previous keeper's row counts", 'r.keeper !== k.address || ', ''],
  [
    'cells of a changed endpoint count',
    ' && e !== undefined && e.configEpoch <= row.topologyEpoch',
    ' && e !== undefined',
  ],
  [
    'cut-off keepers vote',
    'if (c.cutOff || !validCell(chain.topology, c.row, j)) continue;',
    'if (!validCell(chain.topology, c.row, j)) continue;',
  ],
  ['one unreachable cell cuts a keeper off', 'return observed >= 2;', 'return observed >= 1;'],
  ['no pending healthy count', 'if (cellVerdict(v) === VERDICT.healthy && !votesHealthy) t.pendingHealthy++;', ''],
  ['probation ends a slot late', 'p.probationSlots) <= chain.slot', 'p.probationSlots) < chain.slot'],
  [
    'reason ties go to the lower code',
    'reasons[r] > reasons[t.reason])) t.reason = r;',
    'reasons[r] >= reasons[t.reason])) t.reason = r;',
  ],
  [
    'quarantine ignores the ejection count',
    'quarantineSlots(network, Math.min(primary.ejectionCount + 1, U16_MAX))',
    'quarantineSlots(network, 1)',
  ],
  ['readmission ignores the quarantine', "return refused('quarantine active', e.quarantineUntilSlot);", ''],
];

/** quorum.ts with `from` replaced by `to`, compiled and loaded (its imports resolved to this page's modules). */
function load(from: string, to: string): typeof Quorum {
  const { outputText } = ts.transpileModule(source.replace(from, to), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const modules: Record<string, unknown> = { './model': model, '@lifeline/client': {} };
  const exports = {};
  new Function('require', 'exports', outputText)((name: string) => modules[name], exports);
  return exports as typeof Quorum;
}

/** JSON with sorted keys: equal answers compare equal whatever order their fields were built in. */
const canonical = (value: unknown) =>
  JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v,
  );

const chains = fixtureCases.map((c) => ({ chain: decodeCase(c), expected: canonical(c.expected) }));

describe('the conformance cases catch a wrong mirror', () => {
  it('the unmutated mirror loads this way and agrees', () => {
    const mirror = load('', '');
    expect(chains.every(({ chain, expected }) => canonical(answers(mirror, chain)) === expected)).toBe(true);
  });

  MUTANTS.forEach(([what, from, to]) => {
    it(what, () => {
      expect(source.split(from).length - 1, `quorum.ts no longer contains \`${from}\``).toBe(1);
      const mutant = load(from, to);
      const caught = chains.filter(({ chain, expected }) => canonical(answers(mutant, chain)) !== expected);
      expect(caught.length, 'no case tells this mutant from the engine').toBeGreaterThan(0);
    });
  });
});
