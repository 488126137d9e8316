// The submit form, generated from each job type's `params_schema` (JSON Schema).
// The server is the one validator: its 422 details are shown next to the fields they name.
import { h, replaceChildren } from "./dom.js";

const TYPE_STORAGE = "jobcast.jobType";

export class JobForm {
  constructor(root, { types, onSubmit }) {
    this.root = root;
    this.types = new Map(types.map((type) => [type.type, type]));
    this.onSubmit = onSubmit;
    this.fields = new Map(); // "params.prompt" → { wrap, read }
    this.build();
  }

  build() {
    const options = [...this.types.values()].map((type) => h("option", { value: type.type }, type.title || type.type));
    this.typeSelect = h("select", { id: "job-type", name: "type", onchange: () => this.#showType() }, options);
    this.description = h("p", { class: "hint" });
    this.paramsBox = h("div", { class: "params" });
    this.general = h("div", { class: "form-error", role: "alert", hidden: true });
    this.submitButton = h("button", { type: "submit", class: "primary" }, "Submit job");
    this.form = h(
      "form",
      { id: "job-form", novalidate: true, onsubmit: (event) => this.#submit(event) },
      h("label", { class: "field", for: "job-type" }, h("span", { class: "label" }, "Job type"), this.typeSelect),
      this.description,
      this.paramsBox,
      this.general,
      h("div", { class: "form-actions" }, this.submitButton),
    );
    replaceChildren(this.root, this.form);
    const remembered = localStorage.getItem(TYPE_STORAGE);
    const initial = [remembered, "chat"].find((name) => this.types.has(name));
    if (initial) this.typeSelect.value = initial;
    this.#showType();
  }

  #showType() {
    const type = this.types.get(this.typeSelect.value);
    if (type) localStorage.setItem(TYPE_STORAGE, type.type);
    this.description.textContent = type?.description ?? "";
    this.fields.clear();
    const schema = type?.params_schema ?? {};
    const required = new Set(schema.required ?? []);
    const params = Object.entries(schema.properties ?? {}).map(([name, property]) =>
      this.#field(`params.${name}`, name, resolve(property, schema), required.has(name)),
    );
    const limit = type?.time_limit;
    const advanced = h(
      "details",
      { class: "advanced" },
      h("summary", {}, "Priority and time limit"),
      this.#field("priority", "priority", { type: "integer", minimum: -10, maximum: 10, title: "Priority", description: "−10 … 10; higher runs first" }, false),
      this.#field("time_limit", "time_limit", { type: "integer", minimum: 1, maximum: limit, title: "Time limit (s)", description: limit ? `at most ${limit} s` : "" }, false),
    );
    replaceChildren(this.paramsBox, params, advanced);
  }

  #field(path, name, schema, required) {
    const id = `field-${path.replace(/\W/g, "-")}`;
    const { input, read } = control(id, name, schema, required);
    const error = h("div", { class: "field-error", role: "alert", hidden: true });
    const label = h("span", { class: "label" }, schema.title || name, required && h("abbr", { title: "required" }, " *"));
    const hint = schema.description && h("span", { class: "hint" }, schema.description);
    const wrap = h("div", { class: "field", dataset: { field: path } }, h("label", { for: id }, label), input, hint, error);
    this.fields.set(path, { wrap, error, read });
    return wrap;
  }

  async #submit(event) {
    event.preventDefault();
    this.clearErrors();
    const body = { type: this.typeSelect.value, params: {} };
    const local = [];
    for (const [path, field] of this.fields) {
      let value;
      try {
        value = field.read();
      } catch (error) {
        local.push({ field: path, message: error.message });
        continue;
      }
      if (value === undefined) continue;
      if (path.startsWith("params.")) body.params[path.slice("params.".length)] = value;
      else body[path] = value;
    }
    if (local.length) {
      this.showErrors({ message: "Some fields are not valid", details: local });
      return;
    }
    this.submitButton.disabled = true;
    try {
      await this.onSubmit(body);
    } finally {
      this.submitButton.disabled = false;
    }
  }

  clearErrors() {
    this.general.hidden = true;
    for (const { wrap, error } of this.fields.values()) {
      wrap.classList.remove("invalid");
      error.hidden = true;
      error.textContent = "";
    }
  }

