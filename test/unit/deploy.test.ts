/**
 * What can be checked of the deployment recipes without a Docker engine (issue 11):
 * - infra/deploy/compose.yaml against the Compose specification's JSON Schema (vendored, with a
 *   validator that implements exactly the keywords it uses), and its references (services,
 *   networks, volumes, bind-mounted files, ${VARIABLES} documented in .env.example);
 * - every Neo4j setting it sets against the Neo4j 5.26 settings reference
 *   (test/unit/data/neo4j-5.26-settings.json: the Operations Manual and the 5.26 jars), values of
 *   enumerated settings, routing policies and catch-up strategies;
 * - the cluster it describes against infra/deploy/topology.json, loaded by the gateway's own loader;
 * - Prometheus and Grafana provisioning against the rules, the dashboard and the compose mounts;
 * - the Dockerfile's stages, user, health check and build context, and that the bundle it ships
 *   imports only the production dependencies the image keeps;
 * - infra/observability/rules.yml and the dashboard's structure, runbook links into docs/OPERATIONS.md;
 * - the Worker's development variables (.dev.vars.example) against the sample topology.
 * Nothing here starts a container: docker compose, docker build, Neo4j Enterprise, promtool and
 * Grafana were not run (docs/OPERATIONS.md says so).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { parseTopologyText, type Topology } from '../../src/config/load.js';
import { JsonSchemaValidator, type Json, type Schema } from '../support/json-schema-subset.js';
import { metricsOfGrafanaQuery, metricsOfPromql } from '../support/promql-names.js';
import { parseYaml, type YamlValue } from '../support/yaml-subset.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(ROOT, 'infra/deploy');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
/** the SHA-256 infra/deploy/vendor/README.md records for the vendored schema */
const COMPOSE_SPEC_SHA256 = '1f91e091f16b2dd50ab8860e02bb391d22df553d91c145eacedb1b6eff9c3f0e';

type Obj = Record<string, YamlValue>;
const obj = (v: YamlValue | undefined): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
const list = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);

const compose = obj(parseYaml(read('infra/deploy/compose.yaml')));
const services = obj(compose.services);
const envOf = (service: string): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(obj(services[service]).environment)).map(([k, v]) => [k, String(v)]));
const topology: Topology = parseTopologyText(read('infra/deploy/topology.json'), 'infra/deploy/topology.json');

// ---- Neo4j settings ----

interface SettingsReference {
  settings: Record<string, { sources: string[]; edition: string; deprecated?: string; values?: string[]; replacedBy?: string }>;
  groups: { pattern: string }[];
  dockerImageVariables: Record<string, string>;
  catchupStrategies: { current: string[]; deprecated: string[] };
  routingPolicyFilters: { current: string[]; deprecated: string[] };
}
const reference = JSON.parse(read('test/unit/data/neo4j-5.26-settings.json')) as SettingsReference;
/** deprecated settings the recipe uses on purpose */
const DEPRECATED_ON_PURPOSE: Record<string, string> = {
  'dbms.cluster.discovery.version':
    'deprecated in 5.26 only because the next major keeps discovery v2 alone; in 5.26 it is how v2 is selected (its default is V1_ONLY, and v1 with dbms.cluster.discovery.endpoints is deprecated since 5.23)',
};

/** the official image's rule: NEO4J_ + the name with "_" written "__" and "." written "_" */
function settingOfVariable(variable: string): string {
  return variable
    .slice('NEO4J_'.length)
    .split('__')
    .map((part) => part.replace(/_/g, '.'))
    .join('_');
}

function settingKnown(name: string): boolean {
  if (Object.hasOwn(reference.settings, name)) return true;
  return reference.groups.some((g) => new RegExp(`^${g.pattern.replace(/[.]/g, '\\.').replace(/<[^>]+>/g, '[^.]+')}$`).test(name));
}

/** the Neo4j servers: services running the neo4j image with its own entrypoint */
const neo4jServers = Object.entries(services)
  .filter(([, s]) => /^neo4j:/.test(String(obj(s).image)) && obj(s).entrypoint === undefined)
  .map(([name]) => name);

/** every Neo4j setting each server gets, as (server, setting, value) */
const settingsUsed = neo4jServers.flatMap((server) =>
  Object.entries(envOf(server))
    .filter(([k]) => k.startsWith('NEO4J_') && !Object.hasOwn(reference.dockerImageVariables, k))
    .map(([variable, value]) => ({ server, variable, setting: settingOfVariable(variable), value })),
);
const settingOn = (server: string, setting: string) => settingsUsed.find((u) => u.server === server && u.setting === setting)?.value;

