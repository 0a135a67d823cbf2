// The desktop page: terms of use, then a single-use ticket, then noVNC's RFB client on the gateway's WebSocket.
// Served by the SPE (no CDN); no inline script (CSP script-src 'self'). The access token comes from the URL fragment
// (#token=..., never sent to a server and removed from the address bar at once) or a paste field; it is kept in memory
// only and used for two requests: the terms and the ticket. The WebSocket carries only the ticket.
import RFB from '/desktop/novnc/core/rfb.js';

const projectId = document.documentElement.dataset.project || decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
const api = `/api/v1/projects/${encodeURIComponent(projectId)}/desktop`;
const status = document.getElementById('status');
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
  document.getElementById('accept').addEventListener('click', () => open(terms.version).catch(e => say(`Cannot open the desktop: ${e.message}`)), { once: true });
}

async function open(termsVersion) {
  document.getElementById('terms').hidden = true;
  say('Opening the desktop…');
  const { ticket } = await call('/tickets', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ acceptTerms: true, termsVersion }),
  });
  connect(ticket);
}

// Opens the session with a single-use ticket: from the API above, or from the portal (#ticket=, where the person accepted the terms).
function connect(ticket) {
  const url = `wss://${location.host}${api}?ticket=${encodeURIComponent(ticket)}`;
  const rfb = new RFB(document.getElementById('screen'), url, { wsProtocols: ['binary'] });
  rfb.scaleViewport = true;
  rfb.addEventListener('connect', () => say('Connected. Every session is recorded.'));
  rfb.addEventListener('disconnect', e => say(e.detail.clean ? 'Disconnected.' : 'The connection was closed by the gateway (idle timeout, halt or policy).'));
  window.speDesktop = rfb;
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
