// jobcast.js: follow one job live from any page.
//
//   import { watchJob } from "/static/jobcast.js";
//   const watch = watchJob(id, { onSnapshot(job) {}, onEvent(event, job) {}, onStatus(state) {} });
//   watch.close();
//
// The WebSocket (GET /jobs/{id}/events) comes first. Events are applied strictly in seq
// order; duplicates are dropped; a gap, or a dropped connection, reconnects with
// `?after=<last seq>` after an exponential backoff with jitter. After several failed
// connects in a row the watcher polls GET /jobs/{id} every 2 s instead, and keeps trying
// the WebSocket in the background so that it switches back as soon as one works.
//
// `state` (onStatus) is one of: connecting, live, reconnecting, polling, closed.

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const FATAL_CLOSE = new Map([
  [4400, "bad request"],
  [4401, "missing or bad API key"],
  [4404, "no such job"],
]);

// An open WebSocket that has carried no message yet counts as working after this long.
const QUIET_OPEN_MS = 1000;

export const DEFAULTS = Object.freeze({
  baseUrl: "", // same origin as the page
  apiKey: null, // sent as `Authorization: Bearer` and as the WebSocket subprotocol
  pollInterval: 2000, // ms between GET /jobs/{id} while polling
  maxFailures: 3, // failed WebSocket connects in a row before polling
  backoffBase: 250, // ms; doubled on every failure, with jitter
  backoffMax: 10000,
});

export function isTerminal(status) {
  return TERMINAL.has(status);
}

// Returns the job with one event applied, mirroring what the server's live view does.
export function applyEvent(job, event) {
  const next = { ...job, seq: event.seq, updated_at: event.ts };
  if (event.type === "progress") {
    next.progress = event.progress;
    next.message = event.message ?? next.message;
    next.stage = event.stage ?? next.stage;
    if (event.usage) next.usage = event.usage; // the cost so far of the calls that ended
  } else if (event.type === "output") {
    // A new stage starts the text again (the snapshot's text belongs to job.stage).
    const same = (job._outputStage ?? job.stage) === event.stage && job.output != null;
    next.output = same ? job.output + event.delta : event.delta;
    next._outputStage = event.stage;
    next._outputLabel = event.stage; // known for sure only from an event
  } else if (event.type === "status") {
    applyStatus(next, event);
  }
  return next;
}

const ENVELOPE = new Set(["job_id", "seq", "type", "ts", "status", "attempt"]);

function applyStatus(job, event) {
  job.status = event.status;
  if (event.attempt != null) job.attempts = event.attempt;
  if (event.status === "running" || event.status === "pending") {
    // A new attempt starts from nothing, as the server's view does.
    Object.assign(job, { progress: 0, message: null, stage: null, output: null, _outputStage: null });
    Object.assign(job, { result: null, error: null, finished_at: null, retry_at: null });
    if (event.status === "running") job.started_at = event.ts;
  }
  // Whatever else the event carries (result, error, retry_at…) is the job's new value.
  for (const [name, value] of Object.entries(event)) if (!ENVELOPE.has(name)) job[name] = value;
  if (event.status === "completed") job.progress = 100;
  if (TERMINAL.has(event.status)) job.finished_at = event.ts;
}

export function watchJob(id, options = {}) {
  const watcher = new JobWatcher(id, options);
  watcher.start();
  return watcher;
}

class JobWatcher {
  constructor(id, options) {
    this.id = id;
    this.options = { ...DEFAULTS, ...options };
    this.job = null;
    this.seq = null; // last seq applied; null until the first snapshot
    this.state = "connecting";
    this.failures = 0;
    this.polling = false;
    this.closed = false;
    this.ws = null;
    this.timers = { reconnect: null, poll: null };
    this.needsSettle = false; // a terminal event arrived: fetch the final snapshot
    this.gap = false; // the connection was closed by us to fill a gap
  }

  start() {
    this.#emitStatus("connecting");
    this.#connect();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timers.reconnect);
    clearTimeout(this.timers.poll);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.#emitStatus("closed");
  }

  // ---- WebSocket ------------------------------------------------------------------

