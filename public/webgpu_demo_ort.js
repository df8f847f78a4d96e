// The in-tab WebGPU engine: ONNX Runtime Web running the app's ONNX conversion of the in-tab
// model on the WebGPU backend. The app tokenizes the prompt (the same chat template as its own
// ONNX engine); this tab runs the model token by token, keeps the KV cache on the GPU, and turns
// token ids back into text with the model's byte-level BPE vocabulary. The model files are kept
// in the browser's Cache Storage after the first load (their URLs change with the files).

const CACHE_NAME = 'ragstage-in-tab-models';

function byteDecoder() {
  // GPT-2 byte-level BPE: every byte is one printable character in the vocabulary.
  const printable = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Map(printable.map((b) => [String.fromCharCode(b), b]));
  let extra = 0;
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) table.set(String.fromCharCode(256 + extra++), b);
  return table;
}

export class TokenText {
  constructor(tokenizer) {
    this.pieces = [];
    for (const [piece, id] of Object.entries(tokenizer.model.vocab)) this.pieces[id] = piece;
    this.special = new Set(tokenizer.added_tokens.filter((t) => t.special).map((t) => t.id));
    this.bytes = byteDecoder();
    this.decoder = new TextDecoder('utf-8');
  }

  // The text of one more token; a character split across tokens appears when it is complete.
  next(id) {
    if (this.special.has(id)) return '';
    const piece = this.pieces[id] || '';
    return this.decoder.decode(Uint8Array.from(piece, (ch) => this.bytes.get(ch) ?? 63), { stream: true });
  }
}

async function cachedBytes(url, onProgress) {
  const cache = 'caches' in self ? await caches.open(CACHE_NAME) : null;
  const hit = cache && await cache.match(url);
  if (hit) return { bytes: new Uint8Array(await hit.arrayBuffer()), cached: true };
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get('Content-Length')) || 0;
  const reader = response.body.getReader();
  const parts = [];
  let loaded = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const part of parts) { bytes.set(part, at); at += part.length; }
  if (cache) await cache.put(url, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
  return { bytes, cached: false };
}

function argmax(values, temperature) {
  if (temperature > 0) {
    let max = -Infinity;
    for (const v of values) if (v > max) max = v;
    const weights = Array.from(values, (v) => Math.exp((v - max) / temperature));
    let pick = Math.random() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) if ((pick -= weights[i]) <= 0) return i;
  }
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export class OrtWebGpuEngine {
  constructor(description, onStatus) {
    this.description = description; // the app's `in_tab.webgpu`
    this.onStatus = onStatus;
    this.session = null;
  }

  async ensureLoaded() {
    if (this.session) return this.info;
    const started = performance.now();
    const d = this.description;
    const ort = await import(d.module_url);
    ort.env.wasm.wasmPaths = { mjs: new URL(d.wasm_module_url, location.href).href, wasm: new URL(d.wasm_url, location.href).href };
    ort.env.wasm.numThreads = 1; // the model runs on the GPU; the CPU side only feeds it
    ort.env.logLevel = 'error'; // ORT warns that it keeps shape ops on the CPU, by design
    const fetched = {};
    let fromCache = true;
    for (const name of ['genai_config.json', 'tokenizer.json', 'model.onnx', 'model.onnx.data']) {
      const got = await cachedBytes(`${d.model_base_url}/${name}`, (loaded, total) => this.onStatus(
        `Loading ${d.model_name} for WebGPU: ${name} ${Math.round((100 * loaded) / (total || d.files[name] || 1))}%`));
      fetched[name] = got.bytes;
      fromCache &&= got.cached;
    }
    const text = (name) => JSON.parse(new TextDecoder().decode(fetched[name]));
    const config = text('genai_config.json').model;
    this.tokens = text('tokenizer.json');
    this.onStatus(`Compiling ${d.model_name} for WebGPU…`);
    const session = await ort.InferenceSession.create(fetched['model.onnx'], {
      executionProviders: ['webgpu'],
      logSeverityLevel: 3,
      externalData: [{ path: 'model.onnx.data', data: fetched['model.onnx.data'] }],
      preferredOutputLocation: Object.fromEntries(
        Array.from({ length: config.decoder.num_hidden_layers }, (_, i) => [[`present.${i}.key`, 'gpu-buffer'], [`present.${i}.value`, 'gpu-buffer']]).flat()),
    });
    this.ort = ort;
    this.layers = config.decoder.num_hidden_layers;
    this.kvShape = [1, config.decoder.num_key_value_heads, 0, config.decoder.head_size];
    this.eos = new Set([config.eos_token_id].flat());
    this.session = session;
    this.info = { backend: 'WebGPU (ONNX Runtime Web)', loadMs: performance.now() - started, fromCache };
    return this.info;
  }

  emptyPast() {
    const past = {};
    for (let i = 0; i < this.layers; i++) {
      for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = new this.ort.Tensor('float32', new Float32Array(0), this.kvShape);
    }
    return past;
  }

  async *generate(inputIds, { maxTokens, temperature, signal }) {
    const { ort, session } = this;
    const text = new TokenText(this.tokens);
    let past = this.emptyPast();
    let ids = inputIds;
    let seen = 0;
    try {
      for (let produced = 0; produced < maxTokens && !signal?.aborted; produced++) {
        seen += ids.length;
        const feeds = {
          input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(seen).fill(1n), [1, seen]),
          ...past,
        };
        const out = await session.run(feeds);
        const [, steps, vocab] = out.logits.dims;
        const logits = (await out.logits.getData()).subarray((steps - 1) * vocab, steps * vocab);
        const next = argmax(logits, temperature);
        for (const tensor of Object.values(past)) tensor.dispose?.();
        past = {};
        for (let i = 0; i < this.layers; i++) {
          past[`past_key_values.${i}.key`] = out[`present.${i}.key`];
          past[`past_key_values.${i}.value`] = out[`present.${i}.value`];
        }
        if (this.eos.has(next)) return;
        ids = [next];
        const piece = text.next(next);
        if (piece) yield piece;
      }
    } finally {
      for (const tensor of Object.values(past)) tensor.dispose?.();
    }
  }
}
