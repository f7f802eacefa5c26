// Start a stateless `@prisma/dev` (Prisma Postgres local server) on loopback ports.
//
// Usage: node server.mjs --port HTTP --db-port PG --shadow-port PG2 --streams-port S --info FILE
// Writes {"url": "prisma+postgres://...", "databaseUrl": "postgres://...", "httpUrl": ...} to FILE
// (atomically) once every route answers, then runs until SIGTERM/SIGINT, which closes the server.
import { writeFileSync, renameSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { parseArgs } from "node:util";

import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";

// Without a global context manager every @prisma/dev route answers an empty 500
// ("No active logger found"), see shared/reference/prisma.md section 3.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// @prisma/dev's HTTP server calls listen(port) with no host, i.e. all interfaces.
// Force loopback for every listen() in this process that does not name a host.
const LOOPBACK = "127.0.0.1";
for (const proto of [net.Server.prototype, http.Server.prototype]) {
  const original = proto.listen;
  if (original.__loopback) continue;
  const patched = function (...args) {
    if (typeof args[0] === "number" && (args.length === 1 || typeof args[1] !== "string")) {
      args.splice(1, 0, LOOPBACK);
    } else if (args[0] && typeof args[0] === "object" && !args[0].path && !args[0].host) {
      args[0] = { ...args[0], host: LOOPBACK };
    }
    return original.apply(this, args);
  };
  patched.__loopback = true;
  proto.listen = patched;
}

// @prisma/dev 0.25.2 lets some PostgreSQL errors escape as uncaught exceptions (measured: a
// deferred foreign-key violation raised at COMMIT of an `INSERT ... RETURNING`), which would
// kill the whole server. Log them and keep serving; the request itself is answered by the
// executor's own error handling or times out on the client.
process.on("uncaughtException", (err) => {
  console.error("[server.mjs] uncaught exception (kept running):", err?.message ?? err);
});
process.on("unhandledRejection", (err) => {
  console.error("[server.mjs] unhandled rejection (kept running):", err?.message ?? err);
});

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "db-port": { type: "string" },
    "shadow-port": { type: "string" },
    "streams-port": { type: "string" },
    name: { type: "string", default: `djprisma${process.pid}` },
    info: { type: "string" },
  },
});

const { startPrismaDevServer } = await import("@prisma/dev");
const server = await startPrismaDevServer({
  name: values.name,
  port: Number(values.port),
  databasePort: Number(values["db-port"]),
  shadowDatabasePort: Number(values["shadow-port"]),
  streamsPort: Number(values["streams-port"]),
  persistenceMode: "stateless",
});

let closing = false;
async function shutdown(signal) {
  if (closing) return;
  closing = true;
  console.error(`[server.mjs] ${signal}: closing`);
  const timer = setTimeout(() => process.exit(1), 8000);
  try {
    await server.close();
  } catch (err) {
    console.error("[server.mjs] close failed", err);
  }
  clearTimeout(timer);
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

const info = {
  url: server.ppg.url,
  httpUrl: server.http.url,
  databaseUrl: server.database.connectionString,
  name: server.name,
  pid: process.pid,
};
if (values.info) {
  writeFileSync(`${values.info}.tmp`, JSON.stringify(info));
  renameSync(`${values.info}.tmp`, values.info);
}
console.error(`[server.mjs] ready on ${server.http.url}`);
