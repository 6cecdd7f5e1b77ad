// Runs a test binary built for wasm32-wasip1 under Node.js's WASI, so `cargo test --target
// wasm32-wasip1` runs the core's tests as WebAssembly: the rules the phone station will run.
// Cargo calls it as the target's runner: `node tests/wasi-run.mjs <file.wasm> <test args>`.
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import process from "node:process";

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...args], env: process.env, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
