/**
 * The pure parts of the opt-in deploy check (build-tools/deploy-check.ts): argument parsing, stack
 * outputs, the result check, polling and the request signing. The deploy itself needs an account.
 */
import { App } from 'aws-cdk-lib';
import { EXPECTED_WORDS, findOutput, frontDoorOf, missingWords, parseArgs, pollUntil, signedApiRequest } from '../build-tools/deploy-check';
import { loadExample } from '../build-tools/nag-acknowledgements';

describe('deploy check', () => {
  test('GIVEN examples and flags THEN they are parsed; GIVEN an unknown example THEN the usage names the known ones', () => {
    expect(parseArgs(['batch-ocr', 'ocr-service', '--keep', '--timeout-minutes', '45'])).toEqual({ examples: ['batch-ocr', 'ocr-service'], keep: true, timeoutMinutes: 45 });
    expect(parseArgs(['bring-your-own'])).toEqual({ examples: ['bring-your-own'], keep: false, timeoutMinutes: 30 });
    expect(() => parseArgs(['nope'])).toThrow(/unknown argument 'nope'.*batch-ocr, bring-your-own, ocr-service/);
    expect(() => parseArgs([])).toThrow(/usage: deploy-check EXAMPLE/);
    expect(() => parseArgs(['batch-ocr', '--timeout-minutes', '0'])).toThrow(/--timeout-minutes must be a whole number/);
  });

  test.each([['batch-ocr', ['ApiUrl']], ['bring-your-own', ['ApiUrl']], ['ocr-service', ['DocumentsBucketName', 'StatusTableName']]])(
    'GIVEN examples/%s THEN its stack has exactly the outputs its front door reads', (example, names) => {
      const app = new App();
      loadExample(example)(app);
      const outputs: { [stack: string]: { [key: string]: string } } = {};
      for (const stack of app.synth().stacks) {
        outputs[stack.stackName] = Object.fromEntries(Object.keys((stack.template as { Outputs?: object }).Outputs ?? {}).map((k) => [k, `value-of-${k}`]));
      }
      for (const name of names) expect(findOutput(outputs, name)).toMatch(new RegExp(`^value-of-.*${name}`));
      expect(frontDoorOf(example)).toBe(example === 'ocr-service' ? 'service-table' : 'batch-api');
    });

  test('GIVEN no or two matching outputs THEN the error lists what was found', () => {
    expect(() => findOutput({ S: { OcrApiUrlA: 'a', OtherApiUrlB: 'b' } }, 'ApiUrl')).toThrow(/found 2: OcrApiUrlA, OtherApiUrlB/);
    expect(() => findOutput({ S: {} }, 'ApiUrl')).toThrow(/found 0: none/);
  });

  test('GIVEN OCR text THEN the expected words it lacks are listed, in any letter case', () => {
    expect(missingWords('The QUICK brown dog jumped over the lazy fox.')).toEqual([]);
    expect(missingWords('The quick brown dog')).toEqual(['jumped', 'lazy', 'fox']);
    expect(EXPECTED_WORDS.length).toBeGreaterThan(3);
  });

  test('GIVEN a value that ends THEN polling returns it; GIVEN one that never does THEN it fails after the timeout with the last value', async () => {
    let clock = 0;
    const values = ['RUNNABLE', 'RUNNING', 'SUCCEEDED'];
    const fake = { sleep: async (ms: number) => { clock += ms; }, now: () => clock };
    await expect(pollUntil('job', async () => values.shift(), (v) => v === 'SUCCEEDED', { timeoutMs: 60_000, intervalMs: 10_000, ...fake })).resolves.toBe('SUCCEEDED');
    clock = 0;
    await expect(pollUntil('job', async () => 'RUNNING', (v) => v === 'SUCCEEDED', { timeoutMs: 30_000, intervalMs: 10_000, ...fake }))
      .rejects.toThrow(/job: not finished after 30 s; last seen "RUNNING"/);
    expect(clock).toBe(30_000);
  });

  test('GIVEN credentials THEN API requests carry a SigV4 signature for execute-api in the Region', async () => {
    const seen: { url: string; headers: Record<string, string>; body?: string }[] = [];
    const realFetch = global.fetch;
    global.fetch = (async (url: URL, init: RequestInit) => {
      seen.push({ url: String(url), headers: init.headers as Record<string, string>, body: init.body as string });
      return new Response(JSON.stringify({ jobId: 'j-1' }), { status: 202 });
    }) as typeof fetch;
    try {
      const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
      const out = await signedApiRequest('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/', 'POST', 'jobs', { document: 'uploads/x.tif' }, 'eu-west-1', credentials);
      expect(out).toEqual({ status: 202, json: { jobId: 'j-1' } });
    } finally {
      global.fetch = realFetch;
    }
    expect(seen[0].url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/jobs');
    expect(seen[0].body).toBe('{"document":"uploads/x.tif"}');
    expect(seen[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
  });
});
