import { describe, expect, it } from 'vitest';

import { effectiveQuorum, emptyTally, lowerMedian, quorumVerdict, type Tally } from './quorum';

const tally = (t: Partial<Tally>): Tally => ({ ...emptyTally(), ...t });

describe('quorum', () => {
  it('takes two thirds by default and never less than a majority', () => {
    expect(effectiveQuorum(0, 4)).toBe(3);
    expect(effectiveQuorum(0, 3)).toBe(3);
    expect(effectiveQuorum(1, 4)).toBe(3); // a configured 1 of 4 is raised to a majority
    expect(effectiveQuorum(4, 4)).toBe(4);
    expect(effectiveQuorum(0, 0)).toBe(Number.POSITIVE_INFINITY);
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
});
