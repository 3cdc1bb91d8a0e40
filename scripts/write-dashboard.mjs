/* global console */
// Writes dashboards/modelship-serving.json from the builder in components/internal/gpu-telemetry.ts (built into
// dist/ first: `npm run dashboards`). test/components/gpu-telemetry.test.ts fails when the file and the builder differ.
import { createRequire } from "module";
import * as fs from "fs";
import * as path from "path";
import { fileURLToPath } from "url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const { servingDashboard } = require(path.join(root, "dist/components/internal/gpu-telemetry.js"));
const file = path.join(root, "dashboards", "modelship-serving.json");
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify(servingDashboard(), null, 2) + "\n");
console.log(`wrote ${path.relative(root, file)}`);
