// Small statistics helpers shared by the parts of `npm run bench`.

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

export const median = (values) => percentile([...values].sort((a, b) => a - b), 50);

/** Merges [ms, count] histograms (what the bench pages hand over) into one Map. */
export function mergeHistograms(histograms) {
  const merged = new Map();
  for (const hist of histograms) for (const [ms, count] of hist) merged.set(ms, (merged.get(ms) ?? 0) + count);
  return merged;
}

/** Nearest-rank percentile of a histogram Map (ms → count). */
export function histogramPercentile(hist, p) {
  const total = [...hist.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = Math.min(total - 1, Math.floor((p / 100) * total));
  let seen = 0;
  for (const ms of [...hist.keys()].sort((a, b) => a - b)) {
    seen += hist.get(ms);
    if (seen > rank) return ms;
  }
  return NaN;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `n` with thousands separators; '-' for what was not measured. */
export const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
export const fixed = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
