/**
 * The local console's page, script and style: static text, no request data in
 * it (the script reads deliveries and rejections as JSON and prints them with
 * `textContent`, never as HTML). The read token goes in a meta tag; it is
 * base64url characters only, checked by the caller.
 */
export const consoleHtml = (token: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="hookwarden-token" content="${token}">
<title>Hookwarden console</title>
<link rel="stylesheet" href="/console/app.css">
<script src="/console/app.js" defer></script>
</head>
<body>
<header><h1>Hookwarden console</h1><p id="status">connecting…</p></header>
<main>
<section>
<h2>Deliveries</h2>
<table><thead><tr><th>received</th><th>source</th><th>id</th><th>event type</th><th>size</th></tr></thead><tbody id="deliveries"></tbody></table>
</section>
<section>
<h2>Rejections</h2>
<table><thead><tr><th>at</th><th>source</th><th>status</th><th>code</th><th>reason</th><th>client</th><th>request id</th></tr></thead><tbody id="rejections"></tbody></table>
</section>
</main>
</body>
</html>
`;

export const CONSOLE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem;margin:0}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
#status{color:#666;margin:.25rem 0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd;font-family:ui-monospace,monospace;font-size:13px;white-space:pre-wrap;word-break:break-all}
th{font-family:system-ui,sans-serif;font-weight:600}
#rejections td:nth-child(4){color:#b00020}
`;

export const CONSOLE_JS = `'use strict';
(() => {
  const token = document.querySelector('meta[name="hookwarden-token"]').getAttribute('content');
  const deliveries = document.getElementById('deliveries');
  const rejections = document.getElementById('rejections');
  const status = document.getElementById('status');
  const KEEP = 200;
  const seen = new Set();

  const row = (kind, cells) => {
    const tr = document.createElement('tr');
    tr.className = kind;
    for (const cell of cells) {
      const td = document.createElement('td');
      td.textContent = cell === null || cell === undefined ? '-' : String(cell);
      tr.append(td);
    }
    return tr;
  };
  const add = (body, tr) => {
    body.prepend(tr);
    while (body.children.length > KEEP) body.lastElementChild.remove();
  };
  const time = (iso) => (typeof iso === 'string' ? iso.replace('T', ' ').replace('Z', '') : '-');

  const showDelivery = (d) => {
    const key = String(d.source) + '\\n' + String(d.id);
    if (seen.has(key)) return;
    seen.add(key);
    add(deliveries, row('delivery', [time(d.receivedAt), d.source, d.id, d.eventType, d.size + ' B']));
  };

  const auth = { Authorization: 'Bearer ' + token };

  const recent = async () => {
    const res = await fetch('/deliveries?limit=20', { headers: auth, cache: 'no-store' });
    if (!res.ok) throw new Error('GET /deliveries: ' + res.status);
    const body = await res.json();
    for (const d of body.deliveries.slice().reverse()) showDelivery(d);
  };

  // Server-sent events over fetch (EventSource cannot send Authorization), resumed with Last-Event-ID.
  let lastEventId = '';
  const stream = async () => {
    const headers = Object.assign({ Accept: 'text/event-stream' }, auth);
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    const res = await fetch('/events', { headers, cache: 'no-store' });
    if (!res.ok || !res.body) throw new Error('GET /events: ' + res.status);
    status.textContent = 'live';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\\n\\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        let id = null;
        const data = [];
        for (const line of block.split('\\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = text;
          else if (field === 'id') id = text;
          else if (field === 'data') data.push(text);
        }
        if (id !== null) lastEventId = id;
        if (event === 'delivery' && data.length > 0) showDelivery(JSON.parse(data.join('\\n')));
      }
    }
  };
  const live = async () => {
    for (;;) {
      try {
        await stream();
        status.textContent = 'reconnecting…';
      } catch (error) {
        status.textContent = 'reconnecting… (' + error.message + ')';
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  let after = 0;
  const pollRejections = async () => {
    for (;;) {
      try {
        const res = await fetch('/console/rejections?after=' + after, { cache: 'no-store' });
        if (res.ok) {
          const body = await res.json();
          for (const r of body.rejections) {
            after = Math.max(after, r.seq);
            add(rejections, row('rejection', [time(r.at), r.source, r.status, r.code, r.reason, r.clientIp, r.requestId]));
          }
        }
      } catch {
        // the server is restarting: try again
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  // The stream first: it starts a little before it opens, so the list and the stream overlap (rows are deduplicated) and nothing falls between.
  live();
  recent().catch((error) => { status.textContent = error.message; });
  pollRejections();
})();
`;
