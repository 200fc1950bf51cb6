// node --import ./test/helpers/record-loads.mjs: every module URL the process resolves that lies
// under node_modules/@opentelemetry/ is appended to the file RECORD_LOADS names (test/otel-off.test.ts).
import { register } from "node:module";

register("./record-loads-hooks.mjs", import.meta.url);