describe('Neo4j settings of compose.yaml are Neo4j 5.26 settings', () => {
  it('the image variable rule round-trips the reference names (docker/ref-settings.adoc examples)', () => {
    expect(settingOfVariable('NEO4J_browser_post__connect__cmd')).toBe('browser.post_connect_cmd');
    expect(settingOfVariable('NEO4J_server_cluster_system__database__mode')).toBe('server.cluster.system_database_mode');
    expect(settingOfVariable('NEO4J_dbms_ssl_policy_https_base__directory')).toBe('dbms.ssl.policy.https.base_directory');
  });

  it('every setting is in the reference (no 3.x/4.x names such as causal_clustering.* or dbms.mode)', () => {
    expect(neo4jServers.sort()).toEqual(['neo4j-p1', 'neo4j-p2', 'neo4j-p3', 'neo4j-s1', 'neo4j-s2']);
    const distinct = [...new Set(settingsUsed.map((u) => u.setting))];
    expect(distinct.length).toBeGreaterThanOrEqual(25);
    expect(distinct.filter((s) => !settingKnown(s))).toEqual([]);
    expect(distinct.filter((s) => s.startsWith('causal_clustering.') || s === 'dbms.mode' || s.startsWith('dbms.connectors.'))).toEqual([]);
    // and the reference itself knows the difference: the 4.x names are not in it, server.groups is deprecated
    expect(['causal_clustering.initial_discovery_members', 'dbms.mode', 'dbms.connectors.default_listen_address'].filter(settingKnown)).toEqual([]);
    expect(reference.settings['server.groups']).toMatchObject({ deprecated: '5.4', replacedBy: 'initial.server.tags' });
  });

  it('no deprecated setting unless on purpose, with the reason', () => {
    const deprecated = [...new Set(settingsUsed.map((u) => u.setting))].filter((s) => reference.settings[s]?.deprecated);
    expect(deprecated.filter((s) => !DEPRECATED_ON_PURPOSE[s])).toEqual([]);
  });

  it('values of enumerated settings are among the documented values', () => {
    const bad = settingsUsed.filter((u) => reference.settings[u.setting]?.values && !reference.settings[u.setting]!.values!.includes(u.value));
    expect(bad).toEqual([]);
  });

  it('routing policies use the 5.x policy language (tags(), not groups()) and name existing tags', () => {
    const tags = new Set(neo4jServers.flatMap((s) => (settingOn(s, 'initial.server.tags') ?? '').split(',').filter(Boolean)));
    const policies = settingsUsed.filter((u) => u.setting.startsWith('dbms.routing.load_balancing.config.server_policies.'));
    expect(policies.length).toBeGreaterThan(0);
    for (const p of policies) {
      const filters = [...p.value.matchAll(/([a-z]+)\(([^)]*)\)/g)];
      expect(filters.length).toBeGreaterThan(0);
      for (const [, fn, args] of filters) {
        expect(reference.routingPolicyFilters.current).toContain(fn);
        if (fn === 'tags') for (const t of args!.split(',')) expect(tags).toContain(t.trim());
      }
    }
    expect(settingOn('neo4j-p1', 'dbms.routing.load_balancing.plugin')).toBe('server_policies');
  });

  it('secondaries catch up with documented strategies, from their own region first', () => {
    for (const s of ['neo4j-s1', 'neo4j-s2']) {
      const strategies = settingOn(s, 'server.cluster.catchup.upstream_strategy')!.split(',');
      for (const x of strategies) expect(reference.catchupStrategies.current).toContain(x);
      expect(settingOn(s, 'server.cluster.catchup.connect_randomly_to_server_tags')).toBe(settingOn(s, 'initial.server.tags'));
    }
  });
});

