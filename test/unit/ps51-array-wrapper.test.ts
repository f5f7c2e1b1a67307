import { describe, it, expect } from 'vitest';
import { findPs51ArrayWrapper } from '../../src/powershell/ps51-array-wrapper.js';
import { parseStepResult, StepResultError } from '../../src/engine/step-result.js';

describe("Windows PowerShell 5.1's {value, Count} array shape", () => {
  it('is found wherever it sits, with its path', () => {
    expect(findPs51ArrayWrapper({ before: { rules: { value: ['a', 'b'], Count: 2 } } })).toBe('$.before.rules');
    expect(findPs51ArrayWrapper([1, { value: [2, 3], Count: 2 }, 4])).toBe('$[1]');
    expect(findPs51ArrayWrapper({ value: [], Count: 0 })).toBe('$');
  });

  it('is not mistaken for an object that only looks alike', () => {
    expect(findPs51ArrayWrapper({ rules: ['a', 'b'], Count: 2 })).toBeNull();
    expect(findPs51ArrayWrapper({ value: ['a', 'b'], Count: 3 })).toBeNull();
    expect(findPs51ArrayWrapper({ value: ['a'], Count: 1, name: 'x' })).toBeNull();
    expect(findPs51ArrayWrapper({ value: 'a', Count: 1 })).toBeNull();
    expect(findPs51ArrayWrapper(null)).toBeNull();
  });

  it("makes a step result that holds it a broken script, naming where", () => {
    const text = JSON.stringify({ compliant: false, before: { profiles: { value: ['Domain'], Count: 1 } } });
    expect(() => parseStepResult('check', [text])).toThrow(StepResultError);
    expect(() => parseStepResult('check', [text])).toThrow(/\$\.before\.profiles/);
    expect(parseStepResult('check', [JSON.stringify({ compliant: true, before: { profiles: ['Domain'] } })]).compliant).toBe(true);
  });
});
