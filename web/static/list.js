// The live list of jobs: newest first, one row per job, updated in place.
import { h, replaceChildren } from "./dom.js";
import { duration, elapsed, shortId } from "./format.js";
import { isTerminal } from "./jobcast.js";

export function badge(status) {
  return h("span", { class: `badge status-${status}`, dataset: { status } }, status);
}

// A bar that assistive technology reads as one: its name says whose progress it shows.
export function progressBar(progress, status, label) {
  const value = progress ?? 0;
  const fill = h("div", { class: "progress-fill" });
  fill.style.width = `${value}%`;
  return h(
    "div",
    {
      class: `progress status-${status}`,
      role: "progressbar",
      "aria-label": label,
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": value,
      "aria-valuetext": `${value} %, ${status}`,
      dataset: { progress: value },
    },
    fill,
  );
}

export class JobList {
  constructor(root) {
    this.root = root;
    this.rows = new Map(); // id → { li, key }
    this.titles = new Map();
  }

  setTitles(types) {
    for (const type of types) this.titles.set(type.type, type.title || type.type);
  }

  render(jobs, { status, selected }) {
    const shown = jobs
      .filter((job) => !status || job.status === status)
      .sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? "") || b.id.localeCompare(a.id));
    const items = shown.map((job) => this.#row(job, job.id === selected));
    for (const id of this.rows.keys()) if (!shown.some((job) => job.id === id)) this.rows.delete(id);
    if (items.length === 0) items.push(h("li", { class: "empty" }, status ? `No ${status} jobs.` : "No jobs yet: submit one above."));
    replaceChildren(this.root, items);
  }

  // Only the elapsed times move between events.
  tick(jobs) {
    for (const job of jobs) {
      const row = this.rows.get(job.id);
      if (row && !isTerminal(job.status)) row.li.querySelector(".elapsed").textContent = duration(elapsed(job));
    }
  }

  #row(job, selected) {
    const key = [job.seq, job.status, job.progress, job.message, job.stage, job.finished_at, selected].join("|");
    const held = this.rows.get(job.id);
    if (held?.key === key) return held.li;
    const li = h(
      "li",
      { class: `job-row${selected ? " selected" : ""}`, dataset: { id: job.id, status: job.status } },
      h(
        "a",
        { href: `#/jobs/${encodeURIComponent(job.id)}` },
        h("div", { class: "row-top" }, h("span", { class: "job-type" }, this.titles.get(job.type) ?? job.type), h("code", { class: "job-id" }, shortId(job.id)), badge(job.status)),
        progressBar(job.progress, job.status, `Progress of ${this.titles.get(job.type) ?? job.type} ${shortId(job.id)}`),
        h(
          "div",
          { class: "row-bottom" },
          h("span", { class: "row-message" }, [job.stage, job.message].filter(Boolean).join(" · ") || "\u00a0"),
          h("span", { class: "elapsed" }, duration(elapsed(job))),
        ),
      ),
    );
    this.rows.set(job.id, { li, key });
    return li;
  }
}
