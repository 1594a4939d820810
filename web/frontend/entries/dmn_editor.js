// Decision tables edited with dmn-js, checked and deployed through the engine like diagrams.
import DmnModeler from "dmn-js/lib/Modeler";
import { messages, postJson } from "../lib/editor_common.js";

const data = JSON.parse(document.getElementById("modeller-data").textContent);
const modeler = new DmnModeler({ container: "#canvas" });

const buttons = [document.getElementById("validate"), document.getElementById("deploy")];

async function run(kind) {
  document.getElementById("modeller-messages").replaceChildren();
  buttons.forEach((b) => { b.disabled = true; });
  let result;
  try {
    const { xml } = await modeler.saveXML({ format: true });
    result = await postJson(kind === "deploy" ? data.deploy : data.validate, { file: data.file, xml }, data.csrf);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
  if (result.ok) {
    const versions = (result.decisions || []).map((d) => `${d.decision_id} version ${d.version}`).join(", ");
    messages("success", kind === "deploy" ? (versions ? `Deployed ${versions}.` : "Nothing changed.") : "No problems found. You can deploy it.");
  } else {
    const items = (result.problems || []).map((p) => {
      const li = document.createElement("li");
      li.textContent = `${p.element_id ? p.element_id + ": " : ""}${p.message}`;
      return li;
    });
    messages("error", `${items.length} problem${items.length === 1 ? "" : "s"}: nothing was deployed`, items);
  }
}

document.getElementById("validate").addEventListener("click", () => run("validate"));
document.getElementById("deploy").addEventListener("click", () => run("deploy"));
modeler.importXML(data.xml).then(() => { document.getElementById("canvas").dataset.ready = "true"; });
window.reviewflowDmn = modeler;
