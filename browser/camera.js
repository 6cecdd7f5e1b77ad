"use strict";
// Scan with camera (DESIGN §17). A button opens the device's camera (the rear one on a phone),
// and each card code read off the picture is handed to the page's own code path, the one a
// typed code takes: the same verdict, sound and double-read guard follow. A card held in view
// is one read: the same code is read again only after it was out of view for `HOLD_MS`.
// The browser's own barcode detector is used where it reads both of a card's symbols;
// elsewhere the reader shipped with Scanline, as WebAssembly. Frames never leave the page.
window.ScanlineCamera = (function () {
  const HOLD_MS = 2000;
  const EVERY_MS = 120;
  const FORMATS = ["code_128", "qr_code"];

  async function nativeDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!FORMATS.every((f) => formats.includes(f))) return null;
      const d = new window.BarcodeDetector({ formats: FORMATS });
      return async (video) => { const found = await d.detect(video); return found.length ? found[0].rawValue : ""; };
    } catch (e) { return null; }
  }

  // The few WASI calls the reader makes (the clock, random seeds, an empty environment, and
  // a message should it fail), answered in the page: it has no files and no network.
  function wasi(memory) {
    const view = () => new DataView(memory().buffer);
    return {
      clock_time_get: (_id, _precision, at) => { view().setBigUint64(at, BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)), true); return 0; },
      random_get: (at, len) => { const b = new Uint8Array(memory().buffer, at, len); for (let i = 0; i < len; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536)); return 0; },
      environ_sizes_get: (count, size) => { view().setUint32(count, 0, true); view().setUint32(size, 0, true); return 0; },
      environ_get: () => 0,
      fd_write: (_fd, iovs, n, written) => {
        const v = view(); let total = 0, text = "";
        for (let i = 0; i < n; i++) { const at = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true); text += new TextDecoder().decode(new Uint8Array(memory().buffer, at, len)); total += len; }
        if (text.trim()) console.error("card reader: " + text.trim());
        v.setUint32(written, total, true); return 0;
      },
      proc_exit: (code) => { throw new Error("the card reader stopped (" + code + ")"); },
    };
  }

  async function shippedReader(url) {
    let memory = null;
    const { instance } = await WebAssembly.instantiateStreaming(fetch(url), { wasi_snapshot_preview1: wasi(() => memory) });
    const x = instance.exports;
    memory = x.memory;
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const words = new TextDecoder();
    return async (video) => {
      const w = video.videoWidth, h = video.videoHeight;
      if (!w || !h) return "";
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
      ctx.drawImage(video, 0, 0, w, h);
      const pixels = ctx.getImageData(0, 0, w, h).data;
      const at = x.frame_buffer(w * h);
      if (!at) return "";
      new Uint8Array(x.memory.buffer, at, pixels.length).set(pixels);
      const n = x.read_frame(w, h);
      return n ? words.decode(new Uint8Array(x.memory.buffer, x.text_buffer(), n)) : "";
    };
  }

  // opts: button, video, status (an element for one line of state), reader (the .wasm URL),
  // onCode(code), and optionally labels { start, stop } and say(words) for the status line.
  function attach(opts) {
    const labels = Object.assign({ start: "Scan with camera", stop: "Stop camera", on: "Camera on: hold a card in view", https: "The camera needs a secure connection (HTTPS): see the README", denied: "The camera could not be opened: " }, opts.labels || {});
    let stream = null, timer = 0, read = null, last = "", lastSeen = 0;
    const say = (t) => { if (opts.status) opts.status.textContent = t; };
    opts.button.textContent = labels.start;
    async function tick() {
      if (!stream) return;
      try {
        const code = await read(opts.video);
        const now = performance.now();
        if (code) {
          if (code !== last || now - lastSeen > HOLD_MS) { last = code; opts.onCode(code); }
          lastSeen = now;
        }
      } catch (e) { /* a frame that could not be read is skipped */ }
      if (stream) timer = setTimeout(tick, EVERY_MS);
    }
    async function start() {
      if (!window.isSecureContext || !navigator.mediaDevices) { say(labels.https); return; }
      try {
        read = read || (await nativeDetector()) || (await shippedReader(opts.reader));
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
      } catch (e) { stream = null; say(labels.denied + e.message); return; }
      opts.video.srcObject = stream; opts.video.hidden = false;
      await opts.video.play().catch(() => {});
      opts.button.textContent = labels.stop; opts.button.setAttribute("aria-pressed", "true");
      say(labels.on); last = ""; tick();
    }
    function stop() {
      clearTimeout(timer);
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null; opts.video.srcObject = null; opts.video.hidden = true;
      opts.button.textContent = labels.start; opts.button.setAttribute("aria-pressed", "false");
      say("");
    }
    opts.button.setAttribute("aria-pressed", "false");
    opts.button.addEventListener("click", () => (stream ? stop() : start()));
    // New words for the button (the page changed language).
    function relabel(words) { Object.assign(labels, words); opts.button.textContent = stream ? labels.stop : labels.start; }
    return { stop, relabel, on: () => stream !== null };
  }
  return { attach };
})();
