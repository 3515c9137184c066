// Regenerates schema/topology.schema.json from the zod schema (npm run schema).
import { writeFileSync } from 'node:fs';
import { topologyJsonSchemaText } from '../src/config/json-schema.js';

writeFileSync(new URL('../schema/topology.schema.json', import.meta.url), topologyJsonSchemaText());
process.stdout.write('wrote schema/topology.schema.json\n');
