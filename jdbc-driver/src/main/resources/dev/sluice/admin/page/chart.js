/*
 * A small lag chart on <canvas>: up to 10 minutes ending now, one point per second, unknown seconds shaded.
 * The time axis spans the history there is (at least a minute), so a fresh cluster's chart is readable too.
 */
"use strict";

/**
 * Draws samples [{epochSecond, lagMillis}] (lagMillis null = unknown) ending at nowSec. The y axis grows with
 * the largest value but never below 1 s, so a healthy replica's few milliseconds look flat, as they should.
 */
function drawLagChart(canvas, samples, nowSec) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300, h = canvas.clientHeight || 90;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  const oldest = samples.length ? samples[0].epochSecond : nowSec;
  const span = Math.min(600, Math.max(60, nowSec - oldest + 1)), top = 14, bottom = h - 2;
  let max = 1000;
  for (const s of samples) {
    if (s.lagMillis != null && s.lagMillis > max) max = s.lagMillis;
  }
  const x = sec => ((sec - (nowSec - span)) / span) * w;
  const y = ms => bottom - (ms / max) * (bottom - top);
  g.fillStyle = "rgba(198, 40, 40, 0.15)";
  for (const s of samples) {
    if (s.lagMillis == null) g.fillRect(x(s.epochSecond - 1), top, Math.max(1, w / span), bottom - top);
  }
  g.strokeStyle = "#2358c4";
  g.lineWidth = 1.5;
  g.beginPath();
  let drawing = false, prevSec = null;
  for (const s of samples) {
    const gap = prevSec != null && s.epochSecond - prevSec > 2;
    if (s.lagMillis == null || gap) drawing = false;
    if (s.lagMillis != null) {
      if (drawing) g.lineTo(x(s.epochSecond), y(s.lagMillis)); else g.moveTo(x(s.epochSecond), y(s.lagMillis));
      drawing = true;
    }
    prevSec = s.epochSecond;
  }
  g.stroke();
  g.fillStyle = "#5f6b7a";
  g.font = "11px system-ui, sans-serif";
  g.fillText("max " + formatMs(max) + " · last " + (span >= 600 ? "10 min" : span >= 120 ? Math.round(span / 60) + " min" : span + " s"), 4, 11);
}

function formatMs(ms) {
  if (ms == null) return "unknown";
  return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + " s";
}
