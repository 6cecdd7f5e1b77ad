"use strict";
// The phone station (DESIGN §17.3). The phone registers once as a station of the signed-in
// staff member's organization, keeps the roster and every scan in the browser's storage
// (IndexedDB), judges each scan with scanline-core compiled to WebAssembly (/static/phone.wasm),
// keeps the scan before it shows the verdict, and uploads through the station API with the
// scan's own UUID, so a retried upload never doubles an entry. A service worker serves the page
// with the network gone. Leaving the station, or the station's token being revoked, clears
// what the phone holds.
(function () {
  const $ = (id) => document.getElementById(id);
  const DEBOUNCE_MS = 1500;
  const SYNC_MS = 5000;
  const PROTOCOL = { "x-scanline-protocol": "1" };

  // --- Storage: one database, a key-value store and the scans by UUID.
  let db = null;
  function openDb() {
    return new Promise((ok, fail) => {
      const r = indexedDB.open("scanline-station", 1);
      r.onupgradeneeded = () => { r.result.createObjectStore("kv"); r.result.createObjectStore("scans", { keyPath: "uuid" }); };
      r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
    });
  }
  function tx(store, mode, work) {
    return new Promise((ok, fail) => {
      const t = db.transaction(store, mode); const s = t.objectStore(store); let out;
      const r = work(s); if (r) r.onsuccess = () => { out = r.result; };
      t.oncomplete = () => ok(out); t.onerror = () => fail(t.error); t.onabort = () => fail(t.error);
    });
  }
  const kvGet = (k) => tx("kv", "readonly", (s) => s.get(k));
  const kvPut = (k, v) => tx("kv", "readwrite", (s) => s.put(v, k));
  const allScans = () => tx("scans", "readonly", (s) => s.getAll());
  const putScan = (scan) => tx("scans", "readwrite", (s) => s.put(scan));
  async function clearAll() { await tx("kv", "readwrite", (s) => s.clear()); await tx("scans", "readwrite", (s) => s.clear()); }

  // --- The rules, as WebAssembly.
  let rules = null;
  async function loadRules() {
    const { instance } = await WebAssembly.instantiateStreaming(fetch("/static/phone.wasm"), {});
    rules = instance.exports;
  }
  function call(kind, body) {
    const bytes = new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
    const at = rules.input_buffer(bytes.length);
    if (!at) throw new Error("the request is too large");
    new Uint8Array(rules.memory.buffer, at, bytes.length).set(bytes);
    const n = rules.call(kind);
    return JSON.parse(new TextDecoder().decode(new Uint8Array(rules.memory.buffer, rules.output_buffer(), n)));
  }

  // --- State.
  let station = null; // { station_id, name, token, program_id, service_type_ids }
  let timeZone = "UTC";
  let scans = []; // every scan of this phone, oldest first
  let batch = null; // { uuid, service_date, created }
  let link = "starting";
  let last = { code: "", at: 0 };

  function localNow() {
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(new Date());
    const p = Object.fromEntries(parts.map((q) => [q.type, q.value]));
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
  }
  const asScan = (s) => ({ uuid: s.uuid, client_id: s.client_id, program_id: s.program_id, service_type_ids: s.service_type_ids, service_date: s.service_date, verdict: s.server_verdict || s.verdict, deleted: false, bed_id: s.bed_id });

  // --- Words, in English or Spanish (the choice is kept on the phone).
  const WORDS = {
    en: { setup: "Make this phone a station", records: "What this phone records", start: "Start station", card: "Card number", post: "Post Services", leave: "Sign out of this station", scans: "Scans", time: "Time", verdict: "Verdict", name: "Name", camera: "Scan with camera", stopCamera: "Stop camera", ready: "Ready", scanCard: "Scan a card", online: "● Online", offline: "✖ Offline: scans are kept", starting: "… Starting", other: "Español", bed: "Bed ",
      count: (n, w) => n + (n === 1 ? " scan, " : " scans, ") + w + " not sent yet" },
    es: { setup: "Convertir este teléfono en estación", records: "Qué registra este teléfono", start: "Iniciar estación", card: "Número de tarjeta", post: "Registrar servicios", leave: "Salir de esta estación", scans: "Escaneos", time: "Hora", verdict: "Resultado", name: "Nombre", camera: "Escanear con la cámara", stopCamera: "Apagar la cámara", ready: "Listo", scanCard: "Escanee una tarjeta", online: "● En línea", offline: "✖ Sin conexión: los escaneos se guardan", starting: "… Iniciando", other: "English", bed: "Cama ",
      count: (n, w) => n + (n === 1 ? " escaneo, " : " escaneos, ") + w + " sin enviar",
      verdicts: { accepted: "OK", misread: "Lectura fallida: escanee otra vez", unknown_card: "Tarjeta desconocida", replaced_card: "Tarjeta reemplazada", expired_card: "Tarjeta vencida", barred: "Suspendido: vea al personal", no_open_enrollment: "Sin inscripción abierta", queued_for_intake: "En espera de admisión", duplicate: "Ya recibió el servicio", frequency_limit: "Límite de visitas alcanzado", capacity_full: "Albergue lleno", see_staff: "Vea al personal: alerta de seguridad", bed_taken: "Cama dada dos veces" } },
  };
  let lang = localStorage.getItem("scanline-lang") === "es" ? "es" : "en";
  const t = (k) => WORDS[lang][k];
  const labelOf = (s) => (lang === "es" && WORDS.es.verdicts[s.verdict]) || s.label;
  function applyWords() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    const other = $("lang"); other.textContent = t("other"); other.lang = lang === "es" ? "en" : "es";
    if (camera) camera.relabel({ start: t("camera"), stop: t("stopCamera") });
    if (station) { setLink(link); render(); if (shown) show(shown, true); }
  }
  // The icons ship with the page, so a phone without an emoji font shows them too.
  const SVG = (body) => '<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">' + body + "</svg>";
  const ICONS = {
    ok: SVG('<path d="M4 12.5l5 5L20 6.5" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>'),
    retry: SVG('<path d="M19 12a7 7 0 1 1-2.05-4.95" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round"/><path d="M20 3.5v5h-5" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>'),
    stop: SVG('<path d="M8 2h8l6 6v8l-6 6H8l-6-6V8z" fill="currentColor"/><path d="M7 12h10" stroke="#fff" stroke-width="3" stroke-linecap="round"/>'),
  };
  let camera = null, shown = null;

  function say(el, words) { $(el).textContent = words; }
  function setLink(state) {
    link = state;
    say("link", t(state) || state); $("link").className = state === "online" ? "good" : "bad";
  }

  // --- The station API, with the phone's token.
  async function api(method, path, body) {
    const headers = Object.assign({ authorization: "Bearer " + station.token }, PROTOCOL);
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    if (r.status === 401) { await revoked(); throw new Error("revoked"); }
    return r;
  }
  async function revoked() {
    await clearAll(); station = null; scans = [];
    showSetup("This phone is no longer a station (it was revoked or signed out). What it held is cleared.");
  }

  async function fetchRoster() {
    const r = await api("GET", "/api/v1/roster");
    if (!r.ok) throw new Error("roster " + r.status);
    const text = await r.text();
    const answer = call(1, text);
    if (answer.error) throw new Error(answer.error);
    timeZone = JSON.parse(text).organization.time_zone;
    await kvPut("roster", text);
    return answer;
  }

  // --- Scans.
  function render() {
    const sent = scans.filter((s) => s.sent).length;
    say("counts", t("count")(scans.length, scans.length - sent));
    const body = $("entries"); body.replaceChildren();
    for (const s of scans.slice(-50).reverse()) {
      const tr = document.createElement("tr"); tr.dataset.verdict = s.server_verdict || s.verdict;
      for (const text of [s.time, labelOf(s), s.display_name]) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
      body.appendChild(tr);
    }
  }
  function show(v, quiet) {
    shown = v;
    const b = $("banner"); b.className = v.class;
    const icon = b.querySelector(".icon"); icon.innerHTML = ICONS[v.class] || ""; icon.dataset.icon = v.class;
    b.querySelector(".label").textContent = labelOf(v); b.querySelector(".name").textContent = v.display_name || "";
    b.querySelector(".detail").textContent = (v.bed_name ? t("bed") + v.bed_name + ". " : "") + (v.detail || "");
    if (!quiet) sound(v.class);
  }
  let audio = null;
  function tone(f, ms, at) { const o = audio.createOscillator(), g = audio.createGain(); o.frequency.value = f; g.gain.value = 0.25; o.connect(g); g.connect(audio.destination); const t = audio.currentTime + (at || 0); o.start(t); o.stop(t + ms / 1000); }
  function sound(cls) { try { audio = audio || new AudioContext(); if (cls === "ok") { tone(880, 110); tone(1320, 140, 0.13); } else if (cls === "retry") tone(600, 180); else tone(220, 550); } catch (e) { /* no sound */ } }

  async function currentBatch() {
    const today = localNow().slice(0, 10);
    if (batch && batch.service_date === today) return batch;
    batch = { uuid: crypto.randomUUID(), service_date: today, created: false };
    await kvPut("batch", batch);
    return batch;
  }

  // Scans are judged one after another: each sees the one before it.
  let queue = Promise.resolve();
  function enqueue(text) { queue = queue.then(() => scan(text)).catch((e) => show({ class: "retry", label: "Not recorded: scan again", display_name: "", detail: String(e) })); }

  async function scan(text) {
    const code = text.trim(); if (!code) return;
    const now = Date.now();
    // The same card read again at once is one read (a double read), as at a station.
    if (code === last.code && now - last.at < DEBOUNCE_MS) return;
    last = { code, at: now };
    const b = await currentBatch();
    const at = localNow();
    const v = call(4, { code, program_id: station.program_id, service_type_ids: station.service_type_ids, batch_date: b.service_date, at });
    if (v.error) { show({ class: "retry", label: "Not recorded: scan again", display_name: "", detail: v.error }); return; }
    const s = { uuid: crypto.randomUUID(), batch_uuid: b.uuid, code, scanned_at: new Date(now).toISOString(), time: at.slice(11, 16), program_id: station.program_id, service_type_ids: station.service_type_ids, service_date: v.service_date, verdict: v.verdict, label: v.label, client_id: v.client_id, display_name: v.display_name, bed_id: v.bed_id, sent: false };
    // Kept before it is shown: a verdict on the screen is a scan in storage.
    await putScan(s);
    scans.push(s); call(5, asScan(s));
    show(v); render(); sync();
  }

  // --- Upload, when the network lets it.
  let syncing = false;
  async function sync() {
    if (syncing || !station) return; syncing = true;
    try {
      const waiting = scans.filter((s) => !s.sent);
      const batches = [...new Set(waiting.map((s) => s.batch_uuid))];
      for (const uuid of batches) {
        const mine = waiting.filter((s) => s.batch_uuid === uuid);
        const b = batch && batch.uuid === uuid ? batch : { uuid, service_date: mine[0].service_date, created: false };
        if (!b.created) {
          const r = await api("POST", "/api/v1/batches", { uuid, program_id: station.program_id, service_type_ids: station.service_type_ids, service_date: b.service_date });
          if (!r.ok && r.status !== 409) throw new Error("batch " + r.status);
          b.created = true; if (batch && batch.uuid === uuid) await kvPut("batch", batch);
        }
        for (let i = 0; i < mine.length; i += 500) {
          const part = mine.slice(i, i + 500);
          const entries = part.map((s) => { const e = { uuid: s.uuid, code: s.code, scanned_at: s.scanned_at, station_verdict: s.verdict }; if (s.bed_id != null) e.bed_id = s.bed_id; return e; });
          const r = await api("POST", "/api/v1/batches/" + uuid + "/entries", { entries });
          if (!r.ok) throw new Error("upload " + r.status);
          const answer = await r.json();
          for (const ev of answer.entries) {
            const s = scans.find((x) => x.uuid === ev.uuid); if (!s) continue;
            s.sent = true; s.server_verdict = ev.verdict; await putScan(s); call(5, asScan(s));
          }
        }
      }
      setLink("online");
    } catch (e) { if (e.message !== "revoked") setLink("offline"); }
    finally { syncing = false; if (station) render(); }
  }

  async function post() {
    await sync();
    if (scans.some((s) => !s.sent)) { say("said", "Not posted: some scans are not sent yet. Connect, then try again."); return; }
    try {
      const r = await api("POST", "/api/v1/batches/" + batch.uuid + "/post");
      if (!r.ok) throw new Error("post " + r.status);
      const p = await r.json();
      say("said", "Posted now: " + p.posted + ". Already posted: " + p.already_posted + ". Kept for review: " + p.flagged.length + ".");
    } catch (e) { if (e.message !== "revoked") say("said", "Not posted: the server cannot be reached. Try again when online."); }
  }

  async function leave() {
    await sync();
    const unsent = scans.filter((s) => !s.sent).length;
    if (unsent > 0) { say("said", unsent + " scans are not sent yet: connect before leaving, so none is lost."); return; }
    await clearAll(); station = null; scans = []; batch = null;
    await fetch("/station/start", { cache: "no-store" }).then((r) => r.ok ? r.json() : null).then((me) => {
      if (!me) return;
      const body = new URLSearchParams({ csrf: me.csrf });
      return fetch("/logout", { method: "POST", body });
    }).catch(() => {});
    showSetup("This phone is no longer a station. What it held is cleared.");
  }

  // --- Setting up.
  async function showSetup(words) {
    $("scanning").hidden = true; $("setup").hidden = false; say("setup-said", words || ""); say("station-name", "");
    let me = null;
    try { const r = await fetch("/station/start", { cache: "no-store", headers: { accept: "application/json" } }); if (r.ok && (r.headers.get("content-type") || "").includes("json")) me = await r.json(); } catch (e) { /* offline */ }
    $("signin").hidden = !!me; $("start").hidden = !me;
    if (!me) return;
    const sel = $("service"); sel.replaceChildren();
    for (const c of me.choices) { const o = document.createElement("option"); o.value = c.value; o.textContent = c.label; sel.appendChild(o); }
    $("start").onsubmit = async (ev) => {
      ev.preventDefault();
      const r = await fetch("/station/start", { method: "POST", body: new URLSearchParams({ csrf: me.csrf, service: sel.value }), headers: { accept: "application/json" } });
      if (!r.ok) { say("setup-said", "The station could not be started (" + r.status + ")."); return; }
      station = await r.json();
      await kvPut("station", station);
      await begin();
    };
  }

  async function begin() {
    $("setup").hidden = true; $("scanning").hidden = false; say("station-name", station.name);
    const held = await kvGet("roster");
    if (held) { call(1, held); timeZone = JSON.parse(held).organization.time_zone; }
    try { await fetchRoster(); setLink("online"); } catch (e) { if (!station) return; setLink("offline"); }
    if (!held && !(await kvGet("roster"))) say("said", "No roster yet: connect once so the phone can check cards.");
    batch = (await kvGet("batch")) || null;
    scans = (await allScans()).sort((a, b) => a.scanned_at < b.scanned_at ? -1 : a.scanned_at > b.scanned_at ? 1 : 0);
    call(3, scans.map(asScan));
    render(); $("code").focus();
    setInterval(() => { sync(); }, SYNC_MS);
    setInterval(() => { if (link === "online") fetchRoster().catch(() => {}); }, 60000);
    window.addEventListener("online", sync);
    sync();
  }

  async function main() {
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/station/sw.js", { scope: "/station/" }).catch(() => {});
    db = await openDb();
    await loadRules();
    $("manual").onsubmit = (ev) => { ev.preventDefault(); const i = $("code"); const c = i.value; i.value = ""; enqueue(c); };
    $("post").onclick = post; $("leave").onclick = leave;
    if (window.ScanlineCamera) camera = window.ScanlineCamera.attach({ button: $("camera"), video: $("camera-view"), status: $("camera-state"), reader: "/static/reader.wasm", onCode: enqueue, labels: { start: t("camera"), stop: t("stopCamera") } });
    $("lang").onclick = () => { lang = lang === "es" ? "en" : "es"; localStorage.setItem("scanline-lang", lang); applyWords(); };
    applyWords();
    station = (await kvGet("station")) || null;
    if (station) await begin(); else await showSetup();
    document.body.dataset.ready = "1";
  }
  main();
})();
