import { describe, expect, it } from 'vitest';

import {
  faultTolerance,
  toleranceNote,
  collect,
  effectiveQuorum,
  emptyTally,
  lowerMedian,
  mayBecomeHealthy,
  quorumVerdict,
  reachability,
  rowStatus,
  validCell,
  type RowStatus,
  type Tally,
} from './quorum';
import { OBS_UNREACHABLE } from './model';
import { decodeCase, fixtureCases } from './testing';

const tally = (t: Partial<Tally>): Tally => ({ ...emptyTally(), ...t });

describe('quorum', () => {
  it('takes two thirds by default and never less than a majority', () => {
    expect(effectiveQuorum(0, 4)).toBe(3);
    expect(effectiveQuorum(0, 3)).toBe(3);
    expect(effectiveQuorum(1, 4)).toBe(3); // a configured 1 of 4 is raised to a majority
    expect(effectiveQuorum(4, 4)).toBe(4);
    expect(effectiveQuorum(0, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('warns, as the CLI does, when the keeper set cannot tolerate one faulty keeper', () => {
    expect(faultTolerance(0, 4)).toEqual([2, 1]);
    expect(faultTolerance(0, 3)).toEqual([2, 0]);
    expect(toleranceNote(0, 4)).toBeNull();
    expect(toleranceNote(0, 7)).toBeNull();
    expect(toleranceNote(0, 0)).toBeNull();
    expect(toleranceNote(0, 3)).toBe(
      '3 keepers with quorum 3 cannot tolerate a single faulty keeper (one silent keeper blocks every failover); run at least 4 keepers',
    );
    expect(toleranceNote(0, 1)).toContain('one lying keeper forces one');
    // an explicit quorum of all four keepers leaves no room for a silent one
    expect(toleranceNote(4, 4)).toContain('4 keepers with quorum 4');
  });

  it('says down or healthy only when a quorum agrees', () => {
    expect(quorumVerdict(tally({ observed: 4, down: 3 }), 3)).toBe('down');
    expect(quorumVerdict(tally({ observed: 4, down: 2, healthy: 2 }), 3)).toBe('no quorum');
    expect(quorumVerdict(tally({ observed: 3, healthy: 3 }), 3)).toBe('healthy');
    expect(quorumVerdict(tally({}), 3)).toBe('no reports');
  });

  it('uses the lower median, so one liar among two cannot raise it', () => {
    expect(lowerMedian([10, 5000])).toBe(10);
    expect(lowerMedian([3, 1, 2])).toBe(2);
    expect(lowerMedian([])).toBe(0);
  });

  it('counts a standby as undecided while the keepers not against it could still make a quorum', () => {
    // 4 keepers, quorum 3: two vote healthy, one is on its way, one saw it degraded.
    expect(mayBecomeHealthy(tally({ observed: 4, healthy: 2, pendingHealthy: 1 }), 4, 3)).toBe(true);
    // two saw it degraded: at most 2 of 4 can still vote healthy
    expect(mayBecomeHealthy(tally({ observed: 4, healthy: 2 }), 4, 3)).toBe(false);
    // keepers that have not judged it (silent, not observing) may still
    expect(mayBecomeHealthy(tally({ observed: 1, healthy: 0 }), 4, 3)).toBe(true);
  });
});

describe('keeper rows', () => {
  const statuses = fixtureCases.flatMap((c) => {
    const chain = decodeCase(c);
    const counted = new Set(collect(chain).counted.map((x) => x.keeperIndex));
    return chain.network.keepers.map((k) => ({ status: rowStatus(chain, k.index), counted: counted.has(k.index) }));
  });

  it('say why a keeper does not count, exactly when the engine leaves it out', () => {
    for (const { status, counted } of statuses) expect(status.kind === 'counted').toBe(counted);
  });

  it('cover every reason in the generated cases', () => {
    const kinds = new Set<RowStatus['kind']>(statuses.map((s) => s.status.kind));
    expect([...kinds].sort()).toEqual(['ahead', 'counted', 'none', 'old policy', 'silent']);
  });
});

describe('reachability', () => {
  it('counts the counted keepers that reached an endpoint and those that could not', () => {
    const chain = decodeCase(fixtureCases.find((c) => collect(decodeCase(c)).counted.length >= 2)!);
    const electorate = collect(chain);
    const j = chain.topology.endpoints.findIndex((_, k) =>
      electorate.counted.some(({ row }) => validCell(chain.topology, row, k)),
    );
    const before = reachability(chain, electorate, j);
    const target = electorate.counted.find(
      ({ row }) => validCell(chain.topology, row, j) && (row.votes[j]!.flags & OBS_UNREACHABLE) === 0,
    )!;
    target.row.votes[j]!.flags |= OBS_UNREACHABLE;
    expect(reachability(chain, electorate, j)).toEqual({ reached: before.reached - 1, not: before.not + 1 });
  });
});
