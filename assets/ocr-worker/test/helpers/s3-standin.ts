/**
 * A file-backed S3 stand-in for the image test, run as its own process inside the network namespace
 * of the container under test (which has no other network): `node s3-standin.ts DIR` serves
 * GetObject, HeadObject and PutObject path-style (http://127.0.0.1:PORT/bucket/key, the style the
 * AWS SDK uses for an IP endpoint) from the files DIR/bucket/key, and prints its port. The Batch mode
 * calls nothing else, so three verbs are all a stand-in needs; the test seeds and reads DIR directly.
 */
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(process.argv[2]);

/** The SDK sends bodies it checksums as aws-chunked (`<hex size>\r\n<data>\r\n` ... `0\r\n<trailers>`). */
function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.subarray(at, eol).toString('latin1').split(';')[0], 16);
    if (!size) return Buffer.concat(parts);
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

const notFound = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const file = join(root, decodeURIComponent(url.pathname));
  if (!file.startsWith(root + '/')) { res.writeHead(400).end(); return; }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'PUT') {
      const body = Buffer.concat(chunks);
      const chunked = String(req.headers['content-encoding'] ?? '').includes('aws-chunked') || String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, chunked ? decodeChunked(body) : body);
      res.writeHead(200, { ETag: '"0"' }).end();
      return;
    }
    let size: number;
    try { size = statSync(file).isFile() ? statSync(file).size : -1; } catch { size = -1; }
    if (size < 0) {
      res.writeHead(404, { 'Content-Type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : notFound);
      return;
    }
    res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream', ETag: '"0"' });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
