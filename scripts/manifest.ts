/** Writes tools.manifest.json, config.schema.json, the MCPB manifest.json and the README tool table from the source. */
import { readFileSync, writeFileSync } from "node:fs";
import { buildConfigSchema, buildManifest, stringify, withToolTable } from "../src/catalog/manifest.js";
import { buildMcpbManifest, type PackageJson } from "./bundle-manifest.js";

const root = new URL("../../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as PackageJson;
writeFileSync(new URL("tools.manifest.json", root), stringify(buildManifest()));
writeFileSync(new URL("config.schema.json", root), stringify(buildConfigSchema()));
writeFileSync(new URL("manifest.json", root), stringify(buildMcpbManifest(pkg)));
const readmeUrl = new URL("README.md", root);
writeFileSync(readmeUrl, withToolTable(readFileSync(readmeUrl, "utf8")));
process.stdout.write("wrote tools.manifest.json, config.schema.json, manifest.json (MCPB) and the README tool table\n");
