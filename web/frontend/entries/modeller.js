// The process owners' editor: bpmn-js with a properties panel for what reviewflow's diagrams need
// (a user task's form, a service task's handler and parameters, a timer's deadline key, names,
// documentation and lanes), checking against the engine with errors marked on the elements, and
// deployment of a new version.
import Modeler from "bpmn-js/lib/Modeler";
import spiffworkflow from "../lib/spiffworkflow.json";
import { messages, postJson, showProblems, clearProblems } from "../lib/editor_common.js";

const data = JSON.parse(document.getElementById("modeller-data").textContent);
const catalogue = data.catalogue;
const modeler = new Modeler({ container: "#canvas", moddleExtensions: { spiffworkflow } });
const moddle = modeler.get("moddle");
const modeling = modeler.get("modeling");
const panel = document.getElementById("properties-form");
const empty = document.getElementById("properties-empty");

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  children.forEach((c) => node.appendChild(c));
  return node;
}

function field(id, label, input, hint) {
  const group = el("div", { class: "govuk-form-group" }, [el("label", { class: "govuk-label govuk-label--s", for: id, text: label })]);
  if (hint) group.appendChild(el("div", { class: "govuk-hint", id: id + "-hint", text: hint }));
  input.id = id;
  if (hint) input.setAttribute("aria-describedby", id + "-hint");
  group.appendChild(input);
  return group;
}

function select(options, current) {
  const s = el("select", { class: "govuk-select" });
  s.appendChild(el("option", { value: "", text: "None" }));
  for (const [value, text] of options) {
    const o = el("option", { value, text });
    if (value === current) o.selected = true;
    s.appendChild(o);
  }
  return s;
}

// A service task's parameter as a field of its type (text, a list of lines, a whole number, yes or no),
// written into the diagram as the Python literal the engine evaluates; anything else, or a value that is
// not a plain literal (due_date('R6'), a dict), is written as a Python expression, as is any value when the
// process owner ticks "Write it as a Python expression".
const STRING = String.raw`'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"`;
const pyString = (text) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
const unString = (literal) => literal.slice(1, -1).replace(/\\(.)/g, "$1");
const KINDS = {
  str: {
    read: (v) => (new RegExp(`^(?:${STRING})$`).test(v) ? unString(v) : null),
    write: (text) => (text === "" ? "" : pyString(text)),
    input: () => el("input", { class: "govuk-input", type: "text" }),
    hint: "Text, as it is to be used",
  },
  list: {
    read: (v) => {
      if (!new RegExp(`^\\[\\s*(?:(?:${STRING})\\s*(?:,\\s*|(?=\\])))*\\]$`).test(v)) return null;
      return (v.match(new RegExp(STRING, "g")) || []).map(unString).join("\n");
    },
    write: (text) => {
      const items = text.split("\n").map((t) => t.trim()).filter(Boolean);
      return items.length ? `[${items.map(pyString).join(", ")}]` : "";
    },
    input: () => el("textarea", { class: "govuk-textarea", rows: "3" }),
    hint: "One on each line",
  },
  int: {
    read: (v) => (/^-?\d+$/.test(v) ? v : null),
    write: (text) => (/^-?\d+$/.test(text.trim()) ? text.trim() : ""),
    input: () => el("input", { class: "govuk-input govuk-input--width-5", type: "text", inputmode: "numeric" }),
    hint: "A whole number",
  },
  bool: {
    read: (v) => (v === "True" || v === "False" ? v : null),
    write: (text) => text,
    input: () => {
      const s = el("select", { class: "govuk-select" });
      [["", "Not set"], ["True", "Yes"], ["False", "No"]].forEach(([value, text]) => s.appendChild(el("option", { value, text })));
      return s;
    },
    hint: "",
  },
};

function parameterField(p, value, store) {
  const id = `prop-param-${p.name}`;
  const kinds = p.types.filter((t) => KINDS[t]);  // str | list: the kind its value is written in, else the first
  const kindName = kinds.find((t) => value !== "" && KINDS[t].read(value) !== null) || kinds[0];
  const kind = KINDS[kindName];
  const typed = kind && (value === "" || kind.read(value) !== null);
  const wrapper = el("div", { class: "rf-parameter", "data-parameter": p.name });
  const label = `${p.name}${p.required ? "" : " (optional)"}`;
  const draw = (asExpression, current) => {
    wrapper.replaceChildren();
    const input = asExpression || !kind ? el("input", { class: "govuk-input", type: "text" }) : kind.input();
    input.value = asExpression || !kind ? current : kind.read(current) ?? "";
    input.addEventListener("change", () => {
      if (asExpression || !kind) store(input.value);
      else store(kind.write(input.value), kindName);
    });
    const hint = asExpression || !kind ? "A Python expression: quote literal text, e.g. 'panel'" : kind.hint;
    wrapper.appendChild(field(id, label, input, hint));
    if (kind) {
      const box = el("input", { class: "govuk-checkboxes__input", type: "checkbox", id: `${id}-expression` });
      box.checked = asExpression;
      box.addEventListener("change", () => {
        const now = asExpression ? input.value : kind.write(input.value);
        if (!box.checked && now !== "" && kind.read(now) === null) { box.checked = true; return; }  // not a literal
        draw(box.checked, now);
      });
      wrapper.appendChild(el("div", { class: "govuk-checkboxes govuk-checkboxes--small govuk-!-margin-bottom-4" }, [
        el("div", { class: "govuk-checkboxes__item" }, [box,
          el("label", { class: "govuk-label govuk-checkboxes__label", for: `${id}-expression`, text: "Write it as a Python expression" })]),
      ]));
    }
  };
  draw(!typed, value);
  return wrapper;
}