describe('the cluster of compose.yaml is the one infra/deploy/topology.json describes', () => {
  const members = Object.entries(topology.clusters.main!.members);
  const primaries = neo4jServers.filter((s) => settingOn(s, 'initial.server.mode_constraint') === 'PRIMARY');
  const secondaries = neo4jServers.filter((s) => settingOn(s, 'initial.server.mode_constraint') === 'SECONDARY');

  it("the topology passes the gateway's own loader", () => {
    expect(Object.keys(topology.clusters)).toEqual(['main']);
    expect(Object.keys(topology.shards).sort()).toEqual(['users-eu', 'users-us']);
  });

  it('three primaries and two secondaries; secondaries hold the system database as secondaries', () => {
    expect(primaries).toHaveLength(3);
    expect(secondaries).toHaveLength(2);
    for (const s of secondaries) expect(settingOn(s, 'server.cluster.system_database_mode')).toBe('SECONDARY');
    expect(settingOn('neo4j-p1', 'dbms.cluster.minimum_initial_system_primaries_count')).toBe(String(primaries.length));
  });

  it('discovery lists exactly the primaries; the gateway routes through them', () => {
    for (const s of neo4jServers) {
      expect(settingOn(s, 'dbms.cluster.discovery.v2.endpoints')!.split(',').sort()).toEqual(primaries.map((p) => `${p}:6000`).sort());
      expect(settingOn(s, 'dbms.cluster.discovery.version')).toBe('V2_ONLY');
    }
    expect(topology.clusters.main!.routers.map((r) => new URL(r).host).sort()).toEqual(primaries.map((p) => `${p}:7687`).sort());
  });

  it("every member of the topology is a server advertising that address, tagged with the member's region", () => {
    expect(members.map(([a]) => a).sort()).toEqual(neo4jServers.map((s) => `${s}:7687`).sort());
    for (const [address, m] of members) {
      const server = address.split(':')[0]!;
      expect(settingOn(server, 'server.default_advertised_address')).toBe(server);
      expect(obj(services[server]).hostname).toBe(server);
      expect(settingOn(server, 'initial.server.tags')!.split(',')).toContain(m.region);
      expect(m.http).toBe(`http://${server}:7474`);
    }
    // one region per mode: primaries in the default region, secondaries elsewhere
    expect(new Set(primaries.map((p) => settingOn(p, 'initial.server.tags')))).toEqual(new Set([topology.defaultRegion]));
  });

  it('the databases of the shards are created by neo4j-init, and the user the gateway logs in as', () => {
    const init = read('infra/deploy/neo4j/init.sh');
    for (const shard of Object.values(topology.shards))
      expect(init).toContain(
        `CREATE DATABASE \\\`${shard.database}\\\` IF NOT EXISTS TOPOLOGY ${primaries.length} PRIMARIES ${secondaries.length} SECONDARIES`,
      );
    expect(init).toContain(`CREATE USER ${topology.clusters.main!.auth.user} IF NOT EXISTS`);
    expect(list(obj(services['neo4j-init']).entrypoint)).toEqual(['/bin/bash', '/init/init.sh']);
  });

  it('each gateway gets the passwords, Redis and the fleet secret the topology needs, and a region it knows', () => {
    const gateways = Object.keys(services).filter((s) => s.startsWith('gateway-'));
    expect(gateways).toEqual(['gateway-1', 'gateway-2']);
    for (const g of gateways) {
      const env = envOf(g);
      for (const c of Object.values(topology.clusters)) expect(env[c.auth.passwordEnv]).toBeTruthy();
      expect(env[topology.cache.redisUrlEnv ?? 'GATEWAY_REDIS_URL']).toMatch(/^redis:\/\/default:\$\{REDIS_PASSWORD[^}]*\}@redis:6379$/);
      expect(env[topology.secrets.fleetSecretEnv]).toMatch(/^\$\{GATEWAY_SECRET:\?/);
      expect(Object.keys(topology.regions)).toContain(env.GATEWAY_REGION);
      expect(env.GATEWAY_CONFIG).toBe('/etc/neo4j-edge-gateway/topology.json');
      expect(list(obj(services[g]).volumes)).toContain('./topology.json:/etc/neo4j-edge-gateway/topology.json:ro');
    }
  });
});

