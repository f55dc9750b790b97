import { getMetadataStorage, IsInt, IsString, Min, validateSync } from 'class-validator';
import { JOB_CONTRACTS } from '../job-contracts';
import { memoizePayloadRules } from './payload-rules';

class LaterRules {
  @IsInt()
  count!: number;
}

class Grouped {
  @IsString({ groups: ['strict'] })
  name!: unknown;
}

const storage = getMetadataStorage();
const payloads = Object.values(JOB_CONTRACTS).map((contract) => contract.payload);
// What class-validator answers on its own, read before the memo is installed.
const before = new Map(
  [...payloads, LaterRules, Grouped].map((cls) => [
    cls,
    storage.getTargetValidationMetadatas(cls, undefined as unknown as string, false, false),
  ]),
);

describe('memoizePayloadRules', () => {
  beforeAll(() => memoizePayloadRules([...payloads, LaterRules]));

  it("answers each payload class's rules as class-validator did, from the memo the second time", () => {
    for (const cls of payloads) {
      const first = storage.getTargetValidationMetadatas(
        cls,
        undefined as unknown as string,
        false,
        false,
      );
      expect(first).toEqual(before.get(cls));
      expect(first.length).toBeGreaterThan(0);
      expect(
        storage.getTargetValidationMetadatas(cls, undefined as unknown as string, false, false),
      ).toBe(first);
    }
  });

  it('sees a rule added after the memo was filled', () => {
    const value = (count: unknown) => Object.assign(new LaterRules(), { count });
    expect(validateSync(value(3))).toEqual([]);
    Min(5)(LaterRules.prototype, 'count');
    expect(validateSync(value(3)).map((e) => Object.keys(e.constraints ?? {}))).toEqual([['min']]);
  });

  it('leaves other classes and non-default options to class-validator', () => {
    const value = Object.assign(new Grouped(), { name: 42 });
    expect(
      storage.getTargetValidationMetadatas(Grouped, undefined as unknown as string, false, false),
    ).toEqual(before.get(Grouped));
    expect(validateSync(value).map((e) => e.property)).toEqual(['name']);
    // No rule in that group: class-validator's "unknown value" answer, not the memo's rules.
    expect(validateSync(value, { groups: ['other'] }).map((e) => e.constraints)).toEqual([
      { unknownValue: 'an unknown value was passed to the validate function' },
    ]);
    expect(validateSync(value, { groups: ['strict'] }).map((e) => e.property)).toEqual(['name']);
  });
});
