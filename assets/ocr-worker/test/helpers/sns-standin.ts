/**
 * An in-process Amazon SNS stand-in for the real `@aws-sdk/client-sns`: it answers Publish in SNS's
 * Query protocol (a form-encoded POST to `/`, an XML answer) and keeps every message it was given.
 * Topics in `failing` get SNS's error answer instead (a 404 NotFound in the Query error shape).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedMessage { topicArn: string; message: string }

export interface SnsStandIn {
  url: string;
  /** Messages published, in order. */
  published: PublishedMessage[];
  /** Publish calls refused (failing topics). */
  refused: PublishedMessage[];
  failing: Set<string>;
  close(): Promise<void>;
}

export async function startSnsStandIn(): Promise<SnsStandIn> {
  const published: PublishedMessage[] = [];
  const refused: PublishedMessage[] = [];
  const failing = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (req.method !== 'POST' || form.get('Action') !== 'Publish') {
        res.writeHead(400, { 'content-type': 'text/xml' }).end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Only Publish.</Message></Error></ErrorResponse>');
        return;
      }
      const entry = { topicArn: form.get('TopicArn') ?? '', message: form.get('Message') ?? '' };
      if (failing.has(entry.topicArn)) {
        refused.push(entry);
        res.writeHead(404, { 'content-type': 'text/xml' }).end(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
        return;
      }
      published.push(entry);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    published,
    refused,
    failing,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