describe('compose.yaml follows the Compose specification', () => {
  const specText = read('infra/deploy/vendor/compose-spec.json');
  const validator = new JsonSchemaValidator(JSON.parse(specText) as Schema);

  it('the vendored schema is the file its README names', () => {
    expect(createHash('sha256').update(specText).digest('hex')).toBe(COMPOSE_SPEC_SHA256);
    expect(read('infra/deploy/vendor/README.md')).toContain(COMPOSE_SPEC_SHA256);
    // the validator refuses schemas with keywords it does not implement; these are the ones checked
    expect(validator.keywordsUsed()).toEqual(expect.arrayContaining(['$ref', 'additionalProperties', 'oneOf', 'patternProperties', 'required', 'type']));
  });

  it('validates', () => {
    expect(validator.validate(compose as Json)).toEqual([]);
  });

  it('the validator is not vacuous: broken variants are refused', () => {
    const broken = (edit: (c: Obj) => void) => {
      const c = structuredClone(compose);
      edit(c);
      return validator.validate(c as Json);
    };
    expect(broken((c) => (obj(obj(c.services)['gateway-1']).helthcheck = {}))).not.toEqual([]);
    expect(broken((c) => (obj(obj(c.services).redis).restart = 3))).not.toEqual([]);
    expect(broken((c) => (obj(obj(c.services)['neo4j-p1']).depends_on = 'redis'))).not.toEqual([]);
    expect(broken((c) => (obj(c.networks).backend = { internal: [true] }))).not.toEqual([]);
    expect(broken((c) => (c.servics = {}))).not.toEqual([]);
  });

  it('references resolve: depends_on, networks, named volumes, bind-mounted files, build context', () => {
    const names = Object.keys(services);
    const networks = Object.keys(obj(compose.networks));
    const volumes = Object.keys(obj(compose.volumes));
    for (const [name, raw] of Object.entries(services)) {
      const s = obj(raw);
      const deps = Array.isArray(s.depends_on) ? s.depends_on.map(String) : Object.keys(obj(s.depends_on));
      for (const d of deps) expect(names, `${name} depends on ${d}`).toContain(d);
      for (const n of list(s.networks)) expect(networks).toContain(n);
      for (const v of list(s.volumes).map(String)) {
        const [source] = v.split(':');
        if (source!.startsWith('.')) expect(existsSync(path.resolve(DEPLOY, source!)), `${name}: ${source}`).toBe(true);
        else expect(volumes, `${name}: volume ${source}`).toContain(source);
      }
      if (s.build) {
        const b = obj(s.build);
        expect(existsSync(path.resolve(DEPLOY, String(b.context), String(b.dockerfile)))).toBe(true);
      }
    }
  });

  it('every ${VARIABLE} is documented in .env.example, and required ones fail loudly when unset', () => {
    const text = read('infra/deploy/compose.yaml');
    const env = read('infra/deploy/.env.example');
    const used = [...text.matchAll(/\$\{([A-Z0-9_]+)(:[?-][^}]*)?\}/g)].map((m) => ({ name: m[1]!, how: m[2]?.slice(0, 2) }));
    expect(used.length).toBeGreaterThan(10);
    for (const u of used) {
      if (u.how === ':?') expect(env, u.name).toMatch(new RegExp(`^${u.name}=$`, 'm'));
      else if (u.how === ':-') expect(env, u.name).toMatch(new RegExp(`^# ${u.name}=`, 'm'));
      else throw new Error(`\${${u.name}} has neither a default nor an error message`);
    }
    const documented = [...env.matchAll(/^(?:# )?([A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    expect(documented.filter((d) => !used.some((u) => u.name === d))).toEqual([]);
  });
});

describe('Prometheus and Grafana provisioning match the compose services', () => {
  const prometheus = obj(parseYaml(read('infra/deploy/prometheus/prometheus.yml')));
  const jobs = list(prometheus.scrape_configs).map(obj);
  const targetsOf = (job: string) => list(obj(list(obj(jobs.find((j) => j.job_name === job)).static_configs)[0]).targets).map(String);
  const mounts = (service: string) => list(obj(services[service]).volumes).map((v) => String(v).split(':'));

  it('scrapes every gateway under the job the alert rules expect, and every Neo4j server', () => {
    const rules = read('infra/observability/rules.yml');
    expect(rules).toContain('up{job="neo4j-edge-gateway"}');
    expect(targetsOf('neo4j-edge-gateway')).toEqual(['gateway-1:8787', 'gateway-2:8787']);
    const metricsPort = settingOn('neo4j-p1', 'server.metrics.prometheus.endpoint')!.split(':')[1];
    expect(targetsOf('neo4j').sort()).toEqual(neo4jServers.map((s) => `${s}:${metricsPort}`).sort());
    // the gateways serve /metrics without a key in this topology; otherwise Prometheus would need one
    expect(topology.auth.publicEndpoints).toContain('metrics');
  });

  it('loads the rules file compose mounts from infra/observability', () => {
    const files = list(prometheus.rule_files).map(String);
    for (const f of files)
      expect(mounts('prometheus').some(([src, dst]) => dst === f && path.resolve(DEPLOY, src!) === path.join(ROOT, 'infra/observability/rules.yml'))).toBe(
        true,
      );
    expect(files).toHaveLength(1);
  });

  it('Grafana gets the Prometheus data source and the dashboard directory', () => {
    const ds = list(obj(parseYaml(read('infra/deploy/grafana/provisioning/datasources/prometheus.yml'))).datasources).map(obj);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(Object.keys(services)).toContain('prometheus');
    const providers = list(obj(parseYaml(read('infra/deploy/grafana/provisioning/dashboards/neo4j-edge-gateway.yml'))).providers).map(obj);
    const dir = String(obj(providers[0]!.options).path);
    const mount = mounts('grafana').find(([, dst]) => dst === dir);
    expect(mount).toBeDefined();
    expect(readdirSync(path.resolve(DEPLOY, mount![0]!))).toContain('neo4j-edge-gateway.json');
    expect(mounts('grafana').some(([src, dst]) => src === './grafana/provisioning' && dst === '/etc/grafana/provisioning')).toBe(true);
  });
});

// ---- Dockerfile ----

interface Instruction {
  op: string;
  args: string;
}

function dockerInstructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** .dockerignore semantics for the patterns used: last match wins, "!" re-includes, ** any depth */
function dockerIgnored(patterns: string[], file: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const p = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      `^${p
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}(/.*)?$`,
    );
    if (re.test(file)) ignored = !negate;
  }
  return ignored;
}

