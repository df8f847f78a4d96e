// Which in-tab backend runs, and why: ONNX Runtime Web on WebGPU where the browser offers a real
// (hardware) adapter, llama.cpp on WebAssembly (wllama) otherwise. A software adapter
// (SwiftShader, `isFallbackAdapter`) runs WebGPU on the CPU, slower than WebAssembly, so it
// does not count, unless the page address forces WebGPU (?in_tab=webgpu, for tests).

export async function probeWebGpu() {
  if (!('gpu' in navigator)) return { adapter: null, fallback: false, name: '', problem: 'this browser has no WebGPU' };
  let adapter = null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { adapter: null, fallback: false, name: '', problem: `the WebGPU adapter request failed (${err.message})` };
  }
  if (!adapter) return { adapter: null, fallback: false, name: '', problem: 'WebGPU is present but offers no adapter (no usable GPU)' };
  const info = adapter.info || {};
  const fallback = Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter);
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { adapter, fallback, name, problem: '' };
}

// description: the app's `in_tab` config; gpu: probeWebGpu(); forced: 'webgpu' | 'wasm' | null.
export function chooseBackend(description, gpu, forced) {
  const webgpu = description.webgpu || { available: false, reason: 'the app offers no WebGPU model' };
  const wasm = { backend: 'wasm', label: 'WebAssembly (llama.cpp, wllama)' };
  if (forced === 'wasm') return { ...wasm, why: 'forced by the page address (?in_tab=wasm)' };
  if (!webgpu.available) return { ...wasm, why: `no WebGPU model: ${webgpu.reason}` };
  if (!gpu.adapter) return { ...wasm, why: gpu.problem };
  const gpuChoice = { backend: 'webgpu', label: `WebGPU (ONNX Runtime Web) on ${gpu.name}` };
  if (forced === 'webgpu') return { ...gpuChoice, why: `forced by the page address (?in_tab=webgpu)${gpu.fallback ? ' on a software adapter' : ''}` };
  if (gpu.fallback) return { ...wasm, why: `the only WebGPU adapter (${gpu.name}) is a software fallback, slower than WebAssembly` };
  return { ...gpuChoice, why: 'a hardware WebGPU adapter is present' };
}

export function forcedBackend(search = location.search) {
  const value = new URLSearchParams(search).get('in_tab');
  return value === 'webgpu' || value === 'wasm' ? value : null;
}
