// Shared by the BPMN and DMN editors: talking to the engine and showing its answers accessibly.
export function messages(kind, text, items = []) {
  const box = document.getElementById("modeller-messages");
  box.replaceChildren();
  if (kind === "success") {
    const banner = document.createElement("div");
    banner.className = "govuk-notification-banner govuk-notification-banner--success";
    banner.setAttribute("role", "alert");
    const content = document.createElement("div");
    content.className = "govuk-notification-banner__content";
    const p = document.createElement("p");
    p.className = "govuk-notification-banner__heading";
    p.textContent = text;
    content.appendChild(p);
    banner.appendChild(content);
    box.appendChild(banner);
    return;
  }
  const summary = document.createElement("div");
  summary.className = "govuk-error-summary";
  summary.setAttribute("tabindex", "-1");
  const alert = document.createElement("div");
  alert.setAttribute("role", "alert");
  const title = document.createElement("h2");
  title.className = "govuk-error-summary__title";
  title.textContent = text;
  const list = document.createElement("ul");
  list.className = "govuk-list govuk-error-summary__list";
  items.forEach((item) => list.appendChild(item));
  const body = document.createElement("div");
  body.className = "govuk-error-summary__body";
  body.appendChild(list);
  alert.append(title, body);
  summary.appendChild(alert);
  box.appendChild(summary);
  summary.focus();
}

export async function postJson(url, body, csrf) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify(body),
  });
  try {
    return await response.json();
  } catch {
    return { ok: false, problems: [{ file: "", element_id: "", message: `The server answered ${response.status}` }] };
  }
}

let marked = [];

export function clearProblems(modeler) {
  const canvas = modeler.get("canvas");
  const overlays = modeler.get("overlays");
  marked.forEach((id) => { try { canvas.removeMarker(id, "rf-error"); } catch { /* gone */ } });
  overlays.remove({ type: "problem" });
  document.querySelectorAll(".djs-overlays.rf-error").forEach((node) => node.classList.remove("rf-error"));
  marked = [];
}

export function showProblems(modeler, problems, file) {
  const registry = modeler.get("elementRegistry");
  const canvas = modeler.get("canvas");
  const overlays = modeler.get("overlays");
  const items = problems.map((p) => {
    const li = document.createElement("li");
    const shape = p.element_id && registry.get(p.element_id);
    const text = `${p.element_id ? p.element_id + ": " : ""}${p.message}`;
    if (shape) {
      canvas.addMarker(p.element_id, "rf-error");
      marked.push(p.element_id);
      const note = document.createElement("span");
      note.className = "rf-problem-badge";
      note.textContent = p.message;
      overlays.add(p.element_id, "problem", { position: { bottom: -4, left: 0 }, html: note });
      const a = document.createElement("a");
      a.href = "#canvas";
      a.textContent = text;
      a.addEventListener("click", (event) => {
        event.preventDefault();
        modeler.get("selection").select(shape);
        canvas.scrollToElement ? canvas.scrollToElement(shape) : null;
      });
      li.appendChild(a);
    } else {
      li.textContent = (p.file && p.file !== file ? p.file + ": " : "") + text;
    }
    return li;
  });
  messages("error", `${problems.length} problem${problems.length === 1 ? "" : "s"}: nothing was deployed`, items);
}
