// The slice of workerd's `cloudflare:workers` module the Worker uses (a Durable Object base class).
declare module 'cloudflare:workers' {
  export interface DurableObjectStateLike {
    waitUntil(work: Promise<unknown>): void;
  }
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectStateLike;
    protected readonly env: Env;
    constructor(ctx: DurableObjectStateLike, env: Env);
  }
}
