/**
 * Operation limits for /graphql: depth, aliases and a cost that counts fan-out width, computed
 * over the operation as it will execute: every fragment spread counts where it is spread (a
 * fragment used twice costs twice). Each fragment is measured once (memoized), so a document
 * that would expand exponentially is measured in linear time and refused, never run.
 */
import { Codes } from '../errors/index.js';
import {
  GraphQLError,
  Kind,
  getNamedType,
  isObjectType,
  isInterfaceType,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { CypherField } from './fields.js';

export interface Limits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

const ZERO: Measure = { depth: 0, aliases: 0, cost: 0 };

class Measurer {
  private readonly memo = new Map<string, Measure>();
  private readonly visiting = new Set<string>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    private readonly fields: Map<string, CypherField>,
  ) {}

  private typeNamed(name: string | undefined): GraphQLNamedType | undefined {
    return name === undefined ? undefined : (this.schema.getType(name) ?? undefined);
  }

  set(set: SelectionSetNode | undefined, type: GraphQLNamedType | undefined): Measure {
    if (!set) return ZERO;
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    for (const sel of set.selections) {
      let m: Measure;
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        const def = type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[sel.name.value] : undefined;
        const child = this.set(sel.selectionSet, def ? getNamedType(def.type) : undefined);
        // every @cypher field costs one statement per shard its database spans (batched per level)
        const own = type ? (this.fields.get(`${type.name}.${sel.name.value}`)?.width ?? 0) : 0;
        m = { depth: 1 + child.depth, aliases: (sel.alias ? 1 : 0) + child.aliases, cost: own + child.cost };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        m = this.set(sel.selectionSet, sel.typeCondition ? this.typeNamed(sel.typeCondition.name.value) : type);
      } else {
        m = this.fragment(sel.name.value);
      }
      depth = Math.max(depth, m.depth);
      aliases += m.aliases;
      cost += m.cost;
    }
    return { depth, aliases, cost };
  }

  private fragment(name: string): Measure {
    const hit = this.memo.get(name);
    if (hit) return hit;
    const f = this.fragments[name];
    // unknown or cyclic fragments are the standard rules' to report
    if (!f || this.visiting.has(name)) return ZERO;
    this.visiting.add(name);
    const m = this.set(f.selectionSet, this.typeNamed(f.typeCondition.name.value));
    this.visiting.delete(name);
    this.memo.set(name, m);
    return m;
  }

  operation(op: OperationDefinitionNode): Measure {
    const root =
      op.operation === 'query' ? this.schema.getQueryType() : op.operation === 'mutation' ? this.schema.getMutationType() : this.schema.getSubscriptionType();
    return this.set(op.selectionSet, root ?? undefined);
  }
}

export function limitRules(limits: Limits, fields: Map<string, CypherField>) {
  const rule = (ctx: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const fragments = Object.fromEntries(
        ctx
          .getDocument()
          .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
          .map((f) => [f.name.value, f]),
      );
      const m = new Measurer(ctx.getSchema(), fragments, fields).operation(node);
      if (m.depth > limits.maxDepth)
        ctx.reportError(new GraphQLError(`Query depth ${m.depth} exceeds the limit of ${limits.maxDepth}.`, { extensions: { code: Codes.GraphQLDepthLimit } }));
      if (m.aliases > limits.maxAliases)
        ctx.reportError(new GraphQLError(`${m.aliases} aliases exceed the limit of ${limits.maxAliases}.`, { extensions: { code: Codes.GraphQLAliasLimit } }));
      if (m.cost > limits.maxCost) {
        ctx.reportError(
          new GraphQLError(`Query cost ${m.cost} exceeds the limit of ${limits.maxCost} (each @cypher field costs the number of shards it reads).`, {
            extensions: { code: Codes.GraphQLCostLimit },
          }),
        );
      }
    },
  });
  return [rule];
}
