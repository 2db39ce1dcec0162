import { describe, expect, it } from 'vitest';
import { matchesPattern } from './event-pattern.js';

const event = {
  source: 'aws.x',
  detail: { name: 'GetSecretValue', id: 'arn:a:b', tags: ['t1', 't2'], count: 3, nothing: null, who: { role: 'r1' } },
};

describe('matchesPattern (the EventBridge subset the stack uses)', () => {
  it.each([
    ['exact string', { source: ['aws.x'] }, true],
    ['exact string, other value', { source: ['aws.y'] }, false],
    ['array as OR', { source: ['aws.y', 'aws.x'] }, true],
    ['fields not in the pattern are ignored', { detail: { name: ['GetSecretValue'] } }, true],
    ['every named field must match (AND)', { source: ['aws.x'], detail: { name: ['Other'] } }, false],
    ['nested objects', { detail: { who: { role: ['r1'] } } }, true],
    ['nested object where the event has a scalar', { source: { x: ['aws.x'] } }, false],
    ['number', { detail: { count: [3] } }, true],
    ['null', { detail: { nothing: [null] } }, true],
    ['a missing field never equals a value', { detail: { missing: ['x'] } }, false],
    ['event arrays: any element matches', { detail: { tags: ['t2'] } }, true],
    ['prefix', { detail: { id: [{ prefix: 'arn:a' }] } }, true],
    ['prefix, not a prefix', { detail: { id: [{ prefix: 'arn:b' }] } }, false],
    ['anything-but, another value', { detail: { name: [{ 'anything-but': ['PutSecretValue'] }] } }, true],
    ['anything-but, the value', { detail: { name: [{ 'anything-but': ['GetSecretValue'] }] } }, false],
    ['anything-but, a scalar', { detail: { name: [{ 'anything-but': 'GetSecretValue' }] } }, false],
    ['anything-but on a missing field does not match', { detail: { who: { issuer: [{ 'anything-but': ['r1'] }] } } }, false],
    [
      'anything-but under a missing parent does not match',
      { detail: { session: { issuer: { arn: [{ 'anything-but': ['r1'] }] } } } },
      false,
    ],
    ['exists true', { detail: { who: { role: [{ exists: true }] } } }, true],
    ['exists true, missing', { detail: { who: { issuer: [{ exists: true }] } } }, false],
    ['exists false, missing', { detail: { who: { issuer: [{ exists: false }] } } }, true],
    ['exists false under a missing parent', { detail: { session: { issuer: { arn: [{ exists: false }] } } } }, true],
    ['exists false, present', { detail: { who: { role: [{ exists: false }] } } }, false],
    ['$or, one alternative matches', { detail: { $or: [{ name: ['Nope'] }, { id: [{ prefix: 'arn:' }] }] } }, true],
    ['$or, none matches', { detail: { $or: [{ name: ['Nope'] }, { id: [{ prefix: 'x' }] }] } }, false],
    ['$or and the other fields', { detail: { name: ['Other'], $or: [{ id: [{ prefix: 'arn:' }] }] } }, false],
  ])('%s', (_name, pattern, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it.each([
    ['suffix', { source: [{ suffix: '.x' }] }],
    ['numeric', { detail: { count: [{ numeric: ['>', 1] }] } }],
    ['wildcard', { source: [{ wildcard: 'aws.*' }] }],
    ['two operators in one value', { source: [{ prefix: 'a', suffix: 'x' }] }],
    ['a bare scalar leaf', { source: 'aws.x' }],
  ])('refuses what it does not implement: %s', (_name, pattern) => {
    expect(() => matchesPattern(pattern as Record<string, unknown>, event)).toThrow();
  });
});
