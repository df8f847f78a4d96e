// ragstage browser page: stream answers from the app's models (server engine) or from a model
// running inside this tab (in-tab engine), and chart what each request cost.
import { LatencyChart, formatMs } from './webgpu_demo_chart.js';
import { chooseBackend, forcedBackend, probeWebGpu } from './webgpu_demo_backend.js';

const API = '/api/webgpu-demo';
const $ = (id) => document.getElementById(id);
const ui = {
  form: $('ask-form'), prompt: $('prompt'), context: $('context'), useKb: $('use-kb'), kbNote: $('kb-note'),
  maxTokens: $('max-tokens'), generate: $('generate'), stop: $('stop'), status: $('status'),
  answer: $('answer'), sources: $('sources'), error: $('error'), engineNote: $('engine-note'),
  privacyNote: $('privacy-note'), clearChart: $('clear-chart'), theme: $('theme-toggle'),
};
const state = { config: null, controller: null, engine: null, backend: null };
const chart = new LatencyChart($('latency-chart'), $('latency-legend'));

const choice = (name) => document.querySelector(`input[name="${name}"]:checked`).value;
const setStatus = (text) => { ui.status.textContent = text; };

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

// With sign-in on, the app answers 401 until this browser has a session (or when it expired).
class SignInRequired extends Error {}

function showSignIn() {
  const link = Object.assign(document.createElement('a'), { id: 'sign-in', href: '/login', textContent: 'Sign in' });
  ui.error.replaceChildren('Sign in first: ', link, ', then come back to this page.');
  ui.error.hidden = false;
}

function showFailure(err, prefix = '') {
  if (err instanceof SignInRequired) showSignIn();
  else showError(`${prefix}${err.message || String(err)}`);
}

async function refusal(response) {
  const detail = await response.json().catch(() => ({}));
  const message = detail.error || `HTTP ${response.status}`;
  return response.status === 401 ? new SignInRequired(message) : new Error(message);
}

function setRunning(running) {
  ui.generate.disabled = running;
  ui.stop.disabled = !running;
  document.body.classList.toggle('running', running);
}

// ---- theme -----------------------------------------------------------------------------
function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  const dark = (theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')) === 'dark';
  ui.theme.textContent = dark ? 'Light theme' : 'Dark theme';
  ui.theme.dataset.next = dark ? 'light' : 'dark';
}
ui.theme.addEventListener('click', () => {
  localStorage.setItem('ragstage-theme', ui.theme.dataset.next);
  applyTheme(ui.theme.dataset.next);
});
applyTheme(localStorage.getItem('ragstage-theme'));
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(localStorage.getItem('ragstage-theme')));

// ---- configuration: served model names, limits, in-tab engine availability ---------------
function modelName(role) {
  const model = state.config?.models?.[role];
  return model?.available ? model.name : role.toUpperCase();
}

function describeModels() {
  const { models } = state.config;
  for (const role of ['slm', 'llm']) {
    const model = models[role];
    $(`label-${role}`).textContent = model.available ? model.name : `unavailable: ${model.error}`;
    $(`mode-${role}`).disabled = !model.available;
  }
  $('label-hybrid').textContent = `${modelName('slm')} drafts → ${modelName('llm')} refines`;
  $('mode-hybrid').disabled = !(models.slm.available && models.llm.available);
}

async function describeEngine() {
  const inTab = state.config.in_tab;
  state.backend = chooseBackend(inTab, await probeWebGpu(), forcedBackend());
  const usable = state.backend.backend === 'webgpu' || inTab.available;
  $('engine-browser').disabled = !usable;
  const name = state.backend.backend === 'webgpu' ? inTab.webgpu.model_name : inTab.model_name;
  $('label-browser').textContent = usable ? `${name}, in this tab` : 'unavailable';
  document.body.dataset.inTabBackend = usable ? state.backend.backend : 'none';
  ui.engineNote.textContent = usable
    ? `In-tab backend: ${state.backend.label}, because ${state.backend.why}.`
    : `In-tab engine unavailable: ${inTab.reason}`;
}

async function loadConfig() {
  setStatus('Asking the app which models it serves…');
  const response = await fetch(`${API}/config`);
  if (!response.ok) throw await refusal(response);
  state.config = await response.json();
  const { limits, knowledge_base: kb } = state.config;
  ui.prompt.maxLength = limits.question_chars;
  ui.context.maxLength = limits.context_chars;
  // No `max` attribute: an out-of-range value would silently block the form; the server caps it.
  ui.maxTokens.title = `The app answers with at most ${limits.max_answer_tokens} tokens.`;
  if (!ui.maxTokens.value) ui.maxTokens.value = String(limits.max_answer_tokens);
  ui.kbNote.textContent = `${kb.documents} documents, ${kb.chunks} passages`;
  describeModels();
  await describeEngine();
  document.body.dataset.ready = 'true';
  setStatus('Ready.');
}

