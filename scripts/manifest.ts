/** Writes tools.manifest.json, config.schema.json and the README tool table from the source. */
import { readFileSync, writeFileSync } from "node:fs";
import { buildConfigSchema, buildManifest, stringify, withToolTable } from "../src/catalog/manifest.js";

const root = new URL("../../", import.meta.url);
writeFileSync(new URL("tools.manifest.json", root), stringify(buildManifest()));
writeFileSync(new URL("config.schema.json", root), stringify(buildConfigSchema()));
const readmeUrl = new URL("README.md", root);
writeFileSync(readmeUrl, withToolTable(readFileSync(readmeUrl, "utf8")));
process.stdout.write("wrote tools.manifest.json, config.schema.json and the README tool table\n");
