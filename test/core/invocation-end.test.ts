import { describe, expect, it } from 'vitest';
import { endInvocation, onInvocationEnd } from '../../core/deadline.js';

// What the local server, or hookwardenPlugin's requestEnd, runs when an invocation has ended: the replay guard leaves
// there the claim no hook of its settled (test/e2e/early-answer-after-guard.test.ts).
describe('work left for the end of an invocation', () => {
  it('runs once, in order, when the invocation ends; a failure stops none of the rest', async () => {
    const context = { functionName: 'webhook' };
    const ran: string[] = [];
    onInvocationEnd(context, async () => void ran.push('a'));
    onInvocationEnd(context, () => Promise.reject(new Error('store down')));
    onInvocationEnd(context, async () => void ran.push('c'));
    expect(ran).toEqual([]);
    await endInvocation(context);
    expect(ran).toEqual(['a', 'c']);
    await endInvocation(context);
    expect(ran).toEqual(['a', 'c']);
  });

  it('ending an invocation that left nothing is a no-op; one context never runs what another left', async () => {
    const one = {};
    const other = {};
    let ran = false;
    onInvocationEnd(other, async () => void (ran = true));
    await endInvocation(one);
    expect(ran).toBe(false);
  });
});
