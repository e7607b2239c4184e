// sse.mjs URL [BODY]: reads the Server-Sent Events of URL with the
// eventsource package (a GET, or a POST of BODY) until the server's "error"
// event or WANT values, then prints {"values": [...], "error": "..."}.
import { EventSource } from 'eventsource';

const [url, body] = process.argv.slice(2);
const want = Number(process.env.WANT ?? '0');
const init = body === undefined ? {} : {
  fetch: (input, opts) => fetch(input, {
    ...opts, method: 'POST', body,
    headers: { ...opts.headers, 'content-type': 'application/json' },
  }),
};
const es = new EventSource(url, init);
const values = [];
let serverError = null;
const finish = (code) => {
  es.close();
  process.stdout.write(JSON.stringify({ values, error: serverError }) + '\n');
  process.exit(code);
};
es.onmessage = (e) => {
  values.push(JSON.parse(e.data));
  if (want > 0 && values.length === want) finish(0);
};
es.addEventListener('error', (e) => {
  // The server's "event: error" carries data; a failed or closed
  // connection does not (the client would reconnect).
  if (typeof e.data === 'string') {
    serverError = JSON.parse(e.data).error;
    finish(0);
  } else {
    process.stderr.write(`connection error: ${e.message ?? e.code ?? 'closed'}\n`);
    finish(1);
  }
});
setTimeout(() => { process.stderr.write('timed out\n'); finish(2); }, 20000);
