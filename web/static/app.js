// The dashboard: wires the form, the job list, the job view and the connection indicator
// to the REST API and to one live watcher per unfinished job (see jobcast.js).
import { ApiError, createApi } from "./api.js";
import { $, h, replaceChildren } from "./dom.js";
import { JobForm } from "./form.js";
import { money } from "./format.js";
import { isTerminal } from "./jobcast.js";
import { JobList } from "./list.js";
import { JobStore } from "./store.js";
import { JobView } from "./view.js";

const KEY_STORAGE = "jobcast.apiKey";
const LIST_REFRESH_MS = 5000; // picks up jobs submitted elsewhere (CLI, other tabs)
const INDICATOR = {
  idle: "idle",
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  polling: "polling",
};

const store = new JobStore({ apiKey: localStorage.getItem(KEY_STORAGE) || null, onError: notify });
const api = createApi(() => store.apiKey);
const list = new JobList($("#jobs"));
const titles = new Map();
const view = new JobView($("#job-view"), { title: (type) => titles.get(type) ?? type, onAction: act });
const statusFilter = $("#status-filter");
let selected = null;

function selectedFromHash() {
  const match = window.location.hash.match(/^#\/jobs\/(.+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

async function select(id) {
  selected = id;
  if (!id) {
    view.clear();
  } else if (!store.get(id)) {
    try {
      store.upsert(await api.getJob(id)); // a link to a job that is not in the list
    } catch (error) {
      if (selected === id) view.clear(error instanceof ApiError ? error.message : String(error));
      return;
    }
  }
  redraw(null);
}

function redraw(changedId) {
  const indicator = $("#connection");
  const state = store.connectionState();
  indicator.dataset.state = state;
  indicator.textContent = INDICATOR[state];
  list.render([...store.jobs.values()], { status: statusFilter.value, selected });
  if (selected && (changedId === null || changedId === selected)) {
    const job = store.get(selected);
    if (job) view.show(job, store.timeline(selected));
    else view.clear("This job no longer exists.");
  }
}

async function refreshList() {
  try {
    const page = await api.listJobs(statusFilter.value);
    store.listOffline = false;
    for (const job of page.jobs) store.upsert(job);
    if (!statusFilter.value) forgetDeleted(page);
  } catch (error) {
    store.listOffline = !(error instanceof ApiError) || error.status === 0 || error.status >= 500;
    if (error instanceof ApiError && error.status === 401) notify("The server wants an API key: enter it above.");
  }
  redraw(null);
  await refreshSpend();
}

// The owner's spend this period, against its budget when it has one (GET /usage).
async function refreshSpend() {
  const box = $("#spend");
  try {
    const usage = await api.usage();
    const when = usage.period === "month" ? "this month" : "today";
    const budget = usage.budget;
    box.textContent = budget ? `${money(budget.spent)} of ${money(budget.amount)} ${when}` : `${money(usage.cost)} ${when}`;
    box.dataset.exhausted = String(Boolean(budget && budget.remaining <= 0));
    box.hidden = false;
  } catch {
    box.hidden = true; // an older server, or no key yet: the list says why
  }
}

// Finished jobs that the newest page should hold but does not were deleted elsewhere.
function forgetDeleted(page) {
  const listed = new Set(page.jobs.map((job) => job.id));
  const oldest = page.next ? (page.jobs.at(-1)?.created_at ?? "") : "";
  for (const job of [...store.jobs.values()]) {
    const covered = (job.created_at ?? "") >= oldest;
    if (covered && !listed.has(job.id) && isTerminal(job.status) && job.id !== selected) store.remove(job.id);
  }
}

async function submit(body) {
  try {
    const job = await api.submit(body);
    store.upsert(job);
    window.location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    form.showErrors(error);
  }
}

async function act(action, id) {
  view.setBusy(true);
  redraw(id);
  try {
    if (action === "delete") {
      await api.remove(id);
      store.remove(id);
      if (selected === id) window.location.hash = "";
    } else {
      const call = { cancel: api.cancel, retry: api.retry, "retry-items": api.retryFailedItems }[action];
      store.upsert(await call(id));
    }
  } catch (error) {
    notify(error instanceof ApiError ? `${action}: ${error.message}` : String(error));
  } finally {
    view.setBusy(false);
    redraw(id);
  }
}

let notifyTimer = null;
function notify(message) {
  const box = $("#notice");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(notifyTimer);
  notifyTimer = setTimeout(() => (box.hidden = true), 6000);
}

function setUpKeyField() {
  const input = $("#api-key");
  input.value = store.apiKey ?? "";
  $("#key-form").addEventListener("submit", (event) => event.preventDefault());
  input.addEventListener("change", () => {
    const key = input.value.trim() || null;
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
    store.setApiKey(key);
    start();
  });
}

let form = null;
async function loadForm() {
  try {
    const types = await api.jobTypes();
    for (const type of types) titles.set(type.type, type.title || type.type);
    list.setTitles(types);
    form = new JobForm($("#form-box"), { types, onSubmit: submit });
  } catch (error) {
    replaceChildren($("#form-box"), h("p", { class: "form-error" }, `Cannot load job types: ${error.message}`));
  }
}

async function start() {
  await loadForm();
  await refreshList();
  await select(selectedFromHash());
}

store.subscribe(redraw);
setUpKeyField();
statusFilter.addEventListener("change", refreshList);
window.addEventListener("hashchange", () => select(selectedFromHash()));
setInterval(() => {
  if (document.visibilityState === "visible") refreshList();
}, LIST_REFRESH_MS);
setInterval(() => {
  const jobs = [...store.jobs.values()];
  list.tick(jobs);
  const job = selected && store.get(selected);
  if (job) view.tick(job);
}, 1000);
start();
