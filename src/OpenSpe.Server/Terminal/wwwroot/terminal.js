// The terminal page: terms of use, then a single-use ticket, then xterm.js on the gateway's WebSocket.
// Served by the SPE (no CDN); no inline script (CSP script-src 'self'). The access token comes from the URL fragment
// (#token=..., never sent to a server and removed from the address bar at once) or a paste field; it is kept in memory
// only and used for two requests: the terms and the ticket. The WebSocket carries only the ticket.
// Wire protocol: binary frames are terminal bytes both ways; text frames are JSON control messages (client: resize;
// server: hello, with the permit's clipboard rules).
import { Terminal } from '/terminal/xterm/xterm.mjs';

const projectId = document.documentElement.dataset.project || decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
const api = `/api/v1/projects/${encodeURIComponent(projectId)}/terminal`;
const status = document.getElementById('status');
const notice = document.getElementById('notice');
const encoder = new TextEncoder();
let token = null;

function say(text) { status.textContent = text; }

function takeFromFragment(name) {
  const match = new RegExp(`(?:^#|&)${name}=([^&]+)`).exec(location.hash);
  if (match) {
    history.replaceState(null, '', location.pathname + location.search);
    return decodeURIComponent(match[1]);
  }
  return null;
}

async function call(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${token}` }, options.headers || {});
  const response = await fetch(api + path, Object.assign({}, options, { headers, cache: 'no-store' }));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { throw new Error(body.detail || `HTTP ${response.status}`); }
  return body;
}

async function showTerms() {
  say('Read and accept the terms of use.');
  const terms = await call('/terms');
  document.getElementById('terms-text').textContent = terms.text;
  document.getElementById('terms-version').textContent = terms.version;
  document.getElementById('terms').hidden = false;
  document.getElementById('accept').addEventListener('click', () => open(terms.version).catch(e => say(`Cannot open the terminal: ${e.message}`)), { once: true });
}

// The window size in character cells that fits the screen element, from a measured run of the terminal's font.
function fit(term, screen) {
  const probe = document.createElement('span');
  probe.id = 'measure';
  probe.textContent = 'W'.repeat(50);
  document.body.appendChild(probe);
  const cell = { width: probe.getBoundingClientRect().width / 50, height: probe.getBoundingClientRect().height };
  probe.remove();
  const cols = Math.max(20, Math.min(1000, Math.floor(screen.clientWidth / cell.width) - 1));
  const rows = Math.max(5, Math.min(1000, Math.floor(screen.clientHeight / cell.height)));
  if (cols !== term.cols || rows !== term.rows) { term.resize(cols, rows); }
  return { cols, rows };
}

// The permit's clipboard rules, from the gateway's hello. Copy out: the page offers no copy of terminal output when "out" is not
// allowed (a person can still read the screen). Paste in: when "in" is not allowed, every paste is sent marked as a bracketed
// paste, which the gateway drops and audits; it never reaches the shell.
function applyClipboardRules(hello, socket, screen) {
  if (!hello.clipboardOut) {
    document.documentElement.classList.add('no-copy');
    const refuseCopy = e => { e.preventDefault(); e.stopImmediatePropagation(); notice.textContent = 'Copying is not allowed by the permit.'; };
    window.addEventListener('copy', refuseCopy, true);
    window.addEventListener('cut', refuseCopy, true);
  }
  if (!hello.clipboardIn) {
    screen.addEventListener('paste', e => {
      e.preventDefault();
      e.stopImmediatePropagation();
      const text = (e.clipboardData && e.clipboardData.getData('text/plain')) || '';
      socket.send(encoder.encode(`\x1b[200~${text}\x1b[201~`));
      notice.textContent = 'Pasting is not allowed by the permit: the paste was dropped and the attempt recorded.';
    }, true);
  }
}

async function open(termsVersion) {
  document.getElementById('terms').hidden = true;
  say('Opening the terminal…');
  const { ticket } = await call('/tickets', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ acceptTerms: true, termsVersion }),
  });
  connect(ticket);
}

// Opens the session with a single-use ticket: from the API above, or from the portal (#ticket=, where the person accepted the terms).
function connect(ticket) {
  const screen = document.getElementById('screen');
  const term = new Terminal({ fontFamily: 'monospace', fontSize: 14, cursorBlink: true, scrollback: 2000 });
  term.open(screen);
  const socket = new WebSocket(`wss://${location.host}${api}?ticket=${encodeURIComponent(ticket)}`);
  socket.binaryType = 'arraybuffer';
  const sendSize = () => {
    const { cols, rows } = fit(term, screen);
    if (socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify({ type: 'resize', cols, rows })); }
  };
  socket.addEventListener('open', () => { say('Connected. Every session is recorded.'); sendSize(); term.focus(); });
  socket.addEventListener('message', e => {
    if (typeof e.data === 'string') {
      const message = JSON.parse(e.data);
      if (message.type === 'hello') { applyClipboardRules(message, socket, screen); }
      return;
    }
    term.write(new Uint8Array(e.data));
  });
  socket.addEventListener('close', e => say(e.code === 1000 ? `Closed: ${e.reason || 'the session ended'}.` : `The gateway closed the session (${e.code}): ${e.reason || 'connection lost'}.`));
  term.onData(data => { if (socket.readyState === WebSocket.OPEN) { socket.send(encoder.encode(data)); } });
  term.onBinary(data => {
    if (socket.readyState === WebSocket.OPEN) { socket.send(Uint8Array.from(data, c => c.charCodeAt(0) & 0xff)); }
  });
  window.addEventListener('resize', sendSize);
  window.speTerminal = term;
}

const portalTicket = takeFromFragment('ticket');
token = portalTicket ? null : takeFromFragment('token');
if (portalTicket) {
  connect(portalTicket);
} else if (token) {
  showTerms().catch(e => say(`Cannot load the terms: ${e.message}`));
} else {
  say('Sign in.');
  document.getElementById('signin').hidden = false;
  document.getElementById('use-token').addEventListener('click', () => {
    token = document.getElementById('token').value.trim();
    document.getElementById('signin').hidden = true;
    showTerms().catch(e => say(`Cannot load the terms: ${e.message}`));
  });
}
