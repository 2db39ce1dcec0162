import { describe, expect, it } from 'vitest';
import { endInvocation, enterChain, onInvocationEnd } from '../../core/deadline.js';

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

  // A chain built with hookwardenPlugin around a team handler that is such a chain too (test/e2e/early-answer-after-guard).
  it("a chain inside another runs, at its end, only what it left: the outer chain's is run at the outer's end", async () => {
    const context = {};
    const ran: string[] = [];
    const outer = enterChain(context);
    onInvocationEnd(context, async () => void ran.push('outer'));
    const inner = enterChain(context);
    onInvocationEnd(context, async () => void ran.push('inner'));
    await endInvocation(context, inner);
    expect(ran).toEqual(['inner']);
    await endInvocation(context, outer);
    expect(ran).toEqual(['inner', 'outer']);
  });

  it("an inner chain that threw (Middy ends no such chain) keeps neither the outer chain's end nor the runtime's from running", async () => {
    const context = {};
    const ran: string[] = [];
    const outer = enterChain(context);
    onInvocationEnd(context, async () => void ran.push('outer'));
    enterChain(context);
    onInvocationEnd(context, async () => void ran.push('inner'));
    await endInvocation(context, outer);
    expect(ran).toEqual(['outer', 'inner']);
    // Left outside every chain (a chain without the plugin, on the local server): the runtime's end runs it.
    onInvocationEnd(context, async () => void ran.push('runtime'));
    enterChain(context);
    await endInvocation(context);
    expect(ran).toEqual(['outer', 'inner', 'runtime']);
  });
});
