// Numbers and times as people read them.

export function duration(ms) {
  if (ms == null || Number.isNaN(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${String(Math.floor(seconds % 60)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} m`;
}

// From start to finish, or to now while the job is still going.
export function elapsed(job, now = Date.now()) {
  const start = Date.parse(job.started_at ?? job.created_at ?? "");
  if (Number.isNaN(start)) return null;
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return Math.max(0, end - start);
}

export function count(value) {
  return value == null ? "–" : Number(value).toLocaleString("en-US");
}

// US dollars: cents for sums, more digits for the fractions of a cent a call can cost.
export function money(value) {
  if (value == null || Number.isNaN(Number(value))) return "–";
  const amount = Number(value);
  if (amount === 0 || amount >= 1) return `$${amount.toFixed(2)}`;
  return `$${amount.toPrecision(2)}`;
}

export function shortId(id) {
  return id.length > 10 ? id.slice(0, 8) : id;
}

export function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString("en-GB");
}