function filesUnder(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!existsSync(abs)) return [];
  if (statSync(abs).isFile()) return [rel];
  return readdirSync(abs).flatMap((f) => filesUnder(path.posix.join(rel, f)));
}

describe('the Dockerfile', () => {
  const ins = dockerInstructions(read('infra/deploy/Dockerfile'));
  const stages: { name: string; ins: Instruction[] }[] = [];
  for (const i of ins) {
    if (i.op === 'FROM') stages.push({ name: /\bAS\s+(\S+)$/i.exec(i.args)?.[1] ?? String(stages.length), ins: [] });
    else stages.at(-1)?.ins.push(i);
  }
  const final = stages.at(-1)!;
  const of = (stage: { ins: Instruction[] }, op: string) => stage.ins.filter((i) => i.op === op).map((i) => i.args);

  it('is multi-stage: build (npm ci, npm run build), production dependencies, runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const build = of(stages[0]!, 'RUN').join('\n');
    expect(build).toMatch(/npm ci/);
    expect(build).toMatch(/npm run build/);
    expect(of(stages[1]!, 'RUN').join('\n')).toMatch(/npm ci --omit=dev --ignore-scripts/);
    for (const c of ins.filter((i) => i.op === 'COPY' && i.args.includes('--from='))) {
      const from = /--from=(\S+)/.exec(c.args)![1]!;
      expect(stages.slice(0, -1).map((s) => s.name)).toContain(from);
    }
  });

  it('runs as a non-root user, listens on every interface, checks /health', () => {
    const user = of(final, 'USER');
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(of(final, 'ENV').join(' ')).toMatch(/\bHOST=0\.0\.0\.0\b/);
    const health = of(final, 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    expect(health[0]).toContain('/health');
    expect(of(final, 'CMD')[0]).toBe('["node", "dist/node/main.mjs"]');
    expect(of(final, 'COPY')).toContain('--from=build /src/dist/node ./dist/node');
    expect(of(final, 'EXPOSE')).toEqual(['8787']);
  });

  it('copies only what exists and what Dockerfile.dockerignore lets into the context', () => {
    const ignore = read('infra/deploy/Dockerfile.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const sources = ins.filter((i) => i.op === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(4);
    for (const src of sources) {
      const files = filesUnder(src);
      expect(files.length, src).toBeGreaterThan(0);
      expect(
        files.filter((f) => dockerIgnored(ignore, f)),
        src,
      ).toEqual([]);
    }
    expect(dockerIgnored(ignore, 'node_modules/hono/package.json')).toBe(true);
    expect(dockerIgnored(ignore, '.git/config')).toBe(true);
  });

  it('the bundle of `npm run build` imports only production dependencies the image keeps', async () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    const [tool, entry, ...flags] = pkg.scripts.build!.split(/\s+/);
    expect(tool).toBe('esbuild');
    const options: Record<string, string | boolean> = {};
    for (const f of flags) {
      const [k, ...v] = f.replace(/^--/, '').split('=');
      options[k!] = v.length > 0 ? v.join('=') : true;
    }
    expect(Object.keys(options).sort()).toEqual(['bundle', 'format', 'out-extension:.js', 'outdir', 'packages', 'platform', 'splitting', 'target']);
    expect(options['out-extension:.js']).toBe('.mjs');
    const result = await build({
      entryPoints: [path.join(ROOT, entry!)],
      absWorkingDir: ROOT,
      bundle: true,
      platform: options.platform as 'node',
      format: options.format as 'esm',
      target: String(options.target),
      packages: options.packages as 'external',
      splitting: true,
      outdir: path.join(ROOT, 'dist/deploy-test'),
      outExtension: { '.js': '.mjs' },
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    // what starting the gateway loads: the packages its entry reaches through static imports.
    // GraphQL is a chunk of its own, imported dynamically, only where a schema is configured
    const outputs = result.metafile.outputs;
    const entryOut = Object.keys(outputs).find((o) => outputs[o]!.entryPoint !== undefined)!;
    const atStart = new Set<string>();
    const visit = (out: string, seen = new Set<string>()) => {
      if (seen.has(out)) return;
      seen.add(out);
      for (const i of outputs[out]!.imports) {
        if (i.kind !== 'import-statement') continue;
        if (i.external) atStart.add(i.path);
        else visit(Object.keys(outputs).find((o) => path.resolve(ROOT, o) === path.resolve(ROOT, i.path)) ?? i.path, seen);
      }
    };
    visit(entryOut);
    expect([...atStart].filter((p) => p === 'graphql' || p.startsWith('graphql-yoga'))).toEqual([]);
    expect(atStart.has('neo4j-driver')).toBe(true);
    expect([...new Set(imports.filter((p) => p === 'graphql' || p === 'graphql-yoga'))].sort()).toEqual(['graphql', 'graphql-yoga']);
    const packages = [
      ...new Set(imports.filter((p) => !p.startsWith('node:')).map((p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0]!))),
    ].sort();
    expect(packages.length).toBeGreaterThan(3);
    expect(packages.filter((p) => !Object.hasOwn(pkg.dependencies, p))).toEqual([]);
    const removed = [...read('infra/deploy/Dockerfile').matchAll(/node_modules\/(@[^/\s]+\/?[^/\s]*|[^/\s]+)/g)].map((m) => m[1]!);
    expect(removed).toEqual(['@neo4j-cypher', 'antlr4']);
    expect(packages.filter((p) => removed.some((r) => p === r || p.startsWith(`${r}/`)))).toEqual([]);
    // the grammar is inside the bundle, so the image needs no dist/vendor
    expect(Object.keys(result.metafile.inputs).some((f) => f.endsWith('dist/vendor/cypher-grammar.mjs'))).toBe(true);
  }, 60_000);
});

// ---- infra/observability ----

/** GitHub's heading anchors (lower case, punctuation dropped, spaces to hyphens) of a Markdown file */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const h = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h)
      out.add(
        h[1]!
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
          .replace(/ /g, '-'),
      );
  }
  return out;
}

