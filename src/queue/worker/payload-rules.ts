import { getMetadataStorage, MetadataStorage } from 'class-validator';

type Lookup = MetadataStorage['getTargetValidationMetadatas'];
type Rules = ReturnType<Lookup>;
/** A payload class, as class-validator keys its rules (by constructor). */
type PayloadClass = abstract new () => object;

const memoized = new Set<unknown>();
const rulesOf = new Map<unknown, Rules>();
let installed = false;

/**
 * class-validator looks a class's rules up again on every validateSync(): it scans every class
 * that has rules (an `instanceof` per class, for inherited ones) and filters their lists, about a
 * fifth of a payload check's CPU. The job payload classes' rules are fixed once their modules are
 * loaded, so their lookup is kept: for these classes only, and only with the default options the
 * dispatcher validates with (no schema, groups, `always` or `strictGroups`). Any rule added
 * later (a decorator run after start-up) empties the memo, so the answer is always
 * class-validator's own.
 */
export function memoizePayloadRules(classes: Iterable<PayloadClass>): void {
  for (const cls of classes) memoized.add(cls);
  if (installed) return;
  installed = true;
  const storage = getMetadataStorage();
  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  storage.addValidationMetadata = (metadata) => {
    rulesOf.clear();
    add(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const plain = !schema && !always && !strictGroups && !groups?.length;
    if (!plain || !memoized.has(target))
      return lookup(target, schema, always, strictGroups, groups);
    let rules = rulesOf.get(target);
    if (!rules) {
      rules = lookup(target, schema, always, strictGroups, groups);
      rulesOf.set(target, rules);
    }
    return rules;
  };
}
