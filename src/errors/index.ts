/**
 * One error type for the whole gateway, and every error code it produces or recognizes.
 *
 * Codes follow Neo4j's shape (`Neo.<Classification>.<Category>.<Title>`). Neo4j's own codes pass
 * through unchanged; the gateway's own live under the `Gateway` category. The HTTP status follows
 * from the code (`statusForCode`); the few places where Neo4j's Query API answers a generic code
 * with a specific status (406, 415, 404 for an unknown transaction) or where a member's answer was
 * unusable (502) pass `status` explicitly.
 */

export const Codes = {
  // request shape
  RequestInvalid: 'Neo.ClientError.Request.Invalid',
  RequestInvalidFormat: 'Neo.ClientError.Request.InvalidFormat',
  PayloadTooLarge: 'Neo.ClientError.Gateway.PayloadTooLarge',
  NotFound: 'Neo.ClientError.Request.ResourceNotFound',
  // statements (Neo4j's codes, also produced by the gateway's own evaluation of merged results)
  SyntaxError: 'Neo.ClientError.Statement.SyntaxError',
  TypeError: 'Neo.ClientError.Statement.TypeError',
  ArgumentError: 'Neo.ClientError.Statement.ArgumentError',
  ArithmeticError: 'Neo.ClientError.Statement.ArithmeticError',
  ParameterMissing: 'Neo.ClientError.Statement.ParameterMissing',
  // statement analysis and policy
  StatementTooLarge: 'Neo.ClientError.Gateway.StatementTooLarge',
  StatementTooComplex: 'Neo.ClientError.Gateway.StatementTooComplex',
  StatementNotUnderstood: 'Neo.ClientError.Gateway.StatementNotUnderstood',
  UseNotAllowed: 'Neo.ClientError.Gateway.UseNotAllowed',
  // federation
  FederationNotSupported: 'Neo.ClientError.Gateway.FederationNotSupported',
  MultiShardWrite: 'Neo.ClientError.Gateway.MultiShardWrite',
  UnknownShardKey: 'Neo.ClientError.Gateway.UnknownShardKey',
  // routing / topology
  DatabaseNotFound: 'Neo.ClientError.Database.DatabaseNotFound',
  UnknownRegion: 'Neo.ClientError.Gateway.UnknownRegion',
  NoReaderInRegion: 'Neo.TransientError.Gateway.NoReaderInRegion',
  ShardDrained: 'Neo.TransientError.Gateway.ShardDrained',
  // transactions and bookmarks
  TransactionNotFound: 'Neo.ClientError.Transaction.TransactionNotFound',
  ConcurrentRequest: 'Neo.ClientError.Transaction.ConcurrentRequest',
  InvalidBookmark: 'Neo.ClientError.Transaction.InvalidBookmark',
  TransactionsNotSupported: 'Neo.ClientError.Gateway.TransactionsNotSupported',
  BookmarkTimeout: 'Neo.TransientError.Transaction.BookmarkTimeout',
  Terminated: 'Neo.TransientError.Transaction.Terminated',
  LockClientStopped: 'Neo.TransientError.Transaction.LockClientStopped',
  // a cluster's writer moved (refused before anything ran)
  NotALeader: 'Neo.ClientError.Cluster.NotALeader',
  ForbiddenOnReadOnlyDatabase: 'Neo.ClientError.General.ForbiddenOnReadOnlyDatabase',
  WriteOnReadOnlyAccessDatabase: 'Neo.ClientError.General.WriteOnReadOnlyAccessDatabase',
  // security
  Unauthorized: 'Neo.ClientError.Security.Unauthorized',
  Forbidden: 'Neo.ClientError.Security.Forbidden',
  AuthenticationRateLimit: 'Neo.ClientError.Security.AuthenticationRateLimit',
  CredentialsExpired: 'Neo.ClientError.Security.CredentialsExpired',
  TokenExpired: 'Neo.ClientError.Security.TokenExpired',
  AuthorizationExpired: 'Neo.ClientError.Security.AuthorizationExpired',
  // GraphQL
  GraphQLNullResult: 'Neo.ClientError.Gateway.GraphQLNullResult',
  GraphQLDepthLimit: 'Neo.ClientError.Gateway.GraphQLDepthLimit',
  GraphQLAliasLimit: 'Neo.ClientError.Gateway.GraphQLAliasLimit',
  GraphQLCostLimit: 'Neo.ClientError.Gateway.GraphQLCostLimit',
  // limits
  ResultTooLarge: 'Neo.ClientError.Gateway.ResultTooLarge',
  TooManyTransactions: 'Neo.TransientError.Gateway.TooManyTransactions',
  TooManyConcurrentRequests: 'Neo.TransientError.Gateway.TooManyConcurrentRequests',
  RateLimited: 'Neo.TransientError.Gateway.RateLimited',
  DeadlineExceeded: 'Neo.TransientError.Gateway.DeadlineExceeded',
  // backends
  DatabaseUnavailable: 'Neo.TransientError.General.DatabaseUnavailable',
  NoThreadsAvailable: 'Neo.TransientError.Request.NoThreadsAvailable',
  Internal: 'Neo.DatabaseError.General.UnknownError',
} as const;

