// One job in full: status and actions, progress, stage timeline, the streamed output,
// then the result or the error, usage and params. Sections redraw only when they change.
import { h, replaceChildren } from "./dom.js";
import { clock, count, duration, elapsed, money } from "./format.js";
import { isTerminal } from "./jobcast.js";
import { badge, progressBar } from "./list.js";
import { jsonTree, renderResult } from "./render.js";

// A completed job whose result lists failed items can retry just those items.
const failedItems = (job) => (job.status === "completed" ? job.result?.failed_items?.length ?? 0 : 0);

const ACTIONS = [
  { action: "cancel", label: () => "Cancel", when: (job) => !isTerminal(job.status) },
  { action: "retry", label: () => "Retry", when: (job) => job.status === "failed" || job.status === "cancelled" },
  {
    action: "retry-items",
    label: (job) => `Retry ${failedItems(job)} failed item${failedItems(job) === 1 ? "" : "s"}`,
    when: (job) => failedItems(job) > 0,
  },
  { action: "delete", label: () => "Delete", when: (job) => isTerminal(job.status) },
];

export class JobView {
  constructor(root, { title, onAction }) {
    this.root = root;
    this.title = title;
    this.onAction = onAction;
    this.id = null;
    this.keys = {};
  }

  clear(message = "Select a job, or submit one.") {
    this.id = null;
    this.keys = {};
    delete this.root.dataset.id;
    replaceChildren(this.root, h("p", { class: "placeholder" }, message));
  }

  show(job, timeline) {
    if (this.id !== job.id) this.#layout(job);
    this.root.dataset.status = job.status;
    this.#section("head", [job.status, job.attempts, this.busy], () => this.#head(job));
    this.#progress(job);
    this.#section("timeline", [JSON.stringify(timeline), job.status], () => this.#timeline(timeline, job));
    this.#output(job);
    this.#section("result", [job.result, job.output], () => this.#result(job));
    this.#section("error", [job.error], () => (job.error == null ? null : this.#error(job.error)));
    this.#section("usage", [JSON.stringify(job.usage), job.status, job.finished_at, job.attempts], () => this.#usage(job));
    this.tick(job);
  }

  setBusy(busy) {
    this.busy = busy;
  }

  tick(job) {
    const el = this.root.querySelector(".usage .elapsed");
    if (el && !isTerminal(job.status)) el.textContent = duration(elapsed(job));
  }

  #layout(job) {
    this.id = job.id;
    this.keys = {};
    this.root.dataset.id = job.id;
    this.parts = {
      head: h("header", { class: "view-head" }),
      progress: h("div", { class: "view-progress" }),
      timeline: h("ol", { class: "timeline" }),
      output: h("pre", { id: "output", class: "output", "aria-live": "polite" }),
      outputLabel: h("h3", {}, "Output"),
      result: h("div", { id: "result" }),
      error: h("div", { id: "error" }),
      usage: h("div", { class: "usage", id: "usage" }),
    };
    const p = this.parts;
    const params = h("details", { class: "params-view" }, h("summary", {}, "Params"), jsonTree(job.params ?? {}, 1));
    replaceChildren(this.root, p.head, p.progress, p.timeline, p.outputLabel, p.output, p.error, p.result, p.usage, params);
  }

  // Redraw one section when any of its keys changed (by identity or value).
  #section(name, keys, build) {
    const held = this.keys[name];
    if (held && held.length === keys.length && held.every((key, i) => key === keys[i])) return;
    this.keys[name] = keys;
    replaceChildren(this.parts[name], build());
  }

  #head(job) {
    const buttons = ACTIONS.filter(({ when }) => when(job)).map(({ action, label }) =>
      h("button", { type: "button", class: action === "delete" ? "danger" : "", dataset: { action }, disabled: this.busy, onclick: () => this.onAction(action, job.id) }, label(job)),
    );
    const attempts = job.attempts > 1 ? h("span", { class: "attempts" }, `attempt ${job.attempts}`) : null;
    return [
      h("div", { class: "view-title" }, h("h2", {}, this.title(job.type)), badge(job.status), attempts),
      h("code", { class: "view-id" }, job.id),
      h("div", { class: "actions" }, buttons),
    ];
  }

  #progress(job) {
    const key = `${job.progress}|${job.status}|${job.stage}|${job.message}|${job.retry_at}`;
    if (this.keys.progress === key) return;
    this.keys.progress = key;
    const retry = job.status === "retrying" && job.retry_at ? `next attempt at ${clock(job.retry_at)}` : null;
    const where = [job.stage, job.message, retry].filter(Boolean).join(" · ");
    const label = h("div", { class: "progress-label" }, h("strong", {}, `${job.progress ?? 0} %`), " ", where);
    replaceChildren(this.parts.progress, progressBar(job.progress, job.status, `Progress of ${this.title(job.type)}`), label);
  }

  #timeline(stages, job) {
    const ended = isTerminal(job.status);
    return stages.map((entry) => {
      const current = entry.stage === job.stage;
      const state = !current || job.status === "completed" ? "done" : ended ? job.status : "active";
      return h(
        "li",
        { class: `stage stage-${state}` },
        h("span", { class: "stage-name" }, entry.stage),
        h("span", { class: "stage-message" }, entry.message ?? ""),
        h("time", {}, clock(entry.since)),
      );
    });
  }

  // The streamed text is patched, not redrawn: it grows by a delta on every event.
  #output(job) {
    const pre = this.parts.output;
    const text = job.output ?? "";
    const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    if (pre.textContent !== text) pre.textContent = text;
    pre.classList.toggle("streaming", !isTerminal(job.status));
    pre.classList.toggle("empty", text === "");
    // A finished job that streamed nothing has no output to show.
    const hidden = text === "" && isTerminal(job.status);
    pre.hidden = hidden;
    this.parts.outputLabel.hidden = hidden;
    this.parts.outputLabel.textContent = job._outputLabel && text ? `Output · ${job._outputLabel}` : "Output";
    if (stick) pre.scrollTop = pre.scrollHeight;
  }

  #result(job) {
    if (job.result == null) return null;
    return [h("h3", {}, "Result"), renderResult(job.result, { shown: job.output })];
  }

  #error(error) {
    return h("div", { class: "error-box", role: "alert" }, h("strong", {}, error.code ?? "error"), " ", error.message ?? "");
  }

  #usage(job) {
    const usage = job.usage ?? {};
    const item = (label, value, cls = "") => h("div", {}, h("dt", {}, label), h("dd", { class: cls }, value));
    const items = [item("elapsed", duration(elapsed(job)), "elapsed")];
    if (job.usage) {
      const provider = h("span", { class: `provider provider-${usage.provider}` }, usage.provider ?? "–");
      items.unshift(item("provider", provider));
      items.push(
        item("prompt tokens", count(usage.prompt_tokens)),
        item("completion tokens", count(usage.completion_tokens)),
        item("model calls", count(usage.llm_calls)),
        item("model time", usage.llm_seconds == null ? "–" : duration(usage.llm_seconds * 1000)),
      );
      if (usage.cost != null) items.push(item("cost", money(usage.cost), "cost"));
    }
    if (job.attempts > 1) items.push(item("attempts", count(job.attempts)));
    return h("dl", {}, items);
  }
}
