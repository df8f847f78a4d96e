// Latency chart: one pair of bars per request (time to first token, total), coloured by series
// (model + engine). Plain SVG built here: no chart library, works offline.

const SVG_NS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];
const SIZE = { width: 960, height: 360, left: 70, right: 20, top: 20, bottom: 50 };

function el(name, attributes = {}, text = '') {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text) node.textContent = text;
  return node;
}

function niceStep(maxValue, ticks) {
  const raw = maxValue / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return step || raw;
}

export function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export class LatencyChart {
  constructor(svg, legend) {
    this.svg = svg;
    this.legend = legend;
    this.points = [];
    this.colors = new Map();
    this.render();
  }

  colorOf(series) {
    if (!this.colors.has(series)) this.colors.set(series, PALETTE[this.colors.size % PALETTE.length]);
    return this.colors.get(series);
  }

  add(point) {
    this.points.push(point);
    this.colorOf(point.series);
    this.render();
  }

  clear() {
    this.points = [];
    this.colors.clear();
    this.render();
  }

  render() {
    this.renderPlot();
    this.renderLegend();
  }

  renderAxes(maxMs) {
    const { width, height, left, right, top, bottom } = SIZE;
    const plotHeight = height - top - bottom;
    const step = niceStep(maxMs, 5);
    const axis = el('g', { class: 'axis' });
    for (let value = 0; value <= maxMs + 1e-9; value += step) {
      const y = top + plotHeight - (value / maxMs) * plotHeight;
      axis.append(el('line', { x1: left, x2: width - right, y1: y, y2: y, class: 'grid' }));
      axis.append(el('text', { x: left - 8, y: y + 5, 'text-anchor': 'end' }, formatMs(value)));
    }
    axis.append(el('text', { x: left + (width - left - right) / 2, y: height - 8, 'text-anchor': 'middle' }, 'request'));
    return axis;
  }

  renderPlot() {
    const { width, height, left, right, top, bottom } = SIZE;
    this.svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.svg.replaceChildren();
    if (!this.points.length) {
      this.svg.append(el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' },
        'Each request adds its time to first token and total time here.'));
      return;
    }
    const maxMs = Math.max(...this.points.map((p) => p.totalMs), 1) * 1.1;
    const step = niceStep(maxMs, 5);
    const top_ms = Math.ceil(maxMs / step) * step;
    this.svg.append(this.renderAxes(top_ms));
    const plotWidth = width - left - right;
    const plotHeight = height - top - bottom;
    const slot = plotWidth / this.points.length;
    const barWidth = Math.min(56, slot * 0.8);
    this.points.forEach((point, i) => {
      const x = left + i * slot + (slot - barWidth) / 2;
      const yOf = (ms) => top + plotHeight - (ms / top_ms) * plotHeight;
      const color = this.colorOf(point.series);
      const group = el('g', {
        class: 'point', 'data-series': point.series, 'data-ttft-ms': point.ttftMs.toFixed(1),
        'data-total-ms': point.totalMs.toFixed(1),
      });
      group.append(el('title', {}, `#${i + 1} ${point.series}: first token ${formatMs(point.ttftMs)}, total ${formatMs(point.totalMs)}`));
      group.append(el('rect', { x, y: yOf(point.totalMs), width: barWidth, height: plotHeight + top - yOf(point.totalMs), fill: color, class: 'total' }));
      group.append(el('rect', { x, y: yOf(point.ttftMs), width: barWidth, height: plotHeight + top - yOf(point.ttftMs), fill: color, class: 'ttft' }));
      group.append(el('text', { x: x + barWidth / 2, y: height - bottom + 22, 'text-anchor': 'middle' }, String(i + 1)));
      this.svg.append(group);
    });
  }

  renderLegend() {
    const rows = [...this.colors.keys()].map((series) => {
      const mine = this.points.filter((p) => p.series === series);
      const row = document.createElement('tr');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.setProperty('--swatch', this.colorOf(series));
      const name = document.createElement('td');
      name.append(swatch, document.createTextNode(series));
      const cells = [String(mine.length), formatMs(median(mine.map((p) => p.ttftMs))), formatMs(median(mine.map((p) => p.totalMs)))];
      row.append(name, ...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
      return row;
    });
    this.legend.replaceChildren(...rows);
  }
}
