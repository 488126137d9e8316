// The page's jobs: the newest view of each, one live watcher per unfinished job, and the
// stages each job went through. Views subscribe and redraw what changed.
import { isTerminal, watchJob } from "./jobcast.js";

// Worst first: the connection indicator shows the worst state of any watcher.
const STATE_ORDER = ["polling", "reconnecting", "connecting", "live"];

export class JobStore {
  constructor({ apiKey = null, onError = () => {} } = {}) {
    this.apiKey = apiKey;
    this.onError = onError;
    this.jobs = new Map();
    this.watchers = new Map();
    this.timelines = new Map();
    this.listeners = new Set();
    this.listOffline = false;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  #notify(id) {
    for (const listener of this.listeners) listener(id);
  }

  get(id) {
    return this.jobs.get(id);
  }

  // A job as some REST answer showed it; the newer of it and what we hold wins.
  upsert(job) {
    const held = this.jobs.get(job.id);
    if (held && held.seq > job.seq) return;
    this.#set(job, { snapshot: true });
    if (!isTerminal(job.status)) this.watch(job.id);
  }

  remove(id) {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
    this.jobs.delete(id);
    this.timelines.delete(id);
    this.#notify(id);
  }

  watch(id) {
    if (this.watchers.has(id)) return;
    const watcher = watchJob(id, {
      apiKey: this.apiKey,
      onSnapshot: (job) => this.#set(job, { snapshot: true }),
      onEvent: (event, job) => this.#set(job, { event }),
      onStatus: (state) => {
        if (state === "closed") this.watchers.delete(id);
        this.#notify(null);
      },
      onError: ({ reason }) => this.onError(`job ${id}: ${reason}`),
    });
    this.watchers.set(id, watcher);
  }

  // Another key may be another owner: forget everything and let the list load again.
  setApiKey(apiKey) {
    this.apiKey = apiKey;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.jobs.clear();
    this.timelines.clear();
    this.#notify(null);
  }

  connectionState() {
    if (this.listOffline) return "reconnecting";
    const states = [...this.watchers.values()].map((watcher) => watcher.state);
    return STATE_ORDER.find((state) => states.includes(state)) ?? "idle";
  }

  timeline(id) {
    return this.timelines.get(id) ?? [];
  }

  #set(job, { snapshot = false, event = null }) {
    const held = this.jobs.get(job.id);
    if (held && event && held.seq >= job.seq) return; // a REST answer was newer
    this.jobs.set(job.id, job);
    this.#track(job, held, snapshot ? null : event);
    this.#notify(job.id);
  }

  // Stages in the order the job first entered them, each with its latest message and the
  // time it was last active (parallel steps take turns, so a stage can come back).
  #track(job, held, event) {
    let stages = this.timelines.get(job.id) ?? [];
    if (held && held.attempts !== job.attempts) stages = [];
    const at = event?.ts ?? job.updated_at;
    if (job.stage) {
      const index = stages.findIndex((entry) => entry.stage === job.stage);
      const entry = index < 0 ? { stage: job.stage, since: at } : stages[index];
      const updated = { ...entry, message: job.message ?? entry.message, until: at };
      stages = index < 0 ? [...stages, updated] : stages.map((e, i) => (i === index ? updated : e));
    }
    this.timelines.set(job.id, stages);
  }
}
