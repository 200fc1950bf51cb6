/** Writes tools.manifest.json, config.schema.json, the MCPB manifest.json and the tool and flag tables in docs/ from the source. */
import { readFileSync, writeFileSync } from "node:fs";
import { buildConfigSchema, buildManifest, stringify, withFlagTable, withToolTable } from "../src/catalog/manifest.js";
import { buildMcpbManifest, ICON, type PackageJson } from "./bundle-manifest.js";
import { iconPng } from "./icon.js";

const root = new URL("../../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as PackageJson;
writeFileSync(new URL("tools.manifest.json", root), stringify(buildManifest()));
writeFileSync(new URL("config.schema.json", root), stringify(buildConfigSchema()));
writeFileSync(new URL("manifest.json", root), stringify(buildMcpbManifest(pkg)));
writeFileSync(new URL(ICON, root), iconPng());
const toolsUrl = new URL("docs/tools.md", root);
writeFileSync(toolsUrl, withToolTable(readFileSync(toolsUrl, "utf8")));
const flagsUrl = new URL("docs/flags.md", root);
writeFileSync(flagsUrl, withFlagTable(readFileSync(flagsUrl, "utf8")));
process.stdout.write("wrote tools.manifest.json, config.schema.json, manifest.json and icon.png (MCPB) and the tool and flag tables in docs/\n");
