// What the admin API's tests share: the OpenAPI document's checker. An
// answer conforms when the document lists its status for the operation and
// the body matches the schema given there; each operation seen conforming
// is remembered, for "every documented endpoint was called".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020Mod from 'ajv/dist/2020.js';
import addFormatsMod from 'ajv-formats';
import { ROOT, EVERYTHING, freePort } from './lib.mjs';

const Ajv2020 = Ajv2020Mod.default || Ajv2020Mod;
const addFormats = addFormatsMod.default || addFormatsMod;

// doc (GET /admin/v1/openapi.json's body), validated as OpenAPI 3.1, and
// its checker: { conforms(method, path, r), isError(r), checked, ajv }.
export async function openapiChecker(doc) {
  const validator = new Validator();
  const res = await validator.validate(doc);
  assert.ok(res.valid, JSON.stringify(res.errors));
  assert.equal(validator.version, '3.1');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // the document itself, so that "#/components/..." resolves as "doc#/components/..."
  ajv.addSchema(JSON.parse(JSON.stringify(doc).replaceAll('"#/components/', '"doc#/components/')), 'doc');
  const checked = new Set(); // "METHOD /template" seen answering as documented

  // The documented path template path matches (its {name} segments any one segment).
  function templateOf(path) {
    const bare = path.split('?')[0];
    for (const t of Object.keys(doc.paths)) {
      const re = new RegExp('^' + t.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$');
      if (re.test(bare)) return t;
    }
    return null;
  }

  function conforms(method, path, r) {
    const t = templateOf(path);
    assert.ok(t, `${path} is not in the document`);
    const o = doc.paths[t][method.toLowerCase()];
    assert.ok(o, `${method} ${t} is not in the document`);
    let resp = o.responses[String(r.status)];
    assert.ok(resp, `${method} ${t} answered ${r.status}, not documented: ${r.text}`);
    if (resp.$ref) resp = doc.components.responses[resp.$ref.split('/').pop()];
    const type = (r.headers.get('content-type') || '').split(';')[0];
    if (type !== 'application/json' && resp.content?.[type]) { // a file (a backup, YAML): a documented type, a body
      assert.ok(r.bytes?.length > 0 || r.text.length > 0, `${method} ${t} ${r.status}: an empty body`);
      checked.add(`${method} ${t}`);
      return r;
    }
    const schema = resp.content?.['application/json']?.schema;
    assert.ok(schema, `${method} ${t} ${r.status} has no JSON schema`);
    const v = ajv.compile({ $ref: 'doc' + (schema.$ref || ''), ...(schema.$ref ? {} : schema) });
    assert.ok(v(r.json), `${method} ${t} ${r.status}: ${JSON.stringify(v.errors)}\n${r.text}`);
    checked.add(`${method} ${t}`);
    return r;
  }

  // An error answer outside the documented operations must still have the one error shape.
  function isError(r) {
    const v = ajv.getSchema('doc#/components/schemas/Error');
    assert.ok(v(r.json), `${JSON.stringify(v.errors)}\n${r.text}`);
    return r;
  }
  return { conforms, isError, checked, ajv };
}

// fetch base + path as METHOD with a bearer key and a JSON body: { status, headers, text, json, bytes }.
export async function adminCall(base, method, path, { key, body, raw, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  if (body !== undefined || raw !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(base + path, { method, headers: h, body: raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined });
  const bytes = Buffer.from(await r.arrayBuffer());
  const text = bytes.toString('utf8');
  let json = null;
  try { json = JSON.parse(text); } catch { /* checked by the caller */ }
  return { status: r.status, headers: r.headers, text, json, bytes };
}

// server-everything over Streamable HTTP on a free loopback port, for
// registering through the admin API: { port, url, stop() }.
export async function startHttpEverything() {
  const port = await freePort();
  const child = spawn('node', ['-r', join(ROOT, 'tests/fixtures/loopback-only.cjs'), EVERYTHING, 'streamableHttp'],
    { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('upstream did not start')), 20000);
    child.stderr.on('data', (d) => { if (/listening/i.test(d.toString())) { clearTimeout(t); res(); } });
  });
  return { port, url: `http://127.0.0.1:${port}/mcp`, stop: () => child.kill('SIGTERM') };
}
