// Builds the web app's assets into web/static/build (not committed): every entries/*.js bundled by
// esbuild, and the GOV.UK Frontend, MOJ Frontend, bpmn-js and dmn-js styles, fonts and images copied
// from node_modules at the versions package-lock.json pins.
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(root, "web", "static", "build");
const modules = join(root, "node_modules");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const copy = (from, to) => cpSync(join(modules, from), join(out, to), { recursive: true });
copy("govuk-frontend/dist/govuk/govuk-frontend.min.css", "govuk/govuk-frontend.min.css");
copy("govuk-frontend/dist/govuk/assets", "govuk/assets");
copy("@ministryofjustice/frontend/moj/moj-frontend.min.css", "moj/moj-frontend.min.css");
copy("@ministryofjustice/frontend/moj/assets", "moj/assets");
copy("bpmn-js/dist/assets", "bpmn-js");
copy("dmn-js/dist/assets", "dmn-js");
copy("axe-core/axe.min.js", "axe/axe.min.js");

// The precompiled stylesheets name their fonts and images at /assets/: point them at where they are served.
for (const [css, assets] of [["govuk/govuk-frontend.min.css", "/static/build/govuk/assets/"],
                             ["moj/moj-frontend.min.css", "/static/build/moj/assets/"]]) {
  const file = join(out, css);
  writeFileSync(file, readFileSync(file, "utf8").replaceAll("url(/assets/", `url(${assets}`));
}

const entries = readdirSync(join(root, "web", "frontend", "entries")).filter((f) => f.endsWith(".js"));
await build({
  entryPoints: entries.map((f) => join(root, "web", "frontend", "entries", f)),
  outdir: join(out, "js"),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["es2020"],
  logLevel: "warning",
});
console.log(`built ${entries.length} bundles into web/static/build`);
