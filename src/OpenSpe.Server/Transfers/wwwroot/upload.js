// The data holder's upload page: a file is encrypted in the browser with Crypt4GH for the project's public key (crypt4gh.js)
// and sent over tus (tus-js-client, loaded before this module as window.tus), resumable after a reload of the page.
// Served by the SPE (no CDN); no inline script (CSP script-src 'self'). The access token comes from the URL fragment
// (#token=..., never sent to a server and removed from the address bar at once) or a paste field; it is kept in memory only.
//
// Order of a upload: (1) the server's admission check (dataset, file name and type, size): a refusal is shown before any byte
// is read, hashed, encrypted or sent; (2) the plaintext SHA-256, computed here; (3) the encryption and the tus upload, whose
// last PATCH answers only after the server decrypted the file and compared its SHA-256 (204 = verified, 422 = refused).
// For resume, the tab's sessionStorage keeps, per project, dataset and file (name, size, last change), the upload's URL, the
// plaintext SHA-256 and the encryption state; it is removed when the upload ends, and never outlives the tab.
import { Crypt4ghSource, crypt4ghReader, encryptedSize, loadEncryption, newEncryption, parsePublicKey, plaintextSha256, saveEncryption } from '/upload/crypt4gh.js';

const root = document.documentElement;
const projectId = root.dataset.project || decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
const chunkBytes = Number(root.dataset.chunkBytes) || (8 << 20);
const api = `/api/v1/projects/${encodeURIComponent(projectId)}`;
const $ = id => document.getElementById(id);
let token = null;
let current = null;

function say(text) { $('status').textContent = text; }

function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    history.replaceState(null, '', location.pathname + location.search);
    return decodeURIComponent(match[1]);
  }
  return null;
}

// The server's problem details as one sentence that says what to do (the SPE's details already do); the code for support.
function problemText(status, body) {
  let problem = null;
  try { problem = typeof body === 'string' ? JSON.parse(body) : body; } catch { problem = null; }
  if (problem && problem.detail) {
    const fields = problem.errors ? ' ' + Object.values(problem.errors).flat().join(' ') : '';
    return `${problem.detail}${fields}${problem.code ? ` (${problem.code})` : ''}`;
  }
  if (status === 401) { return 'Your sign-in is no longer valid: sign in again (spe login) and reopen this page.'; }
  if (status === 0) { return 'The server could not be reached: check the connection and choose the file again to resume.'; }
  return `The server answered ${status}: try again, or ask the operator.`;
}

