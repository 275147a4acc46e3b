// Checks the merged OpenAPI document (build/docs/openapi.json) against the daemon it describes:
//   1. swagger-parser validates it as OpenAPI 3.1;
//   2. the documented operations are exactly the compiled routes (tests/unit/list_routes), both
//      ways, with the same roles (x-roles);
//   3. the LIMS flow is sent to the real daemon with the documented request examples, and each
//      answer's status is documented and its body matches the documented schema (ajv, 2020-12);
//      every GET without parameters is checked the same way.
//   Query parameters too: the documented ones are exactly the route's compiled .query.
// Usage: node openapi.mjs DOC ROUTES_FILE QUERY_FILE BASE_URL ADMIN_TOKEN (ROUTES_FILE:
// relapsewatchd --list-routes, "METHOD PATH ROLES"; QUERY_FILE: tests/unit/list_routes). Prints "ok ..." / "FAIL ..." lines
// and a summary; exits 1 on any failure.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [docPath, routesPath, queryPath, baseUrl, adminToken] = process.argv.slice(2);
const nodeModules = path.join(process.env.RW_SRCDIR || '.', 'node_modules');
const require = createRequire(path.join(nodeModules, 'x.js'));
const SwaggerParser = require('@apidevtools/swagger-parser');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default || require('ajv-formats');

let passed = 0, failed = 0;
const ok = (what) => { passed++; console.log(`ok ${what}`); };
const fail = (what) => { failed++; console.log(`FAIL ${what}`); };
const check = (cond, what) => (cond ? ok(what) : fail(what));

const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

// 1. Valid OpenAPI 3.1 (validate() dereferences a copy).
try {
    await SwaggerParser.validate(structuredClone(doc));
    ok('swagger-parser validates the document');
} catch (e) {
    fail(`swagger-parser: ${e.message}`);
}
check(doc.openapi.startsWith('3.1'), 'openapi is 3.1.x');

// 2. Document <-> compiled routes, both ways, and roles.
const compiled = new Map();
for (const line of fs.readFileSync(routesPath, 'utf8').split('\n').filter(Boolean)) {
    const [method, p, roles] = line.split(' ');
    compiled.set(`${method.toLowerCase()} ${p}`, (roles || '').split(',').sort().join(','));
}
const documented = new Map();
const opIds = new Set();
for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item).filter((k) => METHODS.includes(k) || k === 'head')) {
        const o = item[m];
        documented.set(`${m} ${p}`, o);
        if (opIds.has(o.operationId)) fail(`operationId ${o.operationId} used twice`);
        opIds.add(o.operationId);
        for (const k of ['operationId', 'summary', 'tags', 'responses', 'x-roles'])
            if (!o[k]) fail(`${m} ${p}: no ${k}`);
        if (o['x-roles']?.includes('public') && !(Array.isArray(o.security) && o.security.length === 0))
            fail(`${m} ${p}: public but security is not []`);
    }
}
let undocumented = 0, ghosts = 0, roleDiffs = 0;
for (const [key, roles] of compiled) {
    const o = documented.get(key);
    if (!o) { undocumented++; fail(`route not documented: ${key}`); continue; }
    const doc_roles = [...(o['x-roles'] || [])].sort().join(',');
    if (doc_roles !== roles) { roleDiffs++; fail(`${key}: x-roles ${doc_roles} but the route admits ${roles}`); }
}
for (const key of documented.keys())
    if (!compiled.has(key)) { ghosts++; fail(`documented operation that no route serves: ${key}`); }
check(undocumented === 0, `every compiled route (${compiled.size}) is documented`);
check(ghosts === 0, `every documented operation (${documented.size}) is a compiled route`);
check(roleDiffs === 0, 'x-roles match the compiled roles');
let queryDiffs = 0;
const resolveParam = (p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p);
for (const line of fs.readFileSync(queryPath, 'utf8').split('\n').filter(Boolean)) {
    const [method, p, q] = line.split(' ');
    const o = documented.get(`${method.toLowerCase()} ${p}`);
    if (!o) continue;
    const want = q === '-' ? '' : q.split(',').sort().join(',');
    const params = [...(doc.paths[p].parameters || []), ...(o.parameters || [])].map(resolveParam);
    const have = params.filter((x) => x.in === 'query').map((x) => x.name).sort().join(',');
    if (have !== want) { queryDiffs++; fail(`${method} ${p}: documented query ${have || '-'} but the route reads ${want || '-'}`); }
}
check(queryDiffs === 0, 'documented query parameters = the routes\' .query');