function updateEngineChoice() {
  const inTab = choice('engine') === 'browser';
  ui.privacyNote.hidden = !inTab;
  for (const mode of ['slm', 'llm', 'hybrid']) $(`mode-${mode}`).closest('label').classList.toggle('muted', inTab);
}
document.querySelectorAll('input[name="engine"]').forEach((radio) => radio.addEventListener('change', updateEngineChoice));
ui.useKb.addEventListener('change', () => { ui.context.disabled = ui.useKb.checked; });

// ---- rendering an answer ------------------------------------------------------------------
function stageBlock(stage, title) {
  let block = ui.answer.querySelector(`[data-stage="${stage}"]`);
  if (!block) {
    block = document.createElement('section');
    block.className = 'stage';
    block.dataset.stage = stage;
    block.innerHTML = '<h3></h3><div class="stage-text"></div><p class="stage-metrics"></p>';
    ui.answer.append(block);
  }
  if (title) block.querySelector('h3').textContent = title;
  return block;
}

function showSources(sources) {
  ui.sources.replaceChildren(...sources.map((s) => {
    const item = document.createElement('li');
    item.textContent = `[${s.n}] ${s.title}${s.heading ? ` › ${s.heading}` : ''}`;
    return item;
  }));
}

function showNotCovered(request) {
  // Each refusal names what to change on this page.
  const text = request.use_knowledge_base
    ? 'The knowledge base does not cover this: no passage is relevant enough, so no model was called. '
      + 'Try other words, paste the text that answers it into the reference box instead, or untick the '
      + 'knowledge base and empty the box to ask the model without sources.'
    : 'No passage of the reference documents shares a word with the question, so no model was called. '
      + 'Use words from the text in the question, paste the text that answers it, or empty the box to ask '
      + 'the model without sources.';
  stageBlock('answer', 'no model called').querySelector('.stage-text').textContent = text;
}

function noteIfUngrounded(sources) {
  // A plain question (no reference text, no knowledge base) is answered without sources: say so.
  if (sources.length) return;
  const note = Object.assign(document.createElement('li'), { id: 'no-sources', className: 'no-sources' });
  note.textContent = 'No sources: answered from the model\'s general knowledge, not from documents. '
    + 'Paste reference text or use the knowledge base to ground the answer.';
  ui.sources.replaceChildren(note);
}

function resetOutput() {
  ui.answer.replaceChildren();
  ui.sources.replaceChildren();
  showError('');
}

// ---- one request ----------------------------------------------------------------------------
function readRequest() {
  return {
    question: ui.prompt.value,
    mode: choice('mode'),
    context: ui.useKb.checked ? '' : ui.context.value,
    use_knowledge_base: ui.useKb.checked,
    max_tokens: Number(ui.maxTokens.value) || undefined,
  };
}

