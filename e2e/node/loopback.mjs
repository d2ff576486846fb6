// Preload (node --import) that makes servers listening on a bare port bind
// to 127.0.0.1 instead of every interface. internal/testpeer uses it to run
// @modelcontextprotocol/server-everything, which calls app.listen(PORT).
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const port = args[0];
  const bare = typeof port === "number" || (typeof port === "string" && /^\d+$/.test(port));
  if (bare && typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  return listen.apply(this, args);
};
