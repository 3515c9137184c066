/**
 * The per-key statement policy (DESIGN §5b): decides, from a statement's classification and the
 * key's grants, whether the key may run it, before anything is sent to Neo4j. Pure: no I/O, no
 * clock. A refusal is a 403 `Neo.ClientError.Security.Forbidden` that names what is missing; it
 * never reveals anything about other keys.
 */
import type { Capability } from '../config/schema.js';
import type { Need, StatementInfo } from '../cypher/classify.js';
import { Codes, GatewayError } from '../errors/index.js';
import type { AccessMode } from '../transport/types.js';

export interface Grants {
  id: string;
  modes: ReadonlySet<AccessMode>;
  allow: readonly Capability[];
}

const NEED_WORDS: Record<Need, string> = {
  schema: 'schema commands (CREATE/DROP INDEX or CONSTRAINT)',
  show: 'SHOW commands',
  terminate: 'TERMINATE TRANSACTIONS',
  admin: 'administration commands',
  loadCsv: 'LOAD CSV',
};

function forbidden(key: string, what: string, capability: string): GatewayError {
  const need = capability.startsWith('procedures:') ? 'procedure' : capability;
  return new GatewayError(Codes.Forbidden, `API key '${key}' may not run ${what}: the key's "allow" does not grant "${capability}".`, { refused: { need } });
}

/** glob of a procedures:<pattern> grant ("*" matches any run of characters), case-insensitive */
function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\`-]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(name);
}

export function mayCall(grants: Grants, name: string): boolean {
  if (grants.allow.includes('admin')) return true;
  // dbms.* only with admin
  if (name.toLowerCase().startsWith('dbms.')) return false;
  return grants.allow.some((c) => c.startsWith('procedures:') && globMatches(c.slice('procedures:'.length), name));
}

export interface StatementRequest {
  /** the request's access mode */
  mode: AccessMode;
  /** the request asks Neo4j to impersonate a user */
  impersonates: boolean;
}

/** throws 403 when the key may not run the statement */
export function authorizeStatement(grants: Grants, info: StatementInfo, req: StatementRequest): void {
  const admin = grants.allow.includes('admin');
  for (const need of info.needs) {
    if (admin || grants.allow.includes(need)) continue;
    throw forbidden(grants.id, info.command && need !== 'loadCsv' ? `${info.command} (${NEED_WORDS[need]})` : NEED_WORDS[need], need);
  }
  if (req.impersonates && !admin && !grants.allow.includes('impersonate'))
    throw forbidden(grants.id, 'statements as another user (impersonatedUser)', 'impersonate');
  for (const p of info.privilegedProcedures) {
    if (!mayCall(grants, p)) {
      throw forbidden(grants.id, `the procedure ${p}`, p.toLowerCase().startsWith('dbms.') ? 'admin' : `procedures:${p}`);
    }
  }
  for (const f of info.userFunctions) {
    if (!mayCall(grants, f)) throw forbidden(grants.id, `the function ${f}`, `procedures:${f}`);
  }
  if ((info.writes || info.inTransactions) && !grants.modes.has('WRITE')) {
    throw new GatewayError(Codes.Forbidden, `API key '${grants.id}' may not run statements that write (its modes are ${[...grants.modes].join(', ')}).`, {
      refused: { need: 'write' },
    });
  }
  if (!grants.modes.has(req.mode)) {
    throw new GatewayError(Codes.Forbidden, `API key '${grants.id}' may not run ${req.mode} statements.`, {
      refused: { need: req.mode === 'WRITE' ? 'write' : 'read' },
    });
  }
}