function extension(bo, type) {
  const values = (bo.extensionElements && bo.extensionElements.values) || [];
  return values.find((v) => v.$type === type);
}

function ensureExtension(element, type, attrs) {
  const bo = element.businessObject;
  let ext = bo.extensionElements;
  if (!ext) {
    ext = moddle.create("bpmn:ExtensionElements", { values: [] });
    modeling.updateProperties(element, { extensionElements: ext });
  }
  let found = ext.values.find((v) => v.$type === type);
  if (!found) {
    found = moddle.create(type, attrs);
    found.$parent = ext;
    ext.values.push(found);
  }
  return found;
}

function setProperty(element, name, value) {
  const props = ensureExtension(element, "spiffworkflow:Properties", { properties: [] });
  props.properties = props.properties.filter((p) => p.name !== name);
  if (value) props.properties.push(moddle.create("spiffworkflow:Property", { name, value }));
  modeling.updateProperties(element, {});          // mark the diagram changed
}

function timerDefinition(bo) {
  return (bo.eventDefinitions || []).find((d) => d.$type === "bpmn:TimerEventDefinition");
}

function render(element) {
  panel.replaceChildren();
  if (!element || element.type === "bpmn:Process" || element.type === "label") {
    panel.hidden = true; empty.hidden = false; return;
  }
  panel.hidden = false; empty.hidden = true;
  const bo = element.businessObject;
  panel.appendChild(el("p", { class: "govuk-body-s", text: `${element.type.replace("bpmn:", "")} ${bo.id}` }));
  const name = el("input", { class: "govuk-input", type: "text", value: bo.name || "" });
  name.addEventListener("change", () => modeling.updateProperties(element, { name: name.value }));
  panel.appendChild(field("prop-name", element.type === "bpmn:Lane" ? "Role (lane name)" : "Name", name));
  if (element.type !== "bpmn:Lane") {
    const docText = (bo.documentation && bo.documentation[0] && bo.documentation[0].text) || "";
    const doc = el("textarea", { class: "govuk-textarea", rows: "4" });
    doc.value = docText;
    doc.addEventListener("change", () => {
      modeling.updateProperties(element, { documentation: doc.value ? [moddle.create("bpmn:Documentation", { text: doc.value })] : [] });
    });
    panel.appendChild(field("prop-doc", "Instructions and source paragraph", doc, "Shown beside the form, e.g. 003 §4.3"));
  }
  if (element.type === "bpmn:UserTask") {
    const props = extension(bo, "spiffworkflow:Properties");
    const current = props ? (props.properties.find((p) => p.name === "formJsonSchemaFilename") || {}).value : "";
    const form = select(catalogue.forms.map((f) => [f, f]), current);
    form.addEventListener("change", () => {
      setProperty(element, "formJsonSchemaFilename", form.value);
      const ui = form.value.replace(/\.json$/, ".ui.json");
      setProperty(element, "formUiSchemaFilename", catalogue.forms.includes(ui) ? ui : "");
    });
    panel.appendChild(field("prop-form", "Form", form));
  }
  if (element.type === "bpmn:ServiceTask") {
    const op = extension(bo, "spiffworkflow:ServiceTaskOperator");
    const handler = select(catalogue.handlers.map((h) => [h.name, `${h.name}: ${h.description}`]), op ? op.id : "");
    panel.appendChild(field("prop-handler", "Handler", handler));
    const params = el("div");
    panel.appendChild(params);
    const drawParams = () => {
      params.replaceChildren();
      const chosen = catalogue.handlers.find((h) => h.name === handler.value);
      if (!chosen) return;
      const operator = ensureExtension(element, "spiffworkflow:ServiceTaskOperator", { id: chosen.name, resultVariable: `${bo.id}_result` });
      operator.id = chosen.name;
      if (!operator.parameterList) operator.parameterList = moddle.create("spiffworkflow:Parameters", { parameters: [] });
      for (const p of chosen.parameters) {
        const existing = operator.parameterList.parameters.find((x) => x.id === p.name);
        const store = (expression, type) => {
          operator.parameterList.parameters = operator.parameterList.parameters.filter((x) => x.id !== p.name);
          if (expression) operator.parameterList.parameters.push(moddle.create("spiffworkflow:Parameter", { id: p.name, type: type || p.types[0] || "str", value: expression }));
          modeling.updateProperties(element, {});
        };
        params.appendChild(parameterField(p, existing ? existing.value : "", store));
      }
    };
    handler.addEventListener("change", drawParams);
    drawParams();
  }
  const timer = element.type === "bpmn:BoundaryEvent" || element.type === "bpmn:IntermediateCatchEvent" ? timerDefinition(bo) : null;
  if (timer) {
    const body = (timer.timeDate && timer.timeDate.body) || "";
    const match = body.match(/^(deadline|reminder)\("([A-Z][A-Z0-9_]*)"(?:,\s*(\d+))?\)$/);
    const keys = [...new Map(catalogue.deadlines.map((d) => [d.key, `${d.key}: ${d.name} (${d.ruleset})`])).entries()];
    const key = select(keys, match ? match[2] : "");
    const kind = select([["deadline", "When it is missed"], ["reminder", "A reminder before it"]], match ? match[1] : "deadline");
    const days = el("input", { class: "govuk-input govuk-input--width-2", type: "text", inputmode: "numeric", value: match && match[3] ? match[3] : "2" });
    const write = () => {
      if (!key.value) return;
      const expr = kind.value === "reminder" ? `reminder("${key.value}", ${parseInt(days.value, 10) || 2})` : `deadline("${key.value}")`;
      const def = moddle.create("bpmn:FormalExpression", { body: expr });
      timer.timeDate = def;
      timer.timeDuration = undefined; timer.timeCycle = undefined;
      modeling.updateProperties(element, {});
    };
    [key, kind, days].forEach((input) => input.addEventListener("change", write));
    panel.appendChild(field("prop-deadline", "Deadline (from the rule sets)", key));
    panel.appendChild(field("prop-timer-kind", "Fires", kind));
    panel.appendChild(field("prop-days", "Working days before, for a reminder", days));
  }
}

