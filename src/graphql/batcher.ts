/**
 * Per-request batching of nested @cypher fields (a DataLoader keyed by field and arguments):
 * every parent of a level that asks for the same field with the same arguments is answered by
 * one batched run. It never mixes requests: one batcher per request.
 */
import type { TypedValue } from '../values/typed.js';
import type { CypherField } from './fields.js';

interface Batch {
  field: CypherField;
  args: Record<string, TypedValue>;
  parents: TypedValue[];
  waiters: { resolve: (v: TypedValue[]) => void; reject: (e: unknown) => void }[];
}

export type BatchRunner = (field: CypherField, parents: TypedValue[], args: Record<string, TypedValue>) => Promise<TypedValue[][]>;

export class FieldBatcher {
  private readonly pending = new Map<string, Batch>();
  constructor(private readonly run: BatchRunner) {}

  load(field: CypherField, parent: TypedValue, args: Record<string, TypedValue>): Promise<TypedValue[]> {
    const key = `${field.typeName}.${field.fieldName}\u0000${JSON.stringify(args)}`;
    let batch = this.pending.get(key);
    if (!batch) {
      const b: Batch = { field, args, parents: [], waiters: [] };
      batch = b;
      this.pending.set(key, b);
      // every sibling of a list resolves in the same tick: flush after it
      queueMicrotask(() =>
        queueMicrotask(() => {
          this.pending.delete(key);
          this.run(b.field, b.parents, b.args).then(
            (perParent) => b.waiters.forEach((w, i) => w.resolve(perParent[i] ?? [])),
            (err: unknown) => b.waiters.forEach((w) => w.reject(err)),
          );
        }),
      );
    }
    return new Promise<TypedValue[]>((resolve, reject) => {
      batch.parents.push(parent);
      batch.waiters.push({ resolve, reject });
    });
  }
}
