// Fidelity-tier Worker, run by Miniflare (workerd) in tests. Two faces:
//
// (a) the D1 REST shape: POST /client/v4/accounts/{account}/d1/database/{db}/query|raw
//     with {sql, params} or {batch: [{sql, params}, ...]}, executed over a REAL D1 binding
//     with DB.batch() (atomic), answered with Cloudflare's envelope;
// (b) the workers-dbms protocol: /api/v1/databases/{id}/websocket (and POST .../query), served
//     by a Durable Object over ctx.storage.sql, with the Worker's message format, ';' splitting,
//     begin/commit/rollback interception and transaction lock.
//
// Differences from production are listed in README.md.

import { DurableObject } from "cloudflare:workers";

const ID = /^[a-z0-9_]+(?:-[a-z0-9_]+)*$/;
const D1_SLOTS = ["DB0", "DB1", "DB2", "DB3", "DB4", "DB5", "DB6", "DB7"];
const d1Slots = new Map(); // database id in the URL -> D1 binding name (first come, first served)
const LOCK_TIMEOUT_MS = 5000;

function json(body, status = 200) {
	return new Response(JSON.stringify(body), {
		status,
		headers: { "content-type": "application/json" },
	});
}

// --- (a) D1 REST ------------------------------------------------------------------------------

function splitSql(sql) {
	// Statements joined by ';' (quote-aware), as D1's /query "executes them as a batch".
	const out = [];
	let cur = "";
	let quote = null;
	for (let i = 0; i < sql.length; i++) {
		const ch = sql[i];
		if (quote) {
			cur += ch;
			if (ch === quote) quote = null;
		} else if (ch === "'" || ch === '"' || ch === "`") {
			quote = ch;
			cur += ch;
		} else if (ch === ";") {
			if (cur.trim()) out.push(cur);
			cur = "";
		} else {
			cur += ch;
		}
	}
	if (cur.trim()) out.push(cur);
	return out;
}

function d1Binding(env, dbId) {
	if (!d1Slots.has(dbId)) {
		if (d1Slots.size >= D1_SLOTS.length) return null;
		d1Slots.set(dbId, D1_SLOTS[d1Slots.size]);
	}
	return env[d1Slots.get(dbId)];
}

function d1Error(status, code, message) {
	return json({ result: null, success: false, errors: [{ code, message }], messages: [] }, status);
}

async function d1Rest(request, env, dbId, mode) {
	if (request.method !== "POST") return d1Error(405, 10000, "Method not allowed");
	const db = d1Binding(env, dbId);
	if (!db) return d1Error(404, 7404, "Could not route to /client/v4/accounts/d1: database not found");
	let body;
	try {
		body = await request.json();
	} catch (e) {
		return d1Error(400, 7400, "The request is malformed: invalid JSON");
	}
	const items = Array.isArray(body.batch)
		? body.batch
		: body.params && body.params.length
			? [{ sql: body.sql, params: body.params }]
			: splitSql(String(body.sql ?? "")).map((sql) => ({ sql, params: [] }));
	let results;
	try {
		const stmts = items.map((it) => {
			const s = db.prepare(it.sql);
			return it.params && it.params.length ? s.bind(...it.params) : s;
		});
		results = await db.batch(stmts);
	} catch (e) {
		const message = String(e.message || e).replace(/^D1_ERROR: /, "");
		return d1Error(400, 7500, message);
	}
	const result = results.map((r) => {
		const meta = r.meta || {};
		const out = {
			success: true,
			meta: {
				changed_db: meta.changed_db,
				changes: meta.changes,
				duration: meta.duration,
				last_row_id: meta.last_row_id,
				rows_read: meta.rows_read,
				rows_written: meta.rows_written,
				size_after: meta.size_after,
			},
		};
		const rows = r.results || [];
		if (mode === "raw") {
			const columns = rows.length ? Object.keys(rows[0]) : [];
			out.results = { columns, rows: rows.map((o) => columns.map((c) => o[c])) };
		} else {
			out.results = rows;
		}
		return out;
	});
	return json({ result, errors: [], messages: [], success: true });
}

// --- (b) workers-dbms Durable Object ------------------------------------------------------------

