/**
 * One error type for the whole gateway. Codes follow Neo4j's shape
 * (`Neo.<Classification>.<Category>.<Title>`); Neo4j's own codes pass through unchanged,
 * gateway-specific ones live under the `Gateway` category.
 */

export const Codes = {
  // request shape
  RequestInvalid: 'Neo.ClientError.Request.Invalid',
  RequestInvalidFormat: 'Neo.ClientError.Request.InvalidFormat',
  UnsupportedMediaType: 'Neo.ClientError.Request.InvalidUsage',
  PayloadTooLarge: 'Neo.ClientError.Gateway.PayloadTooLarge',
  NotFound: 'Neo.ClientError.Request.ResourceNotFound',
  MethodNotAllowed: 'Neo.ClientError.Request.Invalid',
  // routing / topology
  DatabaseNotFound: 'Neo.ClientError.Database.DatabaseNotFound',
  UnknownRegion: 'Neo.ClientError.Gateway.UnknownRegion',
  NoReaderInRegion: 'Neo.TransientError.Gateway.NoReaderInRegion',
  TransactionNotFound: 'Neo.ClientError.Transaction.TransactionNotFound',
  // security
  Unauthorized: 'Neo.ClientError.Security.Unauthorized',
  Forbidden: 'Neo.ClientError.Security.Forbidden',
  // limits
  ResultTooLarge: 'Neo.ClientError.Gateway.ResultTooLarge',
  StatementTooLarge: 'Neo.ClientError.Gateway.StatementTooLarge',
  TooManyTransactions: 'Neo.TransientError.Gateway.TooManyTransactions',
  TooManyConcurrentRequests: 'Neo.TransientError.Gateway.TooManyConcurrentRequests',
  RateLimited: 'Neo.TransientError.Gateway.RateLimited',
  DeadlineExceeded: 'Neo.TransientError.Gateway.DeadlineExceeded',
  // backends
  DatabaseUnavailable: 'Neo.TransientError.General.DatabaseUnavailable',
  Internal: 'Neo.DatabaseError.General.UnknownError',
} as const;

export type GatewayCode = (typeof Codes)[keyof typeof Codes];

export interface GatewayErrorOptions {
  status?: number;
  retryable?: boolean;
  cause?: unknown;
  /** headers to add to the error response (e.g. WWW-Authenticate) */
  headers?: Record<string, string>;
  /** the transport knows nothing reached the server (no connection was made): safe to send again */
  notSent?: boolean;
}

export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly headers: Record<string, string> | undefined;
  readonly notSent: boolean;

  constructor(code: string, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? statusForCode(code);
    this.retryable = options.retryable ?? code.startsWith('Neo.TransientError.');
    this.headers = options.headers;
    this.notSent = options.notSent ?? false;
  }

  toBody(): { errors: { code: string; message: string }[] } {
    return { errors: [{ code: this.code, message: this.message }] };
  }
}

const EXACT_STATUS: Record<string, number> = {
  [Codes.Unauthorized]: 401,
  'Neo.ClientError.Security.AuthenticationRateLimit': 429,
  'Neo.ClientError.Security.CredentialsExpired': 401,
  'Neo.ClientError.Security.TokenExpired': 401,
  [Codes.Forbidden]: 403,
  'Neo.ClientError.Security.AuthorizationExpired': 403,
  [Codes.PayloadTooLarge]: 413,
  [Codes.NotFound]: 404,
  [Codes.DatabaseNotFound]: 404,
  [Codes.TransactionNotFound]: 404,
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
  return new GatewayError(Codes.Internal, 'The gateway failed to process the request.', { cause: err, status: 500 });
}
