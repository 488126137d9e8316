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
  const facts = shortFacts(result);
  if (facts.length) parts.push(h("dl", { class: "facts" }, facts.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, String(value))))));
  const texts = longTexts(result);
  for (const [label, text] of texts) {
    if (text !== shown) parts.push(h("section", { class: "result-text" }, h("h4", {}, label), h("p", {}, text)));
  }
  for (const [label, records] of collections(result)) {
    parts.push(renderCollection(label, records));
    const preview = canvasPreview(records);
    if (preview) parts.push(preview);
  }
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

// Short scalars at the top level or one level down (a title, a trigger, a count).
function shortFacts(value, path = [], depth = 0) {
  if (!isObject(value) || depth > 1) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const label = [...path, key].join(".");
    if (isObject(child)) return shortFacts(child, [...path, key], depth + 1);
    const short = ["number", "boolean"].includes(typeof child) || (typeof child === "string" && child.length < LONG_TEXT);
    return short ? [[label, child]] : [];
  });
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
  const subtitleKey = SUBTITLE_KEYS.find((key) => key !== titleKey && record[key] != null && isScalar(record[key]));
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
  if (value == null || (Array.isArray(value) && value.length === 0)) return "–";
  if (Array.isArray(value) && value.every(isScalar)) {
    return h("span", { class: "chips" }, value.map((item) => h("span", { class: "chip" }, String(item))));
  }
  if (isRecords(value) && value.every((record) => Object.values(record).every(isScalar))) return table(value);
  if (isObject(value) || Array.isArray(value)) return jsonTree(value, 1);
  return String(value);
}

// Records placed on a plane (numeric x, y, w, h: canvas objects, layouts) are also drawn.
const SVG = "http://www.w3.org/2000/svg";
const COLOR = /^(#[0-9a-f]{3,8}|[a-z]{3,20})$/i;

function canvasPreview(records) {
  const placed = records.filter((r) => ["x", "y", "w", "h"].every((key) => typeof r[key] === "number"));
  if (placed.length === 0 || placed.length !== records.length) return null;
  const width = Math.max(...placed.map((r) => r.x + r.w), 1);
  const height = Math.max(...placed.map((r) => r.y + r.h), 1);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "canvas-preview");
  for (const record of [...placed].sort((a, b) => (a.z ?? 0) - (b.z ?? 0))) {
    const color = typeof record.color === "string" && COLOR.test(record.color) ? record.color : "#8899aa";
    const rect = document.createElementNS(SVG, "rect");
    for (const [name, value] of Object.entries({ x: record.x, y: record.y, width: record.w, height: record.h, fill: color })) rect.setAttribute(name, String(value));
    rect.setAttribute("fill-opacity", "0.35");
    rect.setAttribute("stroke", color);
    svg.append(rect);
    const label = record.text ?? record.label ?? record.name ?? record.kind;
    if (label != null) {
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("x", String(record.x + 6));
      text.setAttribute("y", String(record.y + 18));
      text.textContent = String(label);
      svg.append(text);
    }
  }
  return h("figure", { class: "preview" }, svg, h("figcaption", {}, "Preview of the objects' positions and sizes"));
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