modeler.on("selection.changed", ({ newSelection }) => render(newSelection[0]));
modeler.on("element.changed", ({ element }) => {
  const selected = modeler.get("selection").get()[0];
  if (selected && selected.id === element.id && !panel.contains(document.activeElement)) render(selected);
});

async function currentXml() {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

const buttons = [document.getElementById("validate"), document.getElementById("deploy")];

async function run(kind) {
  clearProblems(modeler);
  document.getElementById("modeller-messages").replaceChildren();
  buttons.forEach((b) => { b.disabled = true; });
  let result;
  try {
    result = await postJson(kind === "deploy" ? data.deploy : data.validate, { file: data.file, xml: await currentXml() }, data.csrf);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
  if (result.ok) {
    if (kind === "deploy") {
      const versions = (result.processes || []).map((p) => `${p.process_id} version ${p.version}`).join(", ");
      messages("success", versions ? `Deployed ${versions}. Cases already running stay on their version.` : "Nothing changed, so no new version was made.");
      if (versions) await refreshVersions();
    } else {
      messages("success", "No problems found. You can deploy it.");
    }
  } else {
    showProblems(modeler, result.problems || [], data.file);
  }
}

document.getElementById("validate").addEventListener("click", () => run("validate"));
document.getElementById("deploy").addEventListener("click", () => run("deploy"));
// The page's current version and its history, read again from the server after a deploy, so that what the
// page says matches what is deployed without losing the diagram being edited.
async function refreshVersions() {
  const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const id of ["current-version", "versions"]) {
    const now = document.getElementById(id);
    const then = fresh.getElementById(id);
    if (now && then) now.replaceWith(document.importNode(then, true));
  }
  document.getElementById("versions").dataset.refreshed = "true";
}

// Zoom: buttons for everyone (the mouse wheel with Ctrl works too), and the level said after each change.
const canvas = modeler.get("canvas");
const zoomScroll = modeler.get("zoomScroll");
const level = document.getElementById("zoom-level");
function sayZoom() {
  level.textContent = `Zoom ${Math.round(canvas.zoom() * 100)}%`;
}
function fit() {
  canvas.zoom("fit-viewport", "auto");
  sayZoom();
}
document.getElementById("zoom-in").addEventListener("click", () => { zoomScroll.stepZoom(1); sayZoom(); });
document.getElementById("zoom-out").addEventListener("click", () => { zoomScroll.stepZoom(-1); sayZoom(); });
document.getElementById("zoom-fit").addEventListener("click", fit);
document.querySelector(".rf-zoom").hidden = false;

// Opened fitted to the canvas if its steps can be read so, else at a readable size from its top left corner
// (a large diagram fitted into the window draws its steps a few pixels wide), clear of the palette; "Fit the
// diagram" shows it all.
const READABLE = 0.6;
function open() {
  fit();
  if (canvas.zoom() >= READABLE) return;
  const { inner, outer } = canvas.viewbox();
  const scale = 0.8;
  canvas.viewbox({ x: inner.x - 150, y: inner.y - 20, width: outer.width / scale, height: outer.height / scale });
  sayZoom();
}

modeler.importXML(data.xml).then(() => {
  open();
  document.getElementById("canvas").dataset.ready = "true";
});
window.reviewflowModeler = modeler;     // for browser tests and keyboard users' scripts
