export interface SandboxInstanceInfo {
  bolt: number;
  http: number;
  boltUri: string;
  httpUri: string;
}
export interface SandboxSpec {
  password?: string;
  dataDir?: string;
  deleteDataDir?: boolean;
  settings?: Record<string, string>;
  instances: { name: string; boltPort?: number; httpPort?: number; readOnly?: boolean; settings?: Record<string, string>; procedureClasses?: string[] }[];
}
export interface Sandbox {
  instances: Record<string, SandboxInstanceInfo>;
  startMs: number;
  /** ms from spawn to the ready line, as seen by Node */
  wallMs: number;
  /** the raw ready line */
  ready: { ready: true; startMs: number; instances: Record<string, SandboxInstanceInfo>; dataDir?: string };
  /** only when the spec gave a dataDir */
  dataDir?: string;
  pid: number;
  stderrTail(): string;
  command(cmd: Record<string, unknown>): Promise<{ ok: boolean; error?: string; [k: string]: unknown }>;
  stop(graceMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}
export const SANDBOX_DIR: string;
export const DEFAULT_PASSWORD: string;
export const DEFAULT_JVM_ARGS: string[];
export function ensureBuilt(options?: { force?: boolean; log?: (s: string) => void }): Promise<{ classpath: string[]; built: boolean }>;
export function startSandbox(
  spec: SandboxSpec,
  options?: { timeoutMs?: number; jvmArgs?: string[]; verbose?: boolean; build?: boolean; signal?: AbortSignal; stderr?: ((s: string) => void) | null },
): Promise<Sandbox>;
