import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorPosition } from './json-error.js';

describe('jsonErrorPosition', () => {
  it('points at the first character that cannot continue the document', () => {
    expect(jsonErrorPosition('{\n  "a": [1,\n}')).toEqual({ line: 3, column: 1 });
    expect(jsonErrorPosition('{"a": tru}')).toEqual({ line: 1, column: 10 });
    expect(jsonErrorPosition('{"a": 1} x')).toEqual({ line: 1, column: 10 });
    expect(jsonErrorPosition('{"a": "\\x"}')).toEqual({ line: 1, column: 9 });
    expect(jsonErrorPosition('{"a": 01}')).toEqual({ line: 1, column: 8 });
    expect(jsonErrorPosition('')).toEqual({ line: 1, column: 1 });
  });

  it('agrees with JSON.parse on what is valid (random documents and their mutations)', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('', '}', ']', ',', '"', ':', 'x', '0', '\\'), (json, position, inserted) => {
        expect(jsonErrorPosition(json)).toBeUndefined();
        const cut = position % (json.length + 1);
        const mutated = json.slice(0, cut) + inserted + json.slice(cut);
        let valid = true;
        try {
          JSON.parse(mutated);
        } catch {
          valid = false;
        }
        expect(jsonErrorPosition(mutated) === undefined).toBe(valid);
      }),
      { seed: 20240611, numRuns: 2000 },
    );
  });
});
