import { describe, expect, it } from 'vitest';
import { createReplayGuard } from '../../src/client/replay-guard.js';

function run(guard: ReturnType<typeof createReplayGuard>, ids: string[]): string[] {
  return ids.filter((id) => !guard.isReplay(id));
}

describe('createReplayGuard', () => {
  it('passes everything until armed', () => {
    const guard = createReplayGuard();
    expect(run(guard, ['1', '2', '2', '3'])).toEqual(['1', '2', '2', '3']);
  });

  it('after a resubscription, drops a replay of what was delivered and passes what is new', () => {
    const guard = createReplayGuard();
    run(guard, ['1', '2', '3', '4']);
    guard.arm();
    // The new upstream resumed from 2: it replays 3 and 4.
    expect(run(guard, ['3', '4', '5', '6'])).toEqual(['5', '6']);
  });

  it('events that inherit a dropped id are dropped with it; those that inherit a new one pass', () => {
    const guard = createReplayGuard();
    run(guard, ['7', '7', '8']);
    guard.arm();
    expect(run(guard, ['8', '8', '9', '9'])).toEqual(['9', '9']);
  });

  it('the last delivered id, seen again after a resubscription, is a replay too', () => {
    const guard = createReplayGuard();
    run(guard, ['1', '2']);
    guard.arm();
    expect(run(guard, ['2', '3'])).toEqual(['3']);
  });

  it('remembers only the last `size` ids and stops guarding after `windowMs`', () => {
    let t = 0;
    const guard = createReplayGuard(2, 1000, () => t);
    run(guard, ['1', '2', '3']);
    guard.arm();
    expect(run(guard, ['1'])).toEqual(['1']); // forgotten: too old to be known
    guard.arm();
    t = 1001;
    expect(run(guard, ['3'])).toEqual(['3']);
  });

  it('while guarding, an event that arrives twice from overlapping sources passes once', () => {
    const guard = createReplayGuard();
    run(guard, ['11', '12']);
    guard.arm();
    // The new leader's catch-up brings 13 and 14; the old leader's last batch brings 13 again.
    expect(run(guard, ['13', '14', '13', '15'])).toEqual(['13', '14', '15']);
  });

  it('never drops events without an id', () => {
    const guard = createReplayGuard();
    run(guard, ['', '']);
    guard.arm();
    expect(run(guard, ['', 'x'])).toEqual(['', 'x']);
  });
});