export type GatewayCode = (typeof Codes)[keyof typeof Codes];

export interface GatewayErrorOptions {
  /** overrides the status the code implies; only for the Query API's own exceptions (see the header) */
  status?: number;
  retryable?: boolean;
  cause?: unknown;
  /** headers to add to the error response (e.g. WWW-Authenticate) */
  headers?: Record<string, string>;
  /** the transport knows nothing reached the server (no connection was made): safe to send again */
  notSent?: boolean;
  /** what refused the request, for metrics and logs: a limit, or a capability the key lacks */
  refused?: Refused;
}

/** a refusal by one of the gateway's limits, or by the key's policy (what the statement needs) */
export type Refused = { limit: string } | { need: string };

export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly headers: Record<string, string> | undefined;
  readonly notSent: boolean;
  readonly refused: Refused | undefined;

  constructor(code: string, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? statusForCode(code);
    this.retryable = options.retryable ?? code.startsWith('Neo.TransientError.');
    this.headers = options.headers;
    this.notSent = options.notSent ?? false;
    this.refused = options.refused;
  }

  toBody(): { errors: { code: string; message: string }[] } {
    return { errors: [{ code: this.code, message: this.message }] };
  }
}

const EXACT_STATUS: Record<string, number> = {
  [Codes.Unauthorized]: 401,
  [Codes.AuthenticationRateLimit]: 429,
  [Codes.CredentialsExpired]: 401,
  [Codes.TokenExpired]: 401,
  [Codes.Forbidden]: 403,
  [Codes.AuthorizationExpired]: 403,
  [Codes.PayloadTooLarge]: 413,
  [Codes.NotFound]: 404,
  [Codes.DatabaseNotFound]: 404,
  [Codes.TransactionNotFound]: 404,
  [Codes.ConcurrentRequest]: 409,
  [Codes.TransactionsNotSupported]: 501,
  [Codes.DeadlineExceeded]: 504,
  [Codes.StatementTooLarge]: 413,
  [Codes.TooManyTransactions]: 429,
  [Codes.TooManyConcurrentRequests]: 429,
  [Codes.RateLimited]: 429,
};

/** The HTTP status an error code maps to. Mirrors what Neo4j's Query API answers. */
export function statusForCode(code: string): number {
  const exact = EXACT_STATUS[code];
  if (exact !== undefined) return exact;
  if (code.startsWith('Neo.ClientError.Security.')) return 403;
  if (code.startsWith('Neo.ClientError.')) return 400;
  if (code.startsWith('Neo.TransientError.')) return 503;
  return 500;
}

/** True when the code is one of Neo4j's (or ours) and safe to show a client. */
export function isNeo4jCode(code: unknown): code is string {
  return typeof code === 'string' && /^Neo\.(ClientError|ClientNotification|TransientError|DatabaseError)\.[A-Za-z]+\.[A-Za-z]+$/.test(code);
}

export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError(Codes.Internal, 'The gateway failed to process the request.', { cause: err });
}