  #connect() {
    if (this.closed) return;
    const query = this.seq === null ? "" : `?after=${this.seq}`;
    const url = websocketUrl(this.options.baseUrl, `/jobs/${encodeURIComponent(this.id)}/events${query}`);
    const key = this.options.apiKey;
    let ws;
    try {
      ws = key ? new WebSocket(url, ["jobcast", `jobcast.bearer.${key}`]) : new WebSocket(url);
    } catch (error) {
      this.#fatal(`cannot open a WebSocket: ${error.message}`);
      return;
    }
    this.ws = ws;
    // A connection works once a message arrives, or once it has stayed open a moment
    // (a resume of a quiet job); one closed before either counts as a failed connect.
    let works = false;
    const working = () => {
      if (works || this.ws !== ws) return;
      works = true;
      this.#wentLive();
    };
    let settled = null;
    ws.onopen = () => {
      settled = setTimeout(working, QUIET_OPEN_MS);
    };
    ws.onmessage = (message) => {
      if (this.ws !== ws) return;
      working();
      this.#onMessage(JSON.parse(message.data), ws);
    };
    ws.onclose = (event) => {
      clearTimeout(settled);
      if (this.ws === ws) this.ws = null;
      this.#onClose(event, works);
    };
  }

  #wentLive() {
    this.failures = 0;
    if (this.polling) {
      this.polling = false;
      clearTimeout(this.timers.poll);
    }
    this.#emitStatus("live");
  }

  #onMessage(message, ws) {
    if (message.type === "snapshot") {
      this.#replace(message.job);
      return;
    }
    if (this.seq !== null && message.seq <= this.seq) return; // already applied
    if (this.seq === null || message.seq > this.seq + 1) {
      // A gap: drop this connection (and anything still in flight on it), resume after
      // the last event we hold.
      this.ws = null;
      this.gap = true;
      ws.close(1000);
      return;
    }
    this.job = applyEvent(this.job, message);
    this.seq = message.seq;
    if (message.type === "status" && TERMINAL.has(message.status)) this.needsSettle = true;
    this.#call("onEvent", message, this.job);
  }

  #onClose(event, worked) {
    if (this.closed) return;
    if (this.job && TERMINAL.has(this.job.status)) {
      this.#settleOrFinish();
      return;
    }
    if (FATAL_CLOSE.has(event.code)) {
      this.#fatal(FATAL_CLOSE.get(event.code), event.code);
      return;
    }
    const gap = this.gap;
    this.gap = false;
    this.failures = worked ? 0 : this.failures + 1;
    if (!this.polling && this.failures >= this.options.maxFailures) this.#startPolling();
    else if (!this.polling) this.#emitStatus("reconnecting");
    this.#scheduleConnect(gap ? 0 : this.#backoff());
  }

  // The terminal status event carries result or error; one more WebSocket connection
  // without `after` returns the final snapshot (usage, finished_at) and closes at once.
  #settleOrFinish() {
    if (this.needsSettle) {
      this.needsSettle = false;
      this.seq = null;
      this.#connect();
      return;
    }
    this.close();
  }

  #backoff() {
    const { backoffBase, backoffMax } = this.options;
    const ceiling = Math.min(backoffMax, backoffBase * 2 ** Math.max(0, this.failures - 1));
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  #scheduleConnect(delay) {
    clearTimeout(this.timers.reconnect);
    this.timers.reconnect = setTimeout(() => this.#connect(), delay);
  }

  // ---- Polling fallback ---------------------------------------------------------------

  #startPolling() {
    this.polling = true;
    this.#emitStatus("polling");
    this.#poll();
  }

  async #poll() {
    if (this.closed || !this.polling) return;
    try {
      const response = await fetch(httpUrl(this.options.baseUrl, `/jobs/${encodeURIComponent(this.id)}`), {
        headers: authHeaders(this.options.apiKey),
        cache: "no-store",
      });
      if (response.status === 404 || response.status === 401) {
        this.#fatal(response.status === 404 ? "no such job" : "missing or bad API key", response.status);
        return;
      }
      if (!response.ok) throw new Error(`GET /jobs/${this.id}: ${response.status}`);
      const job = await response.json();
      if (this.closed || !this.polling) return;
      this.#emitStatus("polling");
      if (this.seq === null || job.seq > this.seq) this.#replace(job);
      if (TERMINAL.has(job.status)) {
        this.close();
        return;
      }
    } catch {
      if (!this.closed && this.polling) this.#emitStatus("reconnecting");
    }
    if (!this.closed && this.polling) {
      clearTimeout(this.timers.poll);
      this.timers.poll = setTimeout(() => this.#poll(), this.options.pollInterval);
    }
  }

  // ---- Shared ---------------------------------------------------------------------------

  #replace(job) {
    this.job = { ...job, _outputStage: job.stage };
    this.seq = job.seq;
    this.#call("onSnapshot", this.job);
  }

  #fatal(reason, code = null) {
    this.#call("onError", { reason, code });
    this.close();
  }

  #emitStatus(state) {
    if (this.state === state) return;
    this.state = state;
    this.#call("onStatus", state);
  }

  #call(name, ...args) {
    const handler = this.options[name];
    if (!handler) return;
    try {
      handler(...args);
    } catch (error) {
      console.error(`jobcast: ${name} handler failed`, error);
    }
  }
}

export function authHeaders(apiKey) {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

function httpUrl(baseUrl, path) {
  return new URL(path, baseUrl || window.location.href).href;
}

function websocketUrl(baseUrl, path) {
  const url = new URL(path, baseUrl || window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
