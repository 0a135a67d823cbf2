// Crypt4GH (GA4GH, version 1) encryption in the browser, for the upload page: the file is encrypted for the project's public
// key before any byte leaves the browser. Primitives are the audited pure-JavaScript noble libraries, served by the SPE
// (deploy/install-upload-js.sh): X25519 (@noble/curves), ChaCha20-IETF-Poly1305 (@noble/ciphers), BLAKE2b and SHA-256
// (@noble/hashes).
//
// The output is the Crypt4GH format: a 16-byte preamble ("crypt4gh", version 1, one header packet), one header packet
// (X25519_chacha20_ietf_poly1305 to the reader: a fresh writer key pair, the shared key = the first 32 bytes of
// BLAKE2b-512(dh || reader public key || writer public key), payload = data encryption parameters with a fresh data key), then
// the data in 64 KiB plaintext segments, each nonce || ChaCha20-IETF-Poly1305(segment) || tag.
//
// Note: the segments are encrypted on demand by position (Crypt4ghSource.slice), so tus can ask for any byte range, including
// after a reload of the page, and get the same bytes: each segment's nonce is a 4-byte random prefix fixed per file followed
// by the segment number (64-bit little-endian), unique under the file's own fresh data key, because a resumed upload must
// continue the exact ciphertext the server already holds. The state that fixes those bytes (data key, header, prefix) lives
// only in the tab's sessionStorage (see upload.js) and is removed when the upload ends.
import { x25519 } from '/upload/lib/noble-curves/ed25519.js';
import { chacha20poly1305 } from '/upload/lib/noble-ciphers/chacha.js';
import { blake2b } from '/upload/lib/noble-hashes/blake2.js';
import { sha256 } from '/upload/lib/noble-hashes/sha2.js';

/** Plaintext bytes per data segment. */
export const SEGMENT_SIZE = 65536;
/** A data segment's bytes beyond its plaintext: its nonce and its tag. */
export const SEGMENT_OVERHEAD = 12 + 16;
const PREAMBLE_SIZE = 16;
const PACKET_SIZE = 4 + 4 + 32 + 12 + (4 + 4 + 32) + 16;
/** The header's size: the preamble and one data-encryption-parameters packet for one reader. */
export const HEADER_SIZE = PREAMBLE_SIZE + PACKET_SIZE;
const MAGIC = new TextEncoder().encode('crypt4gh');

/** The Crypt4GH size of a plaintext of plainSize bytes. */
export function encryptedSize(plainSize) {
  return HEADER_SIZE + plainSize + Math.ceil(plainSize / SEGMENT_SIZE) * SEGMENT_OVERHEAD;
}

/** The 32-byte X25519 key of a "-----BEGIN CRYPT4GH PUBLIC KEY-----" text. */
export function parsePublicKey(pem) {
  const match = /-----BEGIN CRYPT4GH PUBLIC KEY-----([\s\S]*?)-----END CRYPT4GH PUBLIC KEY-----/.exec(pem);
  if (!match) { throw new Error('The project key is not a Crypt4GH public key.'); }
  const bytes = Uint8Array.from(atob(match[1].replace(/\s+/g, '')), c => c.charCodeAt(0));
  if (bytes.length !== 32) { throw new Error('The project key is not 32 bytes.'); }
  return bytes;
}

function u32le(view, offset, value) { view.setUint32(offset, value, true); }

/**
 * A new encryption for the reader's public key: a fresh data key, a fresh writer key pair (its secret is used once, for the
 * header, and dropped: the sender stays anonymous) and the header bytes. Returns { dataKey, header, noncePrefix }.
 */
