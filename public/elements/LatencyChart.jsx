// Session latency chart: one bar per model call, coloured by model.
// The solid part of a bar is the time to first token, the whole bar the total latency.
// Props (injected globally by Chainlit): { title, labels: {empty, description, legend} (the reader's
// language, from ragstage's locale files), points: [{message, stage, model, ttft_ms, total_ms}] }

const PALETTE = ["#4f46e5", "#f59e0b", "#10b981", "#ef4444", "#0ea5e9", "#a855f7"];
const HEIGHT = 260;
const PLOT_TOP = 16;
const PLOT_BOTTOM = 210;
const LEFT = 48;
const BAR_STEP = 52;
const MIN_WIDTH = 420;

function niceMax(ms) {
  const seconds = Math.max(ms / 1000, 0.5);
  const steps = [0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300];
  return (steps.find((s) => s >= seconds) || Math.ceil(seconds / 60) * 60) * 1000;
}

function colourFor(models, model) {
  return PALETTE[models.indexOf(model) % PALETTE.length];
}

export default function LatencyChart() {
  const points = Array.isArray(props.points) ? props.points : [];
  const labels = props.labels || {};
  if (points.length === 0) {
    return <div className="text-muted-foreground p-2">{labels.empty || "No answers timed yet."}</div>;
  }
  const models = [...new Set(points.map((p) => p.model))];
  const maxMs = niceMax(Math.max(...points.map((p) => p.total_ms)));
  const width = LEFT + points.length * BAR_STEP + 16;
  const y = (ms) => PLOT_BOTTOM - ((PLOT_BOTTOM - PLOT_TOP) * ms) / maxMs;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxMs);

  return (
    <div className="flex flex-col gap-3 w-full" id="latency-chart">
      <div className="font-semibold text-lg">{props.title || "Latency"}</div>
      <div className="overflow-x-auto">
        <svg viewBox={`0 0 ${Math.max(width, MIN_WIDTH)} ${HEIGHT}`} width="100%"
             style={{ minWidth: Math.max(width, MIN_WIDTH) * 0.8, maxHeight: 360 }} className="text-foreground" role="img"
             aria-label={labels.description || "Time to first token and total latency per model call"}>
          {ticks.map((t) => (
            <g key={t}>
              <line x1={LEFT} x2={width} y1={y(t)} y2={y(t)} stroke="currentColor" strokeOpacity="0.15" />
              <text x={LEFT - 6} y={y(t) + 4} textAnchor="end" fontSize="12" fill="currentColor">
                {(t / 1000).toFixed(t < 2000 && t > 0 ? 1 : 0)}s
              </text>
            </g>
          ))}
          {points.map((p, i) => {
            const x = LEFT + 8 + i * BAR_STEP;
            const colour = colourFor(models, p.model);
            return (
              <g key={i} className="latency-bar" data-model={p.model}>
                <title>{`Q${p.message} ${p.stage} · ${p.model}\nfirst token ${Math.round(p.ttft_ms)} ms · total ${Math.round(p.total_ms)} ms`}</title>
                <rect x={x} width="34" y={y(p.total_ms)} height={PLOT_BOTTOM - y(p.total_ms)} fill={colour} fillOpacity="0.35" rx="3" />
                <rect x={x} width="34" y={y(p.ttft_ms)} height={PLOT_BOTTOM - y(p.ttft_ms)} fill={colour} rx="3" />
                <text x={x + 17} y={y(p.total_ms) - 4} textAnchor="middle" fontSize="11" fill="currentColor">
                  {(p.total_ms / 1000).toFixed(1)}
                </text>
                <text x={x + 17} y={PLOT_BOTTOM + 16} textAnchor="middle" fontSize="12" fill="currentColor">Q{p.message}</text>
                <text x={x + 17} y={PLOT_BOTTOM + 30} textAnchor="middle" fontSize="10" fill="currentColor" fillOpacity="0.7">
                  {p.stage}
                </text>
              </g>
            );
          })}
          <line x1={LEFT} x2={width} y1={PLOT_BOTTOM} y2={PLOT_BOTTOM} stroke="currentColor" strokeOpacity="0.5" />
        </svg>
      </div>
      <div className="flex flex-wrap gap-4 text-sm">
        {models.map((m) => (
          <span key={m} className="flex items-center gap-2">
            <span style={{ background: colourFor(models, m), width: 14, height: 14, borderRadius: 3, display: "inline-block" }} />
            {m}
          </span>
        ))}
      </div>
      <div className="text-sm text-muted-foreground">
        {labels.legend || "Solid: time to first token. Whole bar: total latency (seconds)."}
      </div>
    </div>
  );
}
