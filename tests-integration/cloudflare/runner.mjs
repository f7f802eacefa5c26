// Start the fidelity-tier Worker under Miniflare on 127.0.0.1:<port>.
//   node runner.mjs --port 8787 [--persist DIR]
// Stops on SIGTERM/SIGINT (LocalServer stops it by PID).
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import path from "node:path";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(opt("--port", "8787"));
const persist = opt("--persist", null);
const here = path.dirname(fileURLToPath(import.meta.url));

const d1Databases = {};
for (let i = 0; i < 8; i++) d1Databases[`DB${i}`] = `local-d1-${i}`;

const mf = new Miniflare({
	modules: true,
	scriptPath: path.join(here, "worker.mjs"),
	compatibilityDate: "2026-04-01",
	host: "127.0.0.1",
	port,
	d1Databases,
	durableObjects: { DBMS: { className: "DBMS", useSQLite: true } },
	...(persist ? { d1Persist: path.join(persist, "d1"), durableObjectsPersist: path.join(persist, "do") } : {}),
});
const url = await mf.ready;
console.log(`miniflare ready on ${url}`);

const stop = async () => {
	try {
		await mf.dispose();
	} finally {
		process.exit(0);
	}
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