export function newEncryption(readerPublicKey) {
  const dataKey = crypto.getRandomValues(new Uint8Array(32));
  const noncePrefix = crypto.getRandomValues(new Uint8Array(4));
  const writerSecret = crypto.getRandomValues(new Uint8Array(32));
  const writerPublic = x25519.getPublicKey(writerSecret);
  const dh = x25519.getSharedSecret(writerSecret, readerPublicKey);
  const sharedKey = blake2b(concat(dh, readerPublicKey, writerPublic), { dkLen: 64 }).subarray(0, 32);
  const payload = new Uint8Array(40);
  // packet type 0 (data encryption parameters), method 0 (chacha20_ietf_poly1305), then the data key.
  payload.set(dataKey, 8);
  const packetNonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = chacha20poly1305(sharedKey, packetNonce).encrypt(payload);
  const header = new Uint8Array(HEADER_SIZE);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  u32le(view, 8, 1);
  u32le(view, 12, 1);
  u32le(view, 16, PACKET_SIZE);
  u32le(view, 20, 0);
  header.set(writerPublic, 24);
  header.set(packetNonce, 56);
  header.set(sealed, 68);
  writerSecret.fill(0); dh.fill(0); sharedKey.fill(0); payload.fill(0);
  return { dataKey, header, noncePrefix };
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function segmentNonce(prefix, index) {
  const nonce = new Uint8Array(12);
  nonce.set(prefix, 0);
  const view = new DataView(nonce.buffer);
  view.setUint32(4, index % 0x100000000, true);
  view.setUint32(8, Math.floor(index / 0x100000000), true);
  return nonce;
}

/**
 * A tus-js-client file source (its fileReader option) over the Crypt4GH encryption of a File: size is the encrypted size;
 * slice(start, end) reads only the plaintext segments that cover [start, end) and encrypts them, so memory holds one tus chunk
 * at a time, never the file.
 */
export class Crypt4ghSource {
  constructor(file, encryption) {
    this.file = file;
    this.encryption = encryption;
    this.size = encryptedSize(file.size);
    this.segments = Math.ceil(file.size / SEGMENT_SIZE);
  }

  /**
   * The encrypted bytes [start, end), as tus-js-client expects them: { value: Blob, done }. The next range of the same length
   * is then encrypted ahead, so the browser sends this chunk while the next one is encrypted (two chunks in memory at most).
   */
  async slice(start, end) {
    end = Math.min(end, this.size);
    const ahead = this.ahead;
    this.ahead = null;
    const out = ahead && ahead.start === start && ahead.end === end ? await ahead.bytes : await this.bytes(start, end);
    if (end < this.size) {
      const next = { start: end, end: Math.min(this.size, end + (end - start)) };
      // Note: a macrotask, so it runs after tus-js-client has handed this chunk to the browser (its send follows in microtasks).
      next.bytes = new Promise(resolve => setTimeout(resolve, 0)).then(() => this.bytes(next.start, next.end));
      next.bytes.catch(() => {});
      this.ahead = next;
    }
    return { value: new Blob([out]), done: end >= this.size };
  }

  /** The encrypted bytes [start, end) as a Uint8Array. */
  async bytes(start, end) {
    end = Math.min(end, this.size);
    const out = new Uint8Array(Math.max(0, end - start));
    if (out.length === 0) { return out; }
    const { header, dataKey, noncePrefix } = this.encryption;
    if (start < HEADER_SIZE) { out.set(header.subarray(start, Math.min(end, HEADER_SIZE)), 0); }
    const cipherSegment = SEGMENT_SIZE + SEGMENT_OVERHEAD;
    const dataStart = Math.max(start, HEADER_SIZE) - HEADER_SIZE;
    const dataEnd = end - HEADER_SIZE;
    if (dataEnd <= dataStart) { return out; }
    const first = Math.floor(dataStart / cipherSegment);
    const last = Math.min(this.segments - 1, Math.floor((dataEnd - 1) / cipherSegment));
    // One read of the plaintext that the segments cover, then one encryption per segment.
    const plainFrom = first * SEGMENT_SIZE;
    const plain = new Uint8Array(await this.file.slice(plainFrom, Math.min(this.file.size, (last + 1) * SEGMENT_SIZE)).arrayBuffer());
    for (let i = first; i <= last; i++) {
      const nonce = segmentNonce(noncePrefix, i);
      const chunk = plain.subarray(i * SEGMENT_SIZE - plainFrom, Math.min(plain.length, (i + 1) * SEGMENT_SIZE - plainFrom));
      const sealed = chacha20poly1305(dataKey, nonce).encrypt(chunk);
      const segment = concat(nonce, sealed);
      const segmentAt = i * cipherSegment; // in data coordinates
      const from = Math.max(dataStart, segmentAt);
      const to = Math.min(dataEnd, segmentAt + segment.length);
      out.set(segment.subarray(from - segmentAt, to - segmentAt), from + HEADER_SIZE - start);
    }
    return out;
  }

  close() { this.ahead = null; }
}

/** A tus-js-client fileReader whose files are Crypt4ghSource values already. */
export const crypt4ghReader = { openFile: source => Promise.resolve(source) };

/** The SHA-256 of a File's plaintext as 64 lower-case hex digits, read in 4 MiB slices; onProgress(bytesRead). */
export async function plaintextSha256(file, onProgress) {
  const hash = sha256.create();
  const step = 4 << 20;
  for (let at = 0; at < file.size; at += step) {
    hash.update(new Uint8Array(await file.slice(at, Math.min(file.size, at + step)).arrayBuffer()));
    if (onProgress) { onProgress(Math.min(file.size, at + step)); }
  }
  return Array.from(hash.digest(), b => b.toString(16).padStart(2, '0')).join('');
}

/** The encryption state as strings (for sessionStorage), and back. */
export function saveEncryption(e) {
  const b64 = bytes => btoa(String.fromCharCode(...bytes));
  return { dataKey: b64(e.dataKey), header: b64(e.header), noncePrefix: b64(e.noncePrefix) };
}

export function loadEncryption(s) {
  const bytes = text => Uint8Array.from(atob(text), c => c.charCodeAt(0));
  return { dataKey: bytes(s.dataKey), header: bytes(s.header), noncePrefix: bytes(s.noncePrefix) };
}
