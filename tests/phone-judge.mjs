// Judges card codes with the phone station's rules, the WebAssembly the server serves, as the
// phone station's page calls it: load the roster, then for each code judge it and record it.
//   node tests/phone-judge.mjs phone.wasm roster.json batch.json
// batch.json: { program_id, service_type_ids, codes: [...] }. Prints the verdicts as JSON, and
// the answers to requests that must be refused.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

const [wasmPath, rosterPath, batchPath] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const x = instance.exports;
function call(kind, text) {
  const bytes = new TextEncoder().encode(text);
  const at = x.input_buffer(bytes.length);
  new Uint8Array(x.memory.buffer, at, bytes.length).set(bytes);
  const n = x.call(kind);
  return JSON.parse(new TextDecoder().decode(new Uint8Array(x.memory.buffer, x.output_buffer(), n)));
}
// The organization's local time, as the phone's page computes it.
function localNow(timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(new Date());
  const p = Object.fromEntries(parts.map((q) => [q.type, q.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

const batch = JSON.parse(readFileSync(batchPath, "utf8"));
const refused = [];
refused.push(call(4, JSON.stringify({ code: "1", program_id: 1, service_type_ids: [1], batch_date: "2026-01-01", at: "2026-01-01T12:00:00" })));
refused.push(call(1, "{ not json"));
const rosterText = readFileSync(rosterPath, "utf8");
const loaded = call(1, rosterText);
const timeZone = JSON.parse(rosterText).organization.time_zone;
refused.push(call(4, JSON.stringify({ code: "1", program_id: 999, service_type_ids: [1], batch_date: "2026-01-01", at: "2026-01-01T12:00:00" })));
refused.push(call(9, "{}"));
const verdicts = [];
for (const code of batch.codes) {
  const at = localNow(timeZone);
  const v = call(4, JSON.stringify({ code, program_id: batch.program_id, service_type_ids: batch.service_type_ids, batch_date: at.slice(0, 10), at }));
  if (v.error) throw new Error(v.error);
  call(5, JSON.stringify({ uuid: randomUUID(), client_id: v.client_id, program_id: batch.program_id, service_type_ids: batch.service_type_ids, service_date: v.service_date, verdict: v.verdict, bed_id: v.bed_id }));
  verdicts.push({ code, verdict: v.verdict, client_id: v.client_id, display_name: v.display_name, label: v.label });
}
console.log(JSON.stringify({ loaded, refused, verdicts }));