// Production keeps a transaction open across messages and undoes it with a point-in-time
// bookmark. Local workerd has neither (ctx.storage.transaction() blocks every other event, and
// there is no PITR), so this Worker keeps the open transaction as a LOG of the statements it
// ran: each statement runs in transactionSync() after a replay of the log and is then undone
// (so it sees the transaction's writes and nobody else does), commit replays the log for real,
// rollback drops it. Replays are deterministic as long as the statements are (random(),
// 'now' would differ between the answer and the commit); the lock keeps other writers out.
const UNDO = Symbol("undo");

export class DBMS extends DurableObject {
	constructor(ctx, env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.holder = null; // session tag holding the transaction lock
		this.log = null; // [query, args] of the open transaction
	}

	run(query, args, arrayMode) {
		const cursor = args && args.length ? this.sql.exec(query, ...args) : this.sql.exec(query);
		let results = Array.from(cursor);
		if (arrayMode) results = results.map((o) => Object.values(o));
		return { results, meta: { rows_read: cursor.rowsRead, rows_written: cursor.rowsWritten } };
	}

	// Outside a transaction each message is one implicit DO transaction, whose commit checks
	// deferred foreign keys after the reply is built: a violation resets the object and, under
	// workerd, the reply is lost with the socket. Check here, so the client gets the error
	// production sends ("Durable Object was reset ...") and the socket then closes.
	runAutocommit(query, args, arrayMode) {
		let out;
		let deferred = false;
		try {
			this.ctx.storage.transactionSync(() => {
				out = this.run(query, args, arrayMode);
				if (out.meta.rows_written > 0 && this.sql.exec("PRAGMA foreign_key_check").toArray().length) {
					deferred = true;
					throw new Error("FOREIGN KEY constraint failed: SQLITE_CONSTRAINT");
				}
			});
		} catch (e) {
			if (!deferred) throw e; // an ordinary statement error: no reset
			this.abortAfterReply = true;
			throw new Error(
				`Durable Object was reset and rolled back to its last known good state because of an error: ${e.message}`,
			);
		}
		return out;
	}

	replay(log) {
		for (const [query, args] of log) this.run(query, args, false);
	}

	// A statement inside the open transaction: on top of the replayed log, then undone.
	runInTransaction(query, args, arrayMode) {
		let out;
		try {
			this.ctx.storage.transactionSync(() => {
				this.replay(this.log);
				out = this.run(query, args, arrayMode);
				throw UNDO;
			});
		} catch (e) {
			if (e !== UNDO) throw e; // the statement failed: it is not logged
		}
		this.log.push([query, args]);
		return out;
	}

	async waitUnlocked(session) {
		const deadline = Date.now() + LOCK_TIMEOUT_MS;
		while (this.holder !== null && this.holder !== session) {
			if (Date.now() > deadline) {
				throw new Error(
					`database is locked by another session's open transaction; gave up after ${LOCK_TIMEOUT_MS / 1000} s`,
				);
			}
			await new Promise((r) => setTimeout(r, 5));
		}
	}

	async execute(session, query, args) {
		await this.waitUnlocked(session);
		const segments = String(query)
			.split(";")
			.filter((s) => s.trim());
		const controls = ["begin", "commit", "rollback"];
		let out = { results: [], meta: { rows_read: 0, rows_written: 0 } };
		let pending = [];
		const flush = (last) => {
			if (!pending.length) return;
			const query = pending.join(";");
			const bound = last ? args : null;
			out = this.log && this.holder === session ? this.runInTransaction(query, bound, true) : this.runAutocommit(query, bound, true);
			pending = [];
		};
		for (let i = 0; i < segments.length; i++) {
			const word = segments[i].trim().toLowerCase();
			if (controls.includes(word)) {
				flush(false);
				out = { results: [], meta: { rows_read: 0, rows_written: 0 } };
				await this.control(session, word);
			} else {
				pending.push(segments[i]);
			}
		}
		if (args && args.length && !pending.length) throw new Error("Wrong number of parameter bindings for SQL query.");
		flush(true);
		return out;
	}

