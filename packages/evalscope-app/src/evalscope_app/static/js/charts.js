// Hand-drawn SVG charts: grouped bars with 95 % intervals, radar, lines, interval (forest) plots.
// No library: a few hundred lines draw what the views need, work offline and in the exported file,
// and every label is a text node.
"use strict";
(function (ES) {
  const { h, s, fmt, color, isNum } = ES.dom;

  function niceMax(values) {
    const finite = values.filter(isNum);
    const top = finite.length ? Math.max(...finite) : 1;
    if (top <= 1 && Math.min(0, ...finite) >= 0) return 1;
    const mag = Math.pow(10, Math.floor(Math.log10(top || 1)));
    return Math.ceil(top / mag) * mag;
  }

  /** 1, 2 or 5 times a power of ten, at least `top`: an axis end a reader can read. */
  function niceCeil(top) {
    if (!(top > 0)) return 1;
    const mag = Math.pow(10, Math.floor(Math.log10(top)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= top) return m * mag;
    return 10 * mag;
  }

  function legend(names) {
    return h("div", { class: "legend" }, names.map((n, i) => h("span", { class: "legend-item" },
      h("span", { class: "swatch", style: { background: color(i) } }), n)));
  }

  /** Horizontal grouped bars: one group per label, one bar per series, whiskers for intervals. */
  function bars({ labels, series, max, title, digits = 3 }) {
    const barH = 14, gap = 10, left = Math.min(260, 12 + 7 * Math.max(4, ...labels.map((l) => String(l).length)));
    const W = 760, plotW = W - left - 70, groupH = series.length * barH + gap;
    const H = 24 + labels.length * groupH + 20;
    // The scale follows the values (a score in [0, 1] gets a 0-1 axis); intervals are clipped to it.
    const all = series.flatMap((sr) => sr.values).filter(isNum);
    const top = max || niceMax(all);
    const lo = Math.min(0, ...all);
    const x = (v) => left + ((Math.max(lo, Math.min(top, v)) - lo) / (top - lo || 1)) * plotW;
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart bars", role: "img" });
    if (title) svg.appendChild(s("title", null, title));
    for (let t = 0; t <= 4; t++) {
      const v = lo + ((top - lo) * t) / 4, X = x(v);
      svg.appendChild(s("line", { x1: X, x2: X, y1: 16, y2: H - 18, class: "grid" }));
      svg.appendChild(s("text", { x: X, y: H - 4, class: "tick", "text-anchor": "middle" }, +v.toFixed(3)));
    }
    labels.forEach((label, gi) => {
      const y0 = 20 + gi * groupH;
      svg.appendChild(s("text", { x: left - 6, y: y0 + (series.length * barH) / 2 + 4, class: "label", "text-anchor": "end" },
        String(label).length > 36 ? String(label).slice(0, 35) + "…" : label));
      series.forEach((sr, si) => {
        const v = sr.values[gi], y = y0 + si * barH;
        if (!isNum(v)) return;
        const bar = s("rect", { x: x(Math.min(0, v)), y: y + 1, width: Math.max(1, Math.abs(x(v) - x(0))), height: barH - 3,
          fill: color(sr.colorIndex ?? si), class: "bar" });
        const iv = sr.intervals && sr.intervals[gi];
        bar.appendChild(s("title", null, `${sr.name} · ${label}: ${fmt.num(v, digits)}` + (iv ? ` [${fmt.num(iv[0], digits)}, ${fmt.num(iv[1], digits)}]` : "")));
        svg.appendChild(bar);
        if (iv && isNum(iv[0]) && isNum(iv[1])) {
          const ym = y + barH / 2;
          svg.appendChild(s("line", { x1: x(iv[0]), x2: x(iv[1]), y1: ym, y2: ym, class: "whisker" }));
          svg.appendChild(s("line", { x1: x(iv[0]), x2: x(iv[0]), y1: ym - 4, y2: ym + 4, class: "whisker" }));
          svg.appendChild(s("line", { x1: x(iv[1]), x2: x(iv[1]), y1: ym - 4, y2: ym + 4, class: "whisker" }));
        }
        svg.appendChild(s("text", { x: Math.max(x(v), iv && isNum(iv[1]) ? x(iv[1]) : 0) + 4, y: y + barH - 3, class: "value" }, fmt.num(v, digits)));
      });
    });
    return h("figure", { class: "chart-box" }, svg, series.length > 1 ? legend(series.map((sr) => sr.name)) : null);
  }

  /** Radar: one axis per label (at least 3), one polygon per series. */
  function radar({ axes, series, max = 1, title }) {
    const size = 420, cx = size / 2, cy = size / 2 + 6, r = size / 2 - 70;
    const svg = s("svg", { viewBox: `0 0 ${size} ${size + 10}`, class: "chart radar", role: "img" });
    if (title) svg.appendChild(s("title", null, title));
    const pt = (i, v) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / axes.length, rr = (Math.max(0, Math.min(max, v)) / max) * r;
      return [cx + rr * Math.cos(a), cy + rr * Math.sin(a)];
    };
    for (let ring = 1; ring <= 4; ring++) {
      const pts = axes.map((_, i) => pt(i, (max * ring) / 4).join(",")).join(" ");
      svg.appendChild(s("polygon", { points: pts, class: "grid" }));
    }
    axes.forEach((a, i) => {
      const [x, y] = pt(i, max), [lx, ly] = pt(i, max * 1.13);
      svg.appendChild(s("line", { x1: cx, y1: cy, x2: x, y2: y, class: "grid" }));
      svg.appendChild(s("text", { x: lx, y: ly + 4, class: "label", "text-anchor": lx < cx - 5 ? "end" : lx > cx + 5 ? "start" : "middle" },
        String(a).length > 22 ? String(a).slice(0, 21) + "…" : a));
    });
    series.forEach((sr, si) => {
      const pts = sr.values.map((v, i) => pt(i, isNum(v) ? v : 0).join(",")).join(" ");
      const poly = s("polygon", { points: pts, class: "series", stroke: color(sr.colorIndex ?? si), fill: color(sr.colorIndex ?? si) });
      poly.appendChild(s("title", null, sr.name + ": " + sr.values.map((v, i) => `${axes[i]} ${fmt.num(v, 3)}`).join(", ")));
      svg.appendChild(poly);
    });
    return h("figure", { class: "chart-box radar-box" }, svg, legend(series.map((sr) => sr.name)));
  }

  /** Lines over a numeric x (concurrency, percentile rank, ...). */
  function lines({ xs, xLabels, series, xTitle, yTitle, title }) {
    const W = 640, H = 300, L = 64, R = 16, T = 28, B = 44;
    const all = series.flatMap((sr) => sr.values).filter(isNum);
    const yMax = niceCeil(all.length ? Math.max(...all) : 1);
    const xMin = Math.min(...xs), xMax = Math.max(...xs);
    const x = (v) => L + (xs.length === 1 ? (W - L - R) / 2 : ((v - xMin) / (xMax - xMin || 1)) * (W - L - R));
    const y = (v) => H - B - (v / (yMax || 1)) * (H - T - B);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart lines", role: "img" });
    if (title) svg.appendChild(s("title", null, title));
    for (let t = 0; t <= 4; t++) {
      const v = (yMax * t) / 4;
      svg.appendChild(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
      svg.appendChild(s("text", { x: L - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, +v.toPrecision(3)));
    }
    let lastX = -Infinity; // skip a tick label that would overlap the previous one
    xs.forEach((v, i) => {
      if (x(v) - lastX < 22) return;
      lastX = x(v);
      svg.appendChild(s("text", { x: x(v), y: H - B + 16, class: "tick", "text-anchor": "middle" }, xLabels ? xLabels[i] : v));
    });
    if (xTitle) svg.appendChild(s("text", { x: (L + W - R) / 2, y: H - 6, class: "axis-title", "text-anchor": "middle" }, xTitle));
    if (yTitle || title) svg.appendChild(s("text", { x: 8, y: 14, class: "axis-title" }, [title, yTitle].filter(Boolean).join(" · ")));
    series.forEach((sr, si) => {
      const pts = xs.map((v, i) => [v, sr.values[i]]).filter((p) => isNum(p[1]));
      svg.appendChild(s("polyline", { points: pts.map((p) => x(p[0]) + "," + y(p[1])).join(" "), class: "line", stroke: color(si) }));
      pts.forEach((p, i) => {
        const c = s("circle", { cx: x(p[0]), cy: y(p[1]), r: 3.5, fill: color(si) });
        c.appendChild(s("title", null, `${sr.name} @ ${xLabels ? xLabels[xs.indexOf(p[0])] : p[0]}: ${fmt.num(p[1], 3)}`));
        svg.appendChild(c);
      });
    });
    return h("figure", { class: "chart-box" }, svg, legend(series.map((sr) => sr.name)));
  }

  /** A forest plot: a dot per row at its value, a bar across its interval, an optional reference line. */
  function intervals({ rows, min = 0, max = 1, ref, title, digits = 3 }) {
    const W = 760, left = 200, right = 150, rowH = 24, H = 26 + rows.length * rowH + 20;
    const x = (v) => left + ((Math.max(min, Math.min(max, v)) - min) / (max - min || 1)) * (W - left - right);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart intervals", role: "img" });
    if (title) svg.appendChild(s("title", null, title));
    for (let t = 0; t <= 4; t++) {
      const v = min + ((max - min) * t) / 4;
      svg.appendChild(s("line", { x1: x(v), x2: x(v), y1: 14, y2: H - 18, class: "grid" }));
      svg.appendChild(s("text", { x: x(v), y: H - 4, class: "tick", "text-anchor": "middle" }, +v.toFixed(3)));
    }
    if (isNum(ref)) svg.appendChild(s("line", { x1: x(ref), x2: x(ref), y1: 14, y2: H - 18, class: "ref" }));
    rows.forEach((r, i) => {
      const y = 26 + i * rowH;
      svg.appendChild(s("text", { x: left - 8, y: y + 4, class: "label", "text-anchor": "end" }, r.label));
      if (isNum(r.lo) && isNum(r.hi)) svg.appendChild(s("line", { x1: x(r.lo), x2: x(r.hi), y1: y, y2: y, class: "ci", stroke: color(i) }));
      if (isNum(r.value)) {
        const dot = s("circle", { cx: x(r.value), cy: y, r: 5, fill: color(i) });
        dot.appendChild(s("title", null, `${r.label}: ${fmt.num(r.value, digits)} [${fmt.num(r.lo, digits)}, ${fmt.num(r.hi, digits)}]`));
        svg.appendChild(dot);
      }
      svg.appendChild(s("text", { x: W - right + 8, y: y + 4, class: "value" },
        `${fmt.num(r.value, digits)} [${fmt.num(r.lo, digits)}, ${fmt.num(r.hi, digits)}]`));
    });
    return h("figure", { class: "chart-box" }, svg);
  }

  ES.charts = { bars, radar, lines, intervals, legend };
})(window.ES);
