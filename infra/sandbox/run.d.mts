export interface SandboxInstanceInfo {
  bolt: number;
  http: number;
  boltUri: string;
  httpUri: string;
}
export interface SandboxSpec {
  password?: string;
  dataDir?: string;
  settings?: Record<string, string>;
  instances: { name: string; boltPort?: number; httpPort?: number; readOnly?: boolean; settings?: Record<string, string> }[];
}
export interface Sandbox {
  instances: Record<string, SandboxInstanceInfo>;
  startMs: number;
  pid: number;
  command(cmd: Record<string, unknown>): Promise<{ ok: boolean; error?: string; [k: string]: unknown }>;
  stop(graceMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}
export const SANDBOX_DIR: string;
export const DEFAULT_PASSWORD: string;
export const DEFAULT_JVM_ARGS: string[];
export function ensureBuilt(options?: { force?: boolean; log?: (s: string) => void }): Promise<{ classpath: string[] }>;
export function startSandbox(
  spec: SandboxSpec,
  options?: { timeoutMs?: number; jvmArgs?: string[]; verbose?: boolean; build?: boolean; stderr?: ((s: string) => void) | null },
): Promise<Sandbox>;
