import { describe, expect, it } from 'vitest';
import { endInvocation, markRunsOnPastTimeout, onInvocationEnd } from '../../core/deadline.js';

// What a runtime that marks its contexts (the local server) runs when an invocation has ended: the replay guard leaves
// there the claim no hook of its settled (test/e2e/early-answer-after-guard.test.ts).
describe('work left for the end of an invocation', () => {
  it('runs once, in order, when the invocation ends; a failure stops none of the rest', async () => {
    const context = markRunsOnPastTimeout({});
    const ran: string[] = [];
    expect(onInvocationEnd(context, async () => void ran.push('a'))).toBe(true);
    expect(onInvocationEnd(context, () => Promise.reject(new Error('store down')))).toBe(true);
    expect(onInvocationEnd(context, async () => void ran.push('c'))).toBe(true);
    expect(ran).toEqual([]);
    await endInvocation(context);
    expect(ran).toEqual(['a', 'c']);
    await endInvocation(context);
    expect(ran).toEqual(['a', 'c']);
  });

  it('is refused where the runtime marks no context (Lambda): nothing is left, and ending it is a no-op', async () => {
    const context = { functionName: 'webhook' };
    let ran = false;
    expect(onInvocationEnd(context, async () => void (ran = true))).toBe(false);
    expect(onInvocationEnd(undefined, async () => void (ran = true))).toBe(false);
    await endInvocation(context);
    expect(ran).toBe(false);
  });
});
