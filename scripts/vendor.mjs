// Copies the front-end libraries installed by `npm ci` into deskside/static/vendor/,
// where Django's static files finders and WhiteNoise serve them. That folder is
// gitignored: third-party files come from the npm lockfile, never from the repository
// or a CDN. Run: npm ci --no-audit --no-fund && npm run vendor
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "deskside", "static", "vendor");

// [installed file, name served under /static/vendor/]
const files = [["node_modules/htmx.org/dist/htmx.min.js", "htmx.min.js"]];

mkdirSync(target, { recursive: true });
let missing = 0;
for (const [source, name] of files) {
  const from = join(root, source);
  if (!existsSync(from)) {
    console.error(`Missing ${source}. Run "npm ci" first, then "npm run vendor".`);
    missing += 1;
    continue;
  }
  const to = join(target, name);
  copyFileSync(from, to);
  console.log(`Copied ${source} -> ${relative(root, to)}`);
}
process.exit(missing === 0 ? 0 : 1);