async function call(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${token}` }, options.headers || {});
  const response = await fetch(api + path, Object.assign({}, options, { headers, cache: 'no-store' }));
  const text = await response.text();
  if (!response.ok) { throw new Error(problemText(response.status, text)); }
  return text ? JSON.parse(text) : null;
}

function showResult(text, ok) {
  const result = $('result');
  result.textContent = text;
  result.className = ok ? 'ok' : 'error';
  result.hidden = false;
}

function progress(phase, done, total) {
  const percent = total > 0 ? Math.floor((done * 100) / total) : 100;
  $('progress-block').hidden = false;
  $('phase').textContent = phase;
  const bar = $('progress');
  bar.setAttribute('aria-valuenow', String(percent));
  bar.setAttribute('aria-valuetext', `${percent}% (${done} of ${total} bytes)`);
  $('progress-fill').style.width = `${percent}%`;
}

function stateKey(dataset, file) {
  return `openspe-upload:${projectId}:${dataset}:${file.name}:${file.size}:${file.lastModified}`;
}

function loadState(key) {
  try { return JSON.parse(sessionStorage.getItem(key) || 'null'); } catch { return null; }
}

function describeResume() {
  const file = $('file').files[0];
  const dataset = $('dataset').value.trim();
  const note = $('resume-note');
  const state = file && dataset ? loadState(stateKey(dataset, file)) : null;
  note.hidden = !(state && state.url);
  note.textContent = note.hidden ? '' : `An unfinished upload of ${file.name} to ${dataset} was found in this tab: it will resume where the server stopped.`;
}

async function start(event) {
  event.preventDefault();
  const file = $('file').files[0];
  const dataset = $('dataset').value.trim();
  if (!file || !dataset) { return; }
  $('result').hidden = true;
  $('start').disabled = true;
  try {
    await upload(file, dataset);
  } catch (e) {
    showResult(e.message, false);
    say('Not uploaded.');
  } finally {
    $('start').disabled = false;
  }
}

async function upload(file, dataset) {
  const size = encryptedSize(file.size);
  // (1) Note: the admission check comes first, so a file the permit does not allow is refused before a byte is read or sent.
  say('Checking with the server…');
  await call('/uploads/admission', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ dataset, filename: file.name, length: size }),
  });

  const key = stateKey(dataset, file);
  let state = loadState(key);
  if (!state) {
    // (2) The plaintext SHA-256, then a fresh encryption for the project's key.
    const { publicKey } = await call('/public-key');
    say('Computing the file\'s SHA-256 in this browser…');
    const sha = await plaintextSha256(file, read => progress('Computing the SHA-256 (the file is read, nothing is sent)', read, file.size));
    state = { sha, encryption: saveEncryption(newEncryption(parsePublicKey(publicKey))), url: null };
    sessionStorage.setItem(key, JSON.stringify(state));
  }

  // (3) Encrypt and send; the source encrypts only the segments each PATCH carries.
  const source = new Crypt4ghSource(file, loadEncryption(state.encryption));
  say(state.url ? 'Resuming the upload…' : 'Encrypting and uploading…');
  let fileId = null;
  await new Promise((resolve, reject) => {
    const tusUpload = new window.tus.Upload(source, {
      endpoint: `${api}/uploads`,
      uploadUrl: state.url || undefined,
      uploadSize: size,
      chunkSize: chunkBytes,
      metadata: { dataset, filename: file.name, plaintextSha256: state.sha },
      headers: { Authorization: `Bearer ${token}` },
      fileReader: crypt4ghReader,
      fingerprint: () => Promise.resolve(null),
      storeFingerprintForResuming: false,
      retryDelays: [0, 1000, 3000],
      onUploadUrlAvailable: () => {
        state.url = new URL(tusUpload.url, location.href).pathname;
        sessionStorage.setItem(key, JSON.stringify(state));
      },
      onAfterResponse: (request, response) => {
        const id = response.getHeader('Upload-File-Id');
        if (id) { fileId = id; }
      },
      onProgress: (sent, total) => progress('Encrypting and sending (encrypted bytes)', sent, total),
      onSuccess: () => resolve(),
      onError: error => {
        const response = error.originalResponse;
        reject(new Error(response ? problemText(response.getStatus(), response.getBody()) : `The upload stopped: ${error.message}. Choose the file again to resume.`));
      },
    });
    current = { upload: tusUpload, reject };
    $('pause').hidden = false;
    tusUpload.start();
  }).finally(() => { current = null; $('pause').hidden = true; });

  sessionStorage.removeItem(key);
  progress('Done', size, size);
  say('Verified.');
  showResult(`Verified: the server decrypted ${file.name} and its SHA-256 matches the one computed in this browser (${state.sha}). File ${fileId || ''} is stored in dataset ${dataset}.`, true);
  window.speUploadResult = { fileId, sha256: state.sha };
}

async function begin() {
  $('form-section').hidden = false;
  $('project-name').textContent = projectId;
  say('Choose a dataset and a file.');
  try {
    const datasets = await call('/datasets');
    const list = $('datasets');
    for (const d of datasets) {
      const option = document.createElement('option');
      option.value = d.id;
      option.label = d.title;
      list.appendChild(option);
    }
    // Note: only into an empty field, so what the holder typed while the list was on its way stays; a value set here
    // fires no input event, and the file may have been chosen meanwhile, hence the call below.
    if (datasets.length === 1 && !$('dataset').value.trim()) { $('dataset').value = datasets[0].id; }
    describeResume();
  } catch (e) {
    showResult(e.message, false);
    say('This project cannot take uploads from you.');
  }
}

$('upload-form').addEventListener('submit', e => { start(e); });
$('file').addEventListener('change', describeResume);
$('dataset').addEventListener('input', describeResume);
$('dataset').addEventListener('change', describeResume);
$('pause').addEventListener('click', () => {
  // tus-js-client's abort calls no callback: the waiting upload is ended here, and the server keeps what it acknowledged.
  if (current) { current.upload.abort(); current.reject(new Error('Paused: choose the same file again and upload to resume.')); current = null; }
});

token = takeTokenFromFragment();
if (token) {
  begin();
} else {
  say('Sign in.');
  $('signin').hidden = false;
  $('use-token').addEventListener('click', () => {
    token = $('token').value.trim();
    $('signin').hidden = true;
    begin();
  });
}