	async control(session, word) {
		if (word === "begin") {
			if (this.holder === session) throw new Error("cannot start a transaction within a transaction");
			this.holder = session;
			this.log = [];
			return;
		}
		if (this.holder !== session) throw new Error(`cannot ${word} - no transaction is active`);
		const log = this.log;
		this.holder = null;
		this.log = null;
		if (word === "commit") {
			try {
				this.ctx.storage.transactionSync(() => {
					this.replay(log);
					// Deferred foreign keys are checked when the event's implicit transaction
					// commits, too late to answer: check them here and undo, as a reset would.
					if (this.sql.exec("PRAGMA foreign_key_check").toArray().length) {
						throw new Error("FOREIGN KEY constraint failed: SQLITE_CONSTRAINT");
					}
				});
			} catch (e) {
				this.abortAfterReply = true;
				throw new Error(
					`Durable Object was reset and rolled back to its last known good state because of an error: ${e.message}`,
				);
			}
			return;
		}
		// rollback: the log is dropped; like production, every socket goes after the reply.
		this.abortAfterReply = true;
	}

	async fetch(request) {
		const url = new URL(request.url);
		const id = url.pathname.split("/")[4];
		if (request.method === "POST" && url.pathname.endsWith("/query")) {
			if (!(await this.ctx.storage.get("SETTING_ENABLED"))) {
				return json({ success: false, error: "This database doesn't exist" }, 500);
			}
			try {
				const body = await request.json();
				await this.waitUnlocked(null);
				return json(this.run(body.query, body.arguments, body.arrayMode === true));
			} catch (e) {
				return json({ success: false, error: e.message }, 500);
			}
		}
		// Like workers-dbms: the websocket route enables (creates) the database first.
		await this.ctx.storage.put("SETTING_ENABLED", 1);
		if (request.headers.get("Upgrade") !== "websocket") {
			return new Response("Durable Object expected Upgrade: websocket", { status: 426 });
		}
		const [client, server] = Object.values(new WebSocketPair());
		const session = crypto.randomUUID();
		this.ctx.acceptWebSocket(server, [session]);
		void id;
		return new Response(null, { status: 101, webSocket: client });
	}

	async webSocketMessage(ws, message) {
		const session = this.ctx.getTags(ws)[0];
		const msg = JSON.parse(message.toString()); // throws: no reply, as in workers-dbms
		if (msg.type !== "request") throw new Error(`Unknown message.type: ${msg.type}`);
		if (msg.request.type !== "execute") throw new Error(`Unknown message.request.type: ${msg.request.type}`);
		let reply;
		try {
			const stmt = msg.request.stmt;
			reply = { type: "execute", result: await this.execute(session, stmt.query, stmt.arguments) };
		} catch (e) {
			reply = { type: "response_error", error: e.toString() };
		}
		ws.send(JSON.stringify(reply));
		if (this.abortAfterReply) {
			// workers-dbms calls ctx.abort() after its rollback reply, which breaks every socket.
			// Under workerd an abort loses the reply (and a delayed one kills the sockets of
			// clients that reconnect at once), and closing OTHER sessions' sockets from this
			// event is not delivered to them, so only this session's socket is closed here.
			this.abortAfterReply = false;
			ws.close(4000, "Durable Object reset (rollback)");
		}
	}

	async webSocketClose(ws, code) {
		const session = this.ctx.getTags(ws)[0];
		if (this.holder === session) [this.holder, this.log] = [null, null];
		try {
			ws.close(code, "Durable Object is closing WebSocket");
		} catch (e) {
			// already closed
		}
	}

	async webSocketError(ws) {
		const session = this.ctx.getTags(ws)[0];
		if (this.holder === session) [this.holder, this.log] = [null, null];
	}
}

export default {
	async fetch(request, env) {
		const url = new URL(request.url);
		const parts = url.pathname.split("/").filter(Boolean);
		// /client/v4/accounts/{a}/d1/database/{db}/{query|raw}
		if (parts[0] === "client" && parts[1] === "v4" && parts[4] === "d1" && parts.length === 8) {
			if (parts[7] === "query" || parts[7] === "raw") return d1Rest(request, env, parts[6], parts[7]);
		}
		// /api/v1/databases/{id}/{websocket|query}
		if (parts[0] === "api" && parts[1] === "v1" && parts[2] === "databases" && parts.length === 5) {
			const id = parts[3];
			if (!(id.length >= 4 && id.length <= 32 && ID.test(id))) {
				return json({ errors: [{ code: "invalid_string", path: ["params", "database_id"] }], success: false }, 400);
			}
			if (parts[4] === "websocket" || parts[4] === "query") {
				return env.DBMS.get(env.DBMS.idFromName(id)).fetch(request);
			}
		}
		return json({ success: false, error: "Not Found" }, 404);
	},
};