async function postJson(path, body, signal) {
  const response = await fetch(`${API}/${path}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal,
  });
  if (!response.ok) throw await refusal(response);
  return response;
}

async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1] || 'message';
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) yield { event, data: JSON.parse(data) };
    }
  }
}

function stageTitle(data) {
  const where = [data.backend, data.engine].filter(Boolean).join(', ');
  return `${data.stage} · ${data.model}${where ? ` (${where})` : ''}`;
}

async function runServer(request, signal, timing) {
  const response = await postJson('stream', request, signal);
  let done = null;
  const handlers = {
    token: (data) => {
      timing.firstToken ??= performance.now();
      stageBlock(data.stage).querySelector('.stage-text').textContent += data.text;
    },
    stage: (data) => {
      if (data.stage === 'retrieval') return showSources(data.sources);
      if (data.status === 'started') return void stageBlock(data.stage, stageTitle(data));
      if (data.status === 'finished') {
        stageBlock(data.stage).querySelector('.stage-metrics').textContent = `first token ${formatMs(data.ttft_ms)} · ${data.completion_tokens} tokens · ${data.decode_tokens_per_s} tok/s`;
      }
    },
    error: (data) => showError(data.stage ? `${data.stage}: ${data.message}` : data.message),
    done: (data) => { done = data; },
  };
  for await (const { event, data } of sseEvents(response)) handlers[event]?.(data);
  if (!done) throw new Error('the stream ended before the answer was complete');
  if (!done.answered_by_model) showNotCovered(request);
  else noteIfUngrounded(done.prompt_sources);
  if (done.error) showError(done.error);
  const { usage } = done;
  timing.summary = `${usage.prompt_tokens} tokens in, ${usage.completion_tokens} out · emulated cloud cost $${done.cost_usd.toFixed(6)}`;
  return done.answered_by_model && !done.error;
}

async function inTabEngine() {
  if (state.engine) return state.engine;
  const inTab = state.config.in_tab;
  if (state.backend.backend === 'webgpu') {
    const { OrtWebGpuEngine } = await import('./webgpu_demo_ort.js');
    const engine = new OrtWebGpuEngine(inTab.webgpu, setStatus);
    try {
      await engine.ensureLoaded();
      state.engine = engine;
      return engine;
    } catch (err) {
      if (!inTab.available) throw err;
      state.backend = { backend: 'wasm', label: 'WebAssembly (llama.cpp, wllama)', why: `WebGPU failed to load the model (${err.message})` };
    }
  }
  const { InTabEngine } = await import('./webgpu_demo_engine.js');
  state.engine = new InTabEngine(inTab, setStatus);
  return state.engine;
}

function describeLoaded(info) {
  const backend = state.backend;
  const details = backend.backend === 'webgpu'
    ? `model files ${info.fromCache ? 'from the browser cache' : 'downloaded and cached in this browser'}`
    : `${info.threads} thread(s)${info.multithread ? ', multi-threaded' : ''} · cross-origin isolated: ${info.isolated} · ${info.backend}`;
  ui.engineNote.textContent = `In-tab backend: ${backend.label}, because ${backend.why} · ${details} · loaded in ${formatMs(info.loadMs)}`;
  document.body.dataset.inTabBackend = backend.backend;
}

async function runInTab(request, signal, timing) {
  const engine = await inTabEngine();
  describeLoaded(await engine.ensureLoaded());
  timing.start = performance.now(); // loading the model once is not part of a request's latency
  const webgpu = state.backend.backend === 'webgpu';
  const prompt = await (await postJson(webgpu ? 'prompt?tokens=webgpu' : 'prompt', request, signal)).json();
  if (!prompt.covered) {
    showNotCovered(request);
    return false;
  }
  showSources(prompt.sources);
  noteIfUngrounded(prompt.sources);
  const name = webgpu ? state.config.in_tab.webgpu.model_name : engine.description.model_name;
  const text = stageBlock('answer', `answer · ${name} (this tab, ${state.backend.label})`).querySelector('.stage-text');
  const maxTokens = Math.min(request.max_tokens || prompt.max_tokens, prompt.max_tokens);
  const input = webgpu ? prompt.input_ids : prompt.messages;
  for await (const piece of engine.generate(input, { maxTokens, temperature: prompt.temperature, signal })) {
    timing.firstToken ??= performance.now();
    text.textContent += piece;
  }
  return true;
}

function seriesName(request, engine) {
  if (engine === 'browser') return `${state.config.in_tab.model_name} · this tab (${state.backend.backend})`;
  const model = request.mode === 'hybrid' ? `hybrid ${modelName('slm')}→${modelName('llm')}` : modelName(request.mode);
  return `${model} · server`;
}

async function generate() {
  const request = readRequest();
  const engine = choice('engine');
  resetOutput();
  setRunning(true);
  state.controller = new AbortController();
  const timing = { start: performance.now(), firstToken: null };
  setStatus(engine === 'browser' ? 'Generating in this tab…' : 'Generating on the server…');
  try {
    const run = engine === 'browser' ? runInTab : runServer;
    const completed = await run(request, state.controller.signal, timing);
    const end = performance.now();
    if (completed && timing.firstToken) {
      chart.add({ series: seriesName(request, engine), ttftMs: timing.firstToken - timing.start, totalMs: end - timing.start });
      const extra = timing.summary ? ` · ${timing.summary}` : '';
      setStatus(`Done: first token ${formatMs(timing.firstToken - timing.start)}, total ${formatMs(end - timing.start)}${extra}.`);
    } else setStatus('Done.');
  } catch (err) {
    if (state.controller.signal.aborted) setStatus('Stopped.');
    else { showFailure(err); setStatus('Failed.'); }
  } finally {
    setRunning(false);
    state.controller = null;
  }
}

ui.form.addEventListener('submit', (event) => { event.preventDefault(); generate(); });
ui.stop.addEventListener('click', () => state.controller?.abort());
ui.clearChart.addEventListener('click', () => chart.clear());

loadConfig().catch((err) => { showFailure(err, 'Could not load the page\'s configuration: '); setStatus('Not ready.'); });
updateEngineChoice();