describe('infra/observability/rules.yml', () => {
  const rules = obj(parseYaml(read('infra/observability/rules.yml')));
  const all = list(rules.groups).flatMap((g) => list(obj(g).rules).map(obj));

  it('groups of named rules, alert names unique', () => {
    expect(Object.keys(rules)).toEqual(['groups']);
    const groups = list(rules.groups).map(obj);
    expect(new Set(groups.map((g) => g.name)).size).toBe(groups.length);
    for (const g of groups) {
      expect(Object.keys(g).sort()).toEqual(['name', 'rules']);
      expect(list(g.rules).length).toBeGreaterThan(0);
    }
    const names = all.map((r) => r.alert);
    expect(names.every((n) => typeof n === 'string' && /^[A-Z][A-Za-z0-9]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(15);
  });

  it('the alerts the issue asks for are there', () => {
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['GatewayHighErrorRate', 'GatewayHighLatency', 'GatewayNoReaderInRegion', 'GatewayMemberEjected', 'GatewaySharedCacheDegraded']),
    );
  });

  it('each rule: a PromQL expression over gateway metrics, a duration, a severity, a summary, a description and a runbook', () => {
    const anchors = anchorsOf(existsSync(path.join(ROOT, 'docs/OPERATIONS.md')) ? read('docs/OPERATIONS.md') : '');
    for (const r of all) {
      expect(Object.keys(r).sort(), String(r.alert)).toEqual(['alert', 'annotations', 'expr', 'for', 'labels']);
      const uses = metricsOfPromql(String(r.expr));
      expect(uses.length, String(r.alert)).toBeGreaterThan(0);
      for (const u of uses) expect(u.name, String(r.alert)).toMatch(/^(gateway_|process_|nodejs_)|^up$/);
      expect(String(r.for)).toMatch(/^(\d+[smhd])+$/);
      expect(['critical', 'warning', 'info']).toContain(obj(r.labels).severity);
      const a = obj(r.annotations);
      expect(Object.keys(a).sort()).toEqual(['description', 'runbook_url', 'summary']);
      const runbook = /^docs\/OPERATIONS\.md#([a-z0-9-]+)$/.exec(String(a.runbook_url));
      expect(runbook, String(r.alert)).not.toBeNull();
      expect(anchors.has(runbook![1]!), `${String(r.alert)}: docs/OPERATIONS.md has no heading #${runbook![1]}`).toBe(true);
    }
  });
});

