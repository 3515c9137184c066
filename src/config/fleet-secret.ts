/**
 * The fleet secret: one random value shared by every gateway instance, used for what the fleet
 * must agree on (signed transaction ids, authenticated Redis entries) and for nothing derived
 * from other secrets. Never a constant, never a cluster password.
 */
import { ConfigError, jsonPath } from './load.js';
import type { Topology } from './schema.js';

/** the shortest fleet secret accepted (characters) */
export const FLEET_SECRET_MIN_LENGTH = 32;

/**
 * The fleet secret, from the variable (Node: environment; Workers: secret binding) the topology
 * names in secrets.fleetSecretEnv. `requiredBy` lists why this gateway needs it (signed
 * transaction ids, Redis); when it is needed and absent, or set but too short, a ConfigError
 * names the variable, never its value.
 */
export function resolveFleetSecret(topology: Topology, lookup: (name: string) => string | undefined, requiredBy: string[]): string | undefined {
  const name = topology.secrets.fleetSecretEnv;
  const value = lookup(name);
  const where = jsonPath(['secrets', 'fleetSecretEnv']);
  const advice = `set ${name} to the same random value of at least ${FLEET_SECRET_MIN_LENGTH} characters on every instance (e.g. openssl rand -base64 48)`;
  if (value === undefined || value === '') {
    if (requiredBy.length === 0) return undefined;
    throw new ConfigError([`${where}: the fleet secret ${name} is not set; it is required because ${requiredBy.join(' and ')}: ${advice}`]);
  }
  if (value.length < FLEET_SECRET_MIN_LENGTH)
    throw new ConfigError([`${where}: the fleet secret ${name} is shorter than ${FLEET_SECRET_MIN_LENGTH} characters: ${advice}`]);
  return value;
}
