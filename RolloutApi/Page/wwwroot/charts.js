// Small SVG line charts, drawn by hand so that the page needs no script from anywhere else.
// render(container, series, options): series = [{ key, cls, dash, points: [[timeMs, value|null], ...] }].
(function () {
  'use strict';
  const NS = 'http://www.w3.org/2000/svg';
  const W = 460, H = 170, L = 44, R = 8, T = 8, B = 22;

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function fmt(v) {
    if (v === 0) return '0';
    if (Math.abs(v) >= 100) return v.toFixed(0);
    if (Math.abs(v) >= 10) return v.toFixed(1).replace(/\.0$/, '');
    return v.toPrecision(2).replace(/\.?0+$/, '');
  }

  function clock(ms) {
    const d = new Date(ms);
    return d.toISOString().substring(11, 19);
  }

  function render(container, series, options) {
    const opts = options || {};
    const now = opts.now || Date.now();
    const span = opts.spanMs || 5 * 60 * 1000;
    const t0 = now - span;
    let max = opts.yMax || 0;
    for (const s of series) for (const [t, v] of s.points) if (t >= t0 && v !== null && v > max) max = v;
    max = opts.fixedMax || niceMax(max);

    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img' });
    const x = t => L + (t - t0) / span * (W - L - R);
    const y = v => T + (1 - v / max) * (H - T - B);
    for (let i = 0; i <= 4; i++) {
      const v = max * i / 4;
      el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }, svg);
      el('text', { x: L - 4, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, svg).textContent = fmt(v);
    }
    for (let i = 0; i <= 2; i++) {
      const t = t0 + span * i / 2;
      el('text', { x: x(t), y: H - 6, class: 'tick', 'text-anchor': i === 0 ? 'start' : i === 2 ? 'end' : 'middle' }, svg).textContent = clock(t);
    }
    for (const s of series) {
      const visible = s.points.filter(([t, v]) => t >= t0 && v !== null);
      let d = '';
      let pen = false;
      for (const [t, v] of s.points) {
        if (t < t0) continue;
        if (v === null) { pen = false; continue; }
        d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        if (s.step) d += `H${x(Math.min(now, nextTime(s.points, t) ?? now)).toFixed(1)}`;
        pen = true;
      }
      el('path', { d: d || 'M0,0', class: `line ${s.cls}`, 'stroke-dasharray': s.dash || 'none', 'data-series': s.key, 'data-points': visible.length,
        'data-last': visible.length ? visible[visible.length - 1][1] : '' }, svg);
    }
    container.replaceChildren(svg);
  }

  function nextTime(points, t) {
    for (const [u] of points) if (u > t) return u;
    return null;
  }

  window.AgentCharts = { render };
})();