  // An API error: each detail next to its field, anything else above the button.
  showErrors(apiError) {
    const loose = [];
    for (const detail of apiError.details ?? []) {
      const field = this.fields.get(detail.field);
      if (!field) {
        loose.push(detail.field ? `${detail.field}: ${detail.message}` : detail.message);
        continue;
      }
      field.wrap.classList.add("invalid");
      field.error.hidden = false;
      field.error.textContent = field.error.textContent ? `${field.error.textContent}; ${detail.message}` : detail.message;
    }
    if (loose.length || !(apiError.details ?? []).length) {
      this.general.hidden = false;
      this.general.textContent = [apiError.message, ...loose].join(" — ");
    }
  }
}

// ---- One input per schema shape ------------------------------------------------------

function control(id, name, schema, required) {
  const placeholder = schema.examples?.[0] != null ? String(schema.examples[0]) : "";
  if (Array.isArray(schema.enum)) return enumControl(id, name, schema, required);
  if (schema.type === "boolean") {
    const input = h("input", { id, name, type: "checkbox", checked: schema.default === true });
    return { input, read: () => input.checked };
  }
  if (schema.type === "integer" || schema.type === "number") {
    const step = schema.type === "integer" ? "1" : "any";
    const input = h("input", { id, name, type: "number", step, min: schema.minimum, max: schema.maximum, value: schema.default ?? "", placeholder });
    return { input, read: () => readNumber(input.value, schema.type) };
  }
  if (schema.type === "string") {
    const long = schema.maxLength == null || schema.maxLength > 200;
    const input = long
      ? h("textarea", { id, name, rows: (schema.maxLength ?? 0) > 2000 ? 4 : 2, placeholder, value: schema.default ?? "" })
      : h("input", { id, name, type: "text", placeholder, value: schema.default ?? "" });
    return { input, read: () => (input.value === "" && !required ? undefined : input.value) };
  }
  if (schema.type === "array" && ["string", undefined].includes(schema.items?.type) && !schema.items?.enum) {
    const input = h("textarea", { id, name, rows: 3, placeholder: "one per line", value: (schema.default ?? []).join("\n") });
    return { input, read: () => readLines(input.value, required) };
  }
  const input = h("textarea", { id, name, rows: 3, class: "mono", placeholder: "JSON", value: schema.default === undefined ? "" : JSON.stringify(schema.default) });
  return { input, read: () => readJson(input.value) };
}

function enumControl(id, name, schema, required) {
  const options = schema.enum.map((value) => h("option", { value: JSON.stringify(value) }, String(value)));
  const blank = !required && h("option", { value: "" }, "—");
  const input = h("select", { id, name }, blank, options);
  if (schema.default !== undefined) input.value = JSON.stringify(schema.default);
  return { input, read: () => (input.value === "" ? undefined : JSON.parse(input.value)) };
}

function readNumber(raw, type) {
  if (raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || (type === "integer" && !Number.isInteger(value))) {
    throw new Error(type === "integer" ? "must be a whole number" : "must be a number");
  }
  return value;
}

function readLines(raw, required) {
  const lines = raw.split("\n").map((line) => line.trim()).filter(Boolean);
  return lines.length === 0 && !required ? undefined : lines;
}

function readJson(raw) {
  if (raw.trim() === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error("must be valid JSON");
  }
}

// Follows `$ref` into `$defs` and unwraps pydantic's `anyOf: [X, {type: null}]` for optionals.
function resolve(schema, root) {
  let current = schema;
  for (let i = 0; i < 5 && current?.$ref; i++) {
    const name = current.$ref.split("/").pop();
    current = { ...root.$defs?.[name], ...withoutRef(current) };
  }
  const options = current.anyOf ?? current.oneOf;
  if (Array.isArray(options)) {
    const real = options.filter((option) => option.type !== "null");
    if (real.length === 1) return resolve({ ...withoutKeys(current, ["anyOf", "oneOf"]), ...real[0], title: current.title, description: current.description, default: current.default ?? real[0].default }, root);
  }
  return current;
}

function withoutRef(schema) {
  return withoutKeys(schema, ["$ref"]);
}

function withoutKeys(schema, keys) {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !keys.includes(key)));
}
