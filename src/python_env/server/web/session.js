// One WebSocket session per tab, speaking OpenEnv's /ws protocol: {"type": "reset"|"step"|"state",
// "data": ...} out, one reply frame back ("observation", "state" or "error"). The server holds
// one environment per connection, so this tab never shares an episode with another.

/** The server's URL for `path`, relative to this page (works behind a path prefix too). */
export function serverUrl(path) {
  return new URL(`../${path}`, window.location.href);
}

/** An error frame from the server (or a lost connection), with its message. */
export class SessionError extends Error {
  constructor(message, data = {}) {
    super(message);
    this.data = data;
  }
}

function describe(data) {
  const errors = Array.isArray(data.errors) ? data.errors : [];
  const details = errors.map((e) => `${(e.loc || []).join(".")}: ${e.msg || e.message || ""}`);
  return [data.message || data.code || "error", ...details].join("\n");
}

export class Session {
  constructor() {
    this.socket = null;
    this.waiting = null; // the resolver of the request in flight
    this.early = []; // frames that came unasked (a capacity error is sent right after connect)
    this.chain = Promise.resolve();
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Open a fresh connection (a new server session), closing any previous one. */
  async connect() {
    this.close();
    const url = serverUrl("ws");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    this.socket = socket;
    this.early = [];
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (this.waiting) { const done = this.waiting; this.waiting = null; done.resolve(frame); }
      else this.early.push(frame);
    };
    socket.onclose = () => {
      if (this.waiting) {
        const done = this.waiting;
        this.waiting = null;
        done.reject(new SessionError("The connection to the server closed; start a new episode."));
      }
    };
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new SessionError("Cannot open a WebSocket to the server."));
    });
  }

  close() {
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  /** Send one frame and wait for its reply; requests never overlap (the protocol has no ids). */
  request(type, data) {
    const run = async () => {
      if (this.early.length) return this.unwrap(this.early.shift());
      if (!this.open) throw new SessionError("Not connected; start a new episode.");
      const reply = new Promise((resolve, reject) => { this.waiting = { resolve, reject }; });
      this.socket.send(JSON.stringify(data === undefined ? { type } : { type, data }));
      return this.unwrap(await reply);
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => {});
    return result;
  }

  unwrap(frame) {
    if (frame.type === "error") throw new SessionError(describe(frame.data || {}), frame.data);
    return frame.data;
  }

  /** Start an episode; resolves to {observation, reward, done}. */
  async reset(options) {
    if (!this.open) await this.connect();
    return this.request("reset", options);
  }

  step(action) {
    return this.request("step", action);
  }
}

/** The observation of a reply envelope, with reward and done put back in. */
export function observationOf(envelope) {
  return { ...envelope.observation, reward: envelope.reward, done: Boolean(envelope.done) };
}
