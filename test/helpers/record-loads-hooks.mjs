// Module resolve hook (see record-loads.mjs): records @opentelemetry modules as they are resolved.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const file = process.env.RECORD_LOADS;
  if (file && r.url.includes("/node_modules/@opentelemetry/")) appendFileSync(file, `${r.url}\n`);
  return r;
}
