// The in-tab WebAssembly engine: llama.cpp compiled to WebAssembly (@wllama/wllama), served by
// this app, running the bundled SmolLM2 GGUF inside this tab on the CPU (the WebGPU backend is
// webgpu_demo_ort.js). Nothing is fetched from anywhere else: setCompat(null) keeps wllama from
// reaching for a CDN, and the page's CSP allows only 'self'.

const BUFFER_LINE = /(\S+) model buffer size/;

export function backendFromLog(lines) {
  // llama.cpp names the buffers it put the weights in: CPU (WebAssembly) or a GPU backend.
  const buffers = lines.map((line) => BUFFER_LINE.exec(line)).filter(Boolean).map((m) => m[1]);
  if (!buffers.length) return 'unknown (no load_tensors line logged)';
  const gpu = buffers.find((name) => !/^CPU/i.test(name));
  return gpu ? `WebGPU (${gpu} buffer)` : 'WebAssembly (CPU buffer)';
}

export class InTabEngine {
  constructor(description, onStatus) {
    this.description = description;
    this.onStatus = onStatus;
    this.wllama = null;
    this.logLines = [];
    this.info = null;
  }

  logger() {
    const keep = (level) => (...args) => {
      const line = args.map(String).join(' ');
      this.logLines.push(line);
      if (this.logLines.length > 2000) this.logLines.shift();
      if (level === 'warn') console.warn(line);
      if (level === 'error') console.error(line);
    };
    return { debug: keep('debug'), log: keep('log'), warn: keep('warn'), error: keep('error') };
  }

  async ensureLoaded() {
    if (this.wllama) return this.info;
    const started = performance.now();
    const { Wllama } = await import(this.description.module_url);
    const wllama = new Wllama({ default: this.description.wasm_url }, { logger: this.logger() });
    wllama.setCompat(null);
    const threads = crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
    const url = new URL(this.description.model_url, location.href).href;
    await wllama.loadModelFromUrl(url, {
      n_ctx: 2048,
      n_threads: threads,
      n_gpu_layers: 0,
      progressCallback: ({ loaded, total }) => this.onStatus(`Loading ${this.description.model_name}: ${Math.round((100 * loaded) / (total || 1))}%`),
    });
    // The first inference after loading pays one-time costs (wasm tier-up, buffer set-up):
    // pay them here, as part of loading, so the chart shows what each request costs.
    this.onStatus(`Warming up ${this.description.model_name}…`);
    await wllama.createChatCompletion({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1 });
    this.wllama = wllama;
    this.info = {
      backend: backendFromLog(this.logLines),
      threads: wllama.getNumThreads(),
      multithread: wllama.isMultithread(),
      isolated: crossOriginIsolated,
      loadMs: performance.now() - started,
    };
    return this.info;
  }

  async *generate(messages, { maxTokens, temperature, signal }) {
    const stream = await this.wllama.createChatCompletion({
      messages, stream: true, max_tokens: maxTokens, temperature, abortSignal: signal,
    });
    for await (const chunk of stream) {
      const text = chunk.choices?.[0]?.delta?.content;
      if (text) yield text;
    }
  }
}