describe('infra/observability/grafana/neo4j-edge-gateway.json', () => {
  interface Panel {
    id: number;
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    gridPos: { x: number; y: number; w: number; h: number };
    targets?: { expr: string; datasource: { uid: string } }[];
  }
  const d = JSON.parse(read('infra/observability/grafana/neo4j-edge-gateway.json')) as {
    uid: string;
    __inputs?: unknown;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: string | { query: string }; datasource?: { uid: string } }[] };
  };

  it('importable and provisionable: no __inputs, the data source is the $datasource variable', () => {
    expect(d.__inputs).toBeUndefined();
    expect(d.uid).toBe('neo4j-edge-gateway');
    const ds = d.templating.list.find((v) => v.name === 'datasource')!;
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      expect(v.datasource?.uid).toBe('${datasource}');
      expect(metricsOfGrafanaQuery(typeof v.query === 'string' ? v.query : v.query.query).map((m) => m.name)).toEqual(['gateway_build_info']);
    }
    for (const p of d.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets!.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        expect(t.datasource.uid).toBe('${datasource}');
        expect(metricsOfPromql(t.expr).length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        expect(t.expr, p.title).toContain('instance=~"$instance"');
      }
    }
  });

  it('unique panel ids, panels inside the 24-column grid and not overlapping', () => {
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});

// ---- Workers out of the box ----

/** KEY=value lines, values bare or in single quotes (literal), as dotenv reads them */
function readDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(?:'([^']*)'|([^'"\s#]*))\s*$/.exec(line);
    if (!m) throw new Error(`.dev.vars.example: unreadable line ${JSON.stringify(line.slice(0, 60))}`);
    out[m[1]!] = m[2] ?? m[3]!;
  }
  return out;
}

describe(".dev.vars.example: npm run dev:worker against npm start's sandbox", () => {
  const vars = readDevVars(read('.dev.vars.example'));

  it('binds the sample topology (schema/topology.sample.json), which the gateway loads', () => {
    expect(JSON.parse(vars.GATEWAY_CONFIG!)).toEqual(JSON.parse(read('schema/topology.sample.json')));
    const t = parseTopologyText(vars.GATEWAY_CONFIG!, '.dev.vars.example');
    for (const c of Object.values(t.clusters)) expect(vars[c.auth.passwordEnv]).toBe('sandbox-pass');
    expect(read('infra/sandbox/run.mjs')).toContain("DEFAULT_PASSWORD = 'sandbox-pass'");
  });

  it('a development fleet secret, long enough, marked as such', () => {
    expect(vars.GATEWAY_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(vars.GATEWAY_SECRET).toMatch(/dev/i);
    expect(read('.dev.vars.example')).toMatch(/development only/i);
  });

  it('.dev.vars is ignored by git; npm run dev:worker creates it', () => {
    expect(read('.gitignore').split('\n')).toContain('.dev.vars');
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['dev:worker']).toMatch(/^node scripts\/dev-worker\.mjs\b/);
    expect(existsSync(path.join(ROOT, 'scripts/dev-worker.mjs'))).toBe(true);
  });
});
