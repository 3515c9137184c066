/** Operation limits for /graphql: depth, aliases, and a cost that counts fan-out width. */
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext, getNamedType, GraphQLObjectType } from 'graphql';
import type { CypherField } from './schema.js';

export interface Limits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

function depthOf(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) max = Math.max(max, sel.name.value.startsWith('__') ? 0 : 1 + depthOf(sel.selectionSet, fragments, seen));
    else if (sel.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(sel.selectionSet, fragments, seen));
    else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      max = Math.max(max, depthOf(fragments[sel.name.value]?.selectionSet, fragments, seen));
    }
  }
  return max;
}

export function limitRules(limits: Limits, fields: Map<string, CypherField>) {
  const depth = (ctx: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const fragments = Object.fromEntries(ctx.getDocument().definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
      const d = depthOf(node.selectionSet, fragments, new Set());
      if (d > limits.maxDepth) ctx.reportError(new GraphQLError(`Query depth ${d} exceeds the limit of ${limits.maxDepth}.`, { extensions: { code: 'Neo.ClientError.Gateway.GraphQLDepthLimit' } }));
    },
  });
  const aliases = (ctx: ValidationContext): ASTVisitor => {
    let count = 0;
    return {
      Field(node) {
        if (node.alias) count++;
      },
      Document: {
        leave() {
          if (count > limits.maxAliases) ctx.reportError(new GraphQLError(`${count} aliases exceed the limit of ${limits.maxAliases}.`, { extensions: { code: 'Neo.ClientError.Gateway.GraphQLAliasLimit' } }));
        },
      },
    };
  };
  const cost = (ctx: ValidationContext): ASTVisitor => {
    let total = 0;
    return {
      Field() {
        const parent = ctx.getParentType();
        const def = ctx.getFieldDef();
        if (!parent || !def) return;
        const named = getNamedType(parent);
        if (!(named instanceof GraphQLObjectType)) return;
        const cf = fields.get(`${named.name}.${def.name}`);
        // every @cypher field costs one statement per shard its database spans (batched per level)
        if (cf) total += cf.width;
      },
      Document: {
        leave() {
          if (total > limits.maxCost) ctx.reportError(new GraphQLError(`Query cost ${total} exceeds the limit of ${limits.maxCost} (each @cypher field costs the number of shards it reads).`, { extensions: { code: 'Neo.ClientError.Gateway.GraphQLCostLimit' } }));
        },
      },
    };
  };
  return [depth, aliases, cost];
}
