// Any job result, readable without code for its type: long texts as paragraphs, lists of
// records (characters, personas, tasks, canvas objects…) as cards or a table, and the
// whole value as a collapsible JSON tree. Everything is set as text.
import { h } from "./dom.js";

const TITLE_KEYS = ["name", "title", "label", "summary", "id", "key"];
const SUBTITLE_KEYS = ["role", "type", "kind", "status", "priority"];
const LONG_TEXT = 80;

// `shown` is text already on the page (the streamed output): not repeated.
export function renderResult(result, { shown = null } = {}) {
  const parts = [];
  const texts = longTexts(result);
  for (const [label, text] of texts) {
    if (text !== shown) parts.push(h("section", { class: "result-text" }, h("h4", {}, label), h("p", {}, text)));
  }
  for (const [label, records] of collections(result)) parts.push(renderCollection(label, records));
  const repeated = texts.some(([, text]) => text === shown);
  const note = repeated && h("p", { class: "hint" }, "The text of this result is the output above.");
  const tree = h("details", { class: "json", open: parts.length === 0 && !repeated }, h("summary", {}, "JSON"), jsonTree(result));
  return h("div", { class: "result" }, parts, note, tree);
}

// Top-level strings long enough to be prose (e.g. chat's `text`).
function longTexts(value) {
  if (!isObject(value)) return typeof value === "string" ? [["text", value]] : [];
  return Object.entries(value).filter(([, v]) => typeof v === "string" && v.length >= LONG_TEXT);
}

// Arrays of objects at the top level or one level down, labelled by their path.
function collections(value, path = [], depth = 0) {
  if (isRecords(value)) return [[path.join(".") || "items", value]];
  if (!isObject(value) || depth > 1) return [];
  return Object.entries(value).flatMap(([key, child]) => collections(child, [...path, key], depth + 1));
}

function renderCollection(label, records) {
  const wordy = records.some((record) =>
    Object.values(record).some((v) => (typeof v === "string" && v.length > 60) || isObject(v) || Array.isArray(v)),
  );
  const body = wordy ? h("div", { class: "cards" }, records.map(card)) : table(records);
  const count = `${records.length} ${records.length === 1 ? "item" : "items"}`;
  return h("section", { class: "collection", dataset: { label } }, h("h4", {}, `${label} `, h("small", {}, count)), body);
}

function card(record) {
  const titleKey = TITLE_KEYS.find((key) => typeof record[key] === "string" || typeof record[key] === "number");
  const subtitleKey = SUBTITLE_KEYS.find((key) => key !== titleKey && isScalar(record[key]));
  const rest = Object.entries(record).filter(([key]) => key !== titleKey && key !== subtitleKey);
  return h(
    "article",
    { class: "card" },
    titleKey != null && h("h5", {}, String(record[titleKey])),
    subtitleKey != null && h("div", { class: "card-sub" }, `${subtitleKey}: ${record[subtitleKey]}`),
    h("dl", {}, rest.map(([key, value]) => [h("dt", {}, key), h("dd", {}, fieldValue(value))])),
  );
}

function table(records) {
  const columns = [...new Set(records.flatMap((record) => Object.keys(record)))].slice(0, 10);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", {}, column)))),
      h("tbody", {}, records.map((record) => h("tr", {}, columns.map((column) => h("td", {}, fieldValue(record[column])))))),
    ),
  );
}

function fieldValue(value) {
  if (value == null) return "–";
  if (Array.isArray(value) && value.every(isScalar)) {
    return h("span", { class: "chips" }, value.map((item) => h("span", { class: "chip" }, String(item))));
  }
  if (isObject(value) || Array.isArray(value)) return jsonTree(value, 0);
  return String(value);
}

// A collapsible tree; the first `openDepth` levels start open.
export function jsonTree(value, openDepth = 2, depth = 0) {
  if (isObject(value) || Array.isArray(value)) {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) return h("span", { class: "json-empty" }, brackets.join(""));
    const summary = `${brackets[0]} ${entries.length} ${Array.isArray(value) ? "items" : "keys"} ${brackets[1]}`;
    return h(
      "details",
      { class: "json-node", open: depth < openDepth },
      h("summary", {}, summary),
      h(
        "ul",
        {},
        entries.map(([key, child]) =>
          h("li", {}, h("span", { class: "json-key" }, `${key}: `), jsonTree(child, openDepth, depth + 1)),
        ),
      ),
    );
  }
  const kind = value === null ? "null" : typeof value;
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return h("span", { class: `json-${kind}` }, text);
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isScalar(value) {
  return value == null || ["string", "number", "boolean"].includes(typeof value);
}

function isRecords(value) {
  return Array.isArray(value) && value.length > 0 && value.every(isObject);
}