// 3. Answers of the real daemon against the documented schemas.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(doc, 'doc');
const pointer = (...parts) => parts.map((s) => String(s).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
const opOf = (opId) => {
    for (const [key, o] of documented) if (o.operationId === opId) return [key.split(' ')[0], key.slice(key.indexOf(' ') + 1), o];
    throw new Error(`no operation ${opId}`);
};
// Every example in the document matches its own schema (request bodies and answers).
let badExamples = 0, examples = 0;
for (const [key, o] of documented) {
    const [m, p] = key.split(' ');
    const media = [];
    for (const [ct, c] of Object.entries(o.requestBody?.content || {}))
        media.push([`doc#/paths/${pointer(p, m, 'requestBody', 'content', ct, 'schema')}`, c, 'request']);
    for (const [status, r] of Object.entries(o.responses || {}))
        for (const [ct, c] of Object.entries(r.content || {}))
            media.push([`doc#/paths/${pointer(p, m, 'responses', status, 'content', ct, 'schema')}`, c, status]);
    for (const [ref, c, what] of media) {
        if (c.example === undefined || !c.schema || c.schema.format === 'binary') continue;
        examples++;
        const v = ajv.getSchema(ref) || ajv.compile({ $ref: ref });
        if (!v(c.example)) { badExamples++; fail(`${key} ${what} example: ${ajv.errorsText(v.errors)}`); }
    }
}
check(badExamples === 0, `the document's ${examples} examples match their schemas`);

// The token of a call: lims when the operation admits it (the LIMS flow), else admin, else
// clinician.
const tokens = { admin: adminToken };
const tokenFor = (opId) => {
    const roles = opOf(opId)[2]['x-roles'];
    return tokens[['lims', 'admin', 'clinician'].find((r) => roles.includes(r) && tokens[r])] || adminToken;
};
const resolveResponse = (r) => (r && r.$ref ? doc.components.responses[r.$ref.split('/').pop()] : r);

// Sends one operation; vars fill {x} path parameters; body defaults to the documented example.
async function call(opId, { vars = {}, query = '', body, token = tokenFor(opId), expect } = {}) {
    const [method, template, o] = opOf(opId);
    const url = baseUrl + template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(vars[k])) + query;
    const media = o.requestBody?.content?.['application/json'];
    const sent = body !== undefined ? body : media?.example;
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    if (sent !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method: method.toUpperCase(), headers, body: sent !== undefined ? JSON.stringify(sent) : undefined });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* checked below */ }
    const what = `${opId} ${method.toUpperCase()} ${template}${query} -> ${res.status}`;
    const documentedResponse = resolveResponse(o.responses[String(res.status)]);
    if (expect && res.status !== expect) fail(`${what}: expected ${expect}: ${text.slice(0, 300)}`);
    if (!documentedResponse) { fail(`${what}: status not documented`); return { res, json }; }
    const schemaRef = o.responses[String(res.status)].$ref
        ? `doc#/components/responses/${pointer(o.responses[String(res.status)].$ref.split('/').pop(), 'content', 'application/json', 'schema')}`
        : `doc#/paths/${pointer(template, method, 'responses', res.status, 'content', 'application/json', 'schema')}`;
    if (!documentedResponse.content?.['application/json']) { ok(what); return { res, json }; }
    const validate = ajv.getSchema(schemaRef) || ajv.compile({ $ref: schemaRef });
    if (json !== null && validate(json)) ok(`${what} matches its schema`);
    else fail(`${what}: ${json === null ? 'not JSON' : ajv.errorsText(validate.errors)}: ${text.slice(0, 300)}`);
    if ([201, 202].includes(res.status) && documentedResponse.headers?.Location)
        check(res.headers.get('location'), `${what} has a Location header`);
    return { res, json };
}

// The LIMS flow of docs/api.md with the documented examples, as a lims token (operations the lims
// role may not use, such as clinical records since the viewer/clinician split, as admin).
for (const role of ['lims', 'clinician'])
    tokens[role] = (await call('createToken', { token: adminToken, body: { role, label: `openapi ${role}` }, expect: 201 })).json?.token;
const patient = (await call('createPatient', { expect: 201 })).json;
await call('getPatient', { vars: { id: patient?.id }, expect: 200 });
await call('updatePatient', { vars: { id: patient?.id }, expect: 200 });
await call('getPatientByExternalId', { vars: { external_id: patient?.external_id }, expect: 200 });
await call('createTreatment', { vars: { id: patient?.id }, expect: 201 });
await call('createClinicalEvent', { vars: { id: patient?.id }, expect: 201 });
const sample = (await call('createSample', { vars: { id: patient?.id }, expect: 201 })).json;
await call('registerSample', { expect: 201 });
await call('getSample', { vars: { accession: sample?.accession }, expect: 200 });
const upload = await call('putDdpcr', { vars: { accession: sample?.accession }, expect: 202 });
check(upload.res.headers.get('location') === upload.json?.job_url, 'the upload\'s Location is its job_url');
let job = upload.json?.job;
for (let i = 0; i < 100 && job && !['done', 'failed'].includes(job.state); i++) {
    await new Promise((r) => setTimeout(r, 100));
    job = (await call('getJob', { vars: { id: job.id }, expect: 200 })).json;
}
check(job?.state === 'done', `the ddPCR job ends done (${job?.state} ${job?.error ?? ''})`);
await call('listJobs', { query: `?sample=${encodeURIComponent(sample?.accession)}&limit=5`, expect: 200 });
await call('getProfile', { vars: { accession: sample?.accession }, expect: 200 });
await call('getTrend', { vars: { id: patient?.id }, expect: 200 });
await call('listSamples', { query: '?updated_since=2020-01-01T00:00:00Z&limit=1', expect: 200 });
await call('listResults', { query: '?updated_since=2020-01-01T00:00:00Z', expect: 200 });
await call('listPatientSamples', { vars: { id: patient?.id }, expect: 200 });
// Errors have the documented shape too.
await call('listJobs', { query: '?nonsense=1', expect: 422 });
await call('getPatient', { vars: { id: 999999 }, expect: 404 });
// Every GET without path parameters, as admin.
for (const [key, o] of documented) {
    const [m, p] = key.split(' ');
    if (m === 'get' && !p.includes('{')) await call(o.operationId, { token: o['x-roles'].includes('public') ? null : adminToken, expect: 200 });
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
