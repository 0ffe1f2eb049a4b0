/**
 * The contract between the constructs and the worker container, checked from both ends:
 * (a) every environment variable and secret the synthesized constructs give the worker container,
 *     and every name the submit handler sends in SubmitJob's containerOverrides, is one the worker
 *     declares (assets/ocr-worker/src/contract.ts) and one the construct side declares;
 * (b) the worker reads its environment only through its contract's names;
 * (c) the construct-side declarations (src/common/worker-contract.ts, OcrServiceEnvironment) and the
 *     worker's agree, name for name and value for value.
 *
 * The worker is an ES module package run by Node with `.ts` import extensions, which this jest setup
 * (ts-jest, CommonJS) cannot require; its contract is therefore read as text by `parseWorkerContract`,
 * which accepts only the shape that file keeps to and fails on anything else, so a change of shape
 * cannot make entries disappear from the check unnoticed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { newTestApp, newTestStack } from './helpers/compliance';
import { BatchOcrProcessor, BatchOcrProcessorProps } from '../src/batch-ocr-processor';
import { configFromEnv, submitJob } from '../src/batch-ocr-processor/jobs';
import { MAX_RESULTS_LIMIT } from '../src/batch-ocr-processor/textract-result';
import { WorkerBatchEnvironment, WorkerExitCode, workerManifestKey, WorkerResultLayout, workerTextractPageKey } from '../src/common/worker-contract';
import { OcrEngine, PdfRenderer } from '../src/common/worker-image';
import { OcrServiceCluster, OcrServiceClusterProps } from '../src/ocr-service-cluster';
import { OcrServiceEnvironment } from '../src/ocr-service-cluster/contract';

const WORKER_ROOT = path.join(__dirname, '..', 'assets', 'ocr-worker');
const WORKER_CONTRACT = path.join(WORKER_ROOT, 'src', 'contract.ts');

type Table = Record<string, string | number>;

/**
 * The tables of the worker's contract.ts: `export const NAME = {` ... `} as const;`, whose lines are
 * `/** ... *\/` comments (one or more lines) or `KEY: 'value',` / `KEY: 123,` entries. Throws on any
 * other line inside a table, on a table without its end, on an `export const` of another shape and
 * on a key or table declared twice.
 */
export function parseWorkerContract(text: string): Record<string, Table> {
  const tables: Record<string, Table> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('export const ')) continue;
    const head = /^export const ([A-Z][A-Z0-9_]*) = \{$/.exec(lines[i]);
    if (!head) throw new Error(`contract.ts:${i + 1}: an exported constant must be a table, \`export const NAME = {\`: ${lines[i]}`);
    const name = head[1];
    if (tables[name]) throw new Error(`contract.ts:${i + 1}: table ${name} declared twice`);
    const table: Table = {};
    let inComment = false;
    for (i++; ; i++) {
      if (i >= lines.length) throw new Error(`contract.ts: table ${name} has no \`} as const;\``);
      const line = lines[i];
      if (line === '} as const;') break;
      const trimmed = line.trim();
      if (inComment) {
        if (trimmed.endsWith('*/')) inComment = false;
        else if (!trimmed.startsWith('*')) throw new Error(`contract.ts:${i + 1}: unexpected line in a comment of ${name}: ${line}`);
        continue;
      }
      if (trimmed.startsWith('/**')) {
        inComment = !trimmed.endsWith('*/');
        continue;
      }
      const entry = /^ {2}([A-Z][A-Z0-9_]*): (?:'([^'\\]*)'|(\d+)),$/.exec(line);
      if (!entry) throw new Error(`contract.ts:${i + 1}: not a \`KEY: 'value',\` entry of ${name}: ${line}`);
      if (entry[1] in table) throw new Error(`contract.ts:${i + 1}: ${name}.${entry[1]} declared twice`);
      table[entry[1]] = entry[2] !== undefined ? entry[2] : Number(entry[3]);
    }
    tables[name] = table;
  }
  return tables;
}

const worker = parseWorkerContract(fs.readFileSync(WORKER_CONTRACT, 'utf8'));

/** Tables of environment variable names, and what each is for. */
const ENV_TABLES = {
  /** A deployment may set these (the constructs do). */
  settable: ['COMMON_ENV', 'BATCH_ENV', 'SERVICE_ENV'],
  /** The worker sets or uses these itself, or the platform does. */
  other: ['INTERNAL_ENV', 'DEBUG_ENV', 'PLATFORM_ENV', 'PROGRAM_ENV'],
};

function tableOf(name: string): Table {
  const table = worker[name];
  if (!table) throw new Error(`The worker's contract has no table ${name}`);
  return table;
}

function namesOf(...tables: string[]): Set<string> {
  return new Set(tables.flatMap((t) => Object.values(tableOf(t)).map(String)));
}

/** Keys and values of several tables as one, which must not declare a key twice. */
function merged(...tables: string[]): Table {
  const out: Table = {};
  for (const t of tables) {
    for (const [k, v] of Object.entries(tableOf(t))) {
      if (k in out) throw new Error(`${k} is declared in more than one of ${tables.join(', ')}`);
      out[k] = v;
    }
  }
  return out;
}

/** The public static string properties of a class (the construct side's declarations). */
function staticsOf(cls: object): Table {
  return Object.fromEntries(Object.entries(cls).filter(([, v]) => typeof v === 'string' || typeof v === 'number')) as Table;
}

const settableNames = namesOf(...ENV_TABLES.settable);
const platformNames = namesOf('PLATFORM_ENV');
const serviceEnvironmentNames = new Set(Object.values(staticsOf(OcrServiceEnvironment)).map(String));
serviceEnvironmentNames.delete(OcrServiceEnvironment.MODE_SERVICE); // a value of OCR_MODE, not a name
const batchEnvironmentNames = new Set<string>(Object.values(WorkerBatchEnvironment));

const WORKER_IMAGE = '111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0';
const image = ecs.ContainerImage.fromRegistry(WORKER_IMAGE);

/**
 * Names of the environment variables and secrets of the worker's containers (Batch job definitions
 * and ECS task definitions whose image is the worker's; sidecars are not the worker).
 */
function workerContainerNames(build: (stack: Stack) => void): Set<string> {
  const app = newTestApp({ nag: false });
  const stack = newTestStack(app);
  build(stack);
  const template = app.synth().getStackArtifact(stack.artifactId).template;
  const names = new Set<string>();
  let containers = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(visit); return; }
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (JSON.stringify(o.Image ?? '').includes('ocr-worker')) {
      containers++;
      for (const list of [o.Environment, o.Secrets]) {
        for (const e of (list as Array<{ Name: string }> | undefined) ?? []) names.add(e.Name);
      }
    }
    Object.values(o).forEach(visit);
  };
  for (const resource of Object.values<any>(template.Resources)) {
    if (resource.Type === 'AWS::Batch::JobDefinition' || resource.Type === 'AWS::ECS::TaskDefinition') visit(resource.Properties);
  }
  if (containers === 0) throw new Error('No container of the worker image in the template');
  return names;
}

/** Names the constructs set that the worker does not declare, or declares only as internal. */
function undeclared(names: Iterable<string>): string[] {
  return [...names].filter((n) => !settableNames.has(n) && !platformNames.has(n)).sort();
}

describe('(a) what the constructs set, the worker declares', () => {
  const batchConfigurations: Array<[string, Partial<BatchOcrProcessorProps>]> = [
    ['defaults', {}],
    ['native engine', { ocrEngine: OcrEngine.NATIVE_TESSERACT }],
    ['pdf.js renderer, page limit', { ocrEngine: OcrEngine.NATIVE_TESSERACT, pdfRenderer: PdfRenderer.PDF_JS, maxPagesPerDocument: 5 }],
  ];
  test.each(batchConfigurations)('GIVEN BatchOcrProcessor (%s) WHEN synthesized THEN every variable of the worker container is declared on both sides', (_, props) => {
    const names = workerContainerNames((stack) => new BatchOcrProcessor(stack, 'Ocr', { image, ...props }));
    expect(names).toContain(WorkerBatchEnvironment.INPUT_BUCKET);
    expect(undeclared(names)).toEqual([]);
    expect([...names].filter((n) => !batchEnvironmentNames.has(n))).toEqual([]);
  });

  const serviceConfigurations: Array<[string, (stack: Stack) => Partial<OcrServiceClusterProps>]> = [
    ['defaults', () => ({})],
    ['cache on', () => ({ cache: { replicas: 1 } })],
    ['native engine', () => ({ ocrEngine: OcrEngine.NATIVE_TESSERACT })],
    ['tracing off', () => ({ tracing: { enabled: false } })],
    ['tracing to a collector from ECR', (stack) => ({ tracing: { image: ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Collector', 'ecr-public/aws-observability/aws-otel-collector'), 'v0.49.0') } })],
  ];
  test.each(serviceConfigurations)('GIVEN OcrServiceCluster (%s) WHEN synthesized THEN every variable and secret of the worker container is declared on both sides', (_, props) => {
    const names = workerContainerNames((stack) => new OcrServiceCluster(stack, 'Ocr', { image, ...props(stack) }));
    expect(names).toContain(OcrServiceEnvironment.TABLE_NAME);
    expect(undeclared(names)).toEqual([]);
    expect([...names].filter((n) => !serviceEnvironmentNames.has(n))).toEqual([]);
  });

  test('GIVEN the cache WHEN synthesized THEN its AUTH token reaches the worker as the secret the worker reads', () => {
    const names = workerContainerNames((stack) => new OcrServiceCluster(stack, 'Ocr', { image, cache: { replicas: 1 } }));
    expect(names).toContain(tableOf('SERVICE_ENV').REDIS_AUTH_TOKEN);
  });

  describe('SubmitJob containerOverrides', () => {
    const config = configFromEnv({
      OCR_INPUT_BUCKET: 'in',
      OCR_OUTPUT_BUCKET: 'out',
      OCR_OUTPUT_PREFIX: 'results/',
      JOB_TABLE_NAME: 'jobs',
      JOB_QUEUE: 'arn:aws:batch:us-east-1:111111111111:job-queue/ocr',
      JOB_DEFINITION_NAME: 'ocr-worker',
    });
    const jobId = '0b0e7c1e-1111-4222-8333-444455556666';

    async function submitted(documents: string[], options: Record<string, unknown>) {
      const credentials = { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' };
      const clients = {
        s3: new S3Client({ region: 'us-east-1', credentials }),
        batch: new BatchClient({ region: 'us-east-1', credentials }),
        ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials }), { marshallOptions: { removeUndefinedValues: true } }),
        events: new EventBridgeClient({ region: 'us-east-1', credentials }),
      };
      const s3 = mockClient(clients.s3);
      const batch = mockClient(clients.batch);
      const ddb = mockClient(clients.ddb);
      mockClient(clients.events).on(PutEventsCommand).resolves({});
      s3.on(PutObjectCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      ddb.on(UpdateCommand).resolves({});
      batch.on(SubmitJobCommand).resolves({ jobId: 'batch-1', jobName: 'ocr' });
      await submitJob(clients, config, { documents, options }, { source: 'api', jobId });
      const environment = batch.commandCalls(SubmitJobCommand)[0].args[0].input.containerOverrides?.environment ?? [];
      return { names: environment.map((e) => e.name!), manifestKeys: s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key) };
    }

    test.each([
      ['one document with options', ['a.pdf'], { languages: ['eng'], dpi: 200, maxPages: 3 }],
      ['one document with a password (manifest)', ['a.pdf'], { password: 'secret' }],
      ['an array of documents', ['a.pdf', 'b.pdf', 'c.pdf'], {}],
    ])('GIVEN %s WHEN submitted THEN every override is declared on both sides', async (_, documents, options) => {
      const { names } = await submitted(documents as string[], options);
      expect(names).toContain(WorkerBatchEnvironment.JOB_ID);
      expect(undeclared(names)).toEqual([]);
      expect(names.filter((n) => !batchEnvironmentNames.has(n))).toEqual([]);
    });

    test('GIVEN several documents WHEN submitted THEN the manifest is where the contract puts it', async () => {
      const { names, manifestKeys } = await submitted(['a.pdf', 'b.pdf'], {});
      expect(names).toContain(WorkerBatchEnvironment.MANIFEST_KEY);
      expect(manifestKeys).toEqual([workerManifestKey(config.outputPrefix, jobId)]);
    });
  });
});

describe('(b) the worker reads its environment only through its contract', () => {
  const declared = namesOf(...ENV_TABLES.settable, ...ENV_TABLES.other);
  const sources = (fs.readdirSync(path.join(WORKER_ROOT, 'src'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && f !== 'contract.ts')
    .map((f) => ({ file: f, text: fs.readFileSync(path.join(WORKER_ROOT, 'src', f), 'utf8') }));

  test('GIVEN the worker sources THEN there are some, and they use the contract', () => {
    expect(sources.length).toBeGreaterThan(10);
    expect(sources.some((s) => /env\[(COMMON|BATCH|SERVICE)_ENV\.[A-Z_]+\]/.test(s.text))).toBe(true);
  });

  test('GIVEN the worker sources THEN no environment variable is read by a literal name', () => {
    const found: string[] = [];
    for (const { file, text } of sources) {
      // `process.env.NAME`, `env.NAME`, `env?.NAME`
      for (const m of text.matchAll(/\benv\??\.([A-Za-z_][A-Za-z0-9_]*)/g)) found.push(`${file}: env.${m[1]}`);
      // `env['NAME']`, `env["NAME"]`, env[`NAME`]
      for (const m of text.matchAll(/\benv\[\s*(['"`])([^'"`]*)\1\s*\]/g)) found.push(`${file}: env['${m[2]}']`);
      // a declared name as a whole string literal (passed to a helper that reads it)
      for (const m of text.matchAll(/(['"`])([A-Z][A-Z0-9_]*)\1/g)) if (declared.has(m[2])) found.push(`${file}: '${m[2]}'`);
    }
    expect(found).toEqual([]);
  });

  test('GIVEN the worker sources THEN every contract table they index the environment with is an environment table', () => {
    const envTables = new Set([...ENV_TABLES.settable, ...ENV_TABLES.other]);
    const used = sources.flatMap(({ file, text }) => [...text.matchAll(/\benv\[([A-Z_]+)\.([A-Z0-9_]+)\]/g)].map((m) => ({ file, table: m[1], key: m[2] })));
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((u) => !envTables.has(u.table) || !(u.key in tableOf(u.table)))).toEqual([]);
  });
});

describe('(c) both sides declare the same names and values', () => {
  test('GIVEN the worker contract THEN no environment variable is declared twice', () => {
    const all = [...ENV_TABLES.settable, ...ENV_TABLES.other].flatMap((t) => Object.values(tableOf(t)).map(String));
    expect(all.filter((n, i) => all.indexOf(n) !== i)).toEqual([]);
  });

  test('GIVEN WorkerBatchEnvironment THEN it is the worker\'s Batch variables plus the common ones the constructs set', () => {
    const workerSide = merged('COMMON_ENV', 'BATCH_ENV');
    expect(Object.entries(WorkerBatchEnvironment).filter(([k, v]) => workerSide[k] !== v)).toEqual([]);
    expect(Object.keys(tableOf('BATCH_ENV')).filter((k) => !(k in WorkerBatchEnvironment))).toEqual([]);
  });

  test('GIVEN OcrServiceEnvironment THEN each of its names is the worker\'s service or common variable of that key', () => {
    const workerSide = merged('COMMON_ENV', 'SERVICE_ENV', 'SERVICE_MODE');
    expect(Object.entries(staticsOf(OcrServiceEnvironment)).filter(([k, v]) => workerSide[k] !== v)).toEqual([]);
  });

  test('GIVEN WorkerExitCode THEN the worker exits with those codes for those reasons', () => {
    const exit = tableOf('EXIT');
    expect(Object.entries(WorkerExitCode).filter(([k, v]) => exit[k] !== v)).toEqual([]);
    expect(WorkerExitCode.INFRA).toBe(75);
  });

  test('GIVEN WorkerResultLayout THEN the worker writes its objects there', () => {
    const layout = tableOf('RESULT_LAYOUT');
    expect(Object.entries(WorkerResultLayout).filter(([k, v]) => layout[k] !== v)).toEqual([]);
    expect(Object.keys(WorkerResultLayout).length).toBeGreaterThanOrEqual(4);
  });

  test('GIVEN the Textract page objects THEN each is one GetDocumentTextDetection page of the largest size, beside NNNNN.textract.json', () => {
    expect(WorkerResultLayout.TEXTRACT_PAGE_BLOCKS).toBe(MAX_RESULTS_LIMIT);
    expect(workerTextractPageKey('results/', 'job-1', 3, 2)).toBe('results/job-1/results/00003.textract/2');
  });
});

describe('parseWorkerContract', () => {
  test('GIVEN a well-formed table THEN it reads its entries', () => {
    expect(parseWorkerContract("export const T = {\n  /** a */\n  A: 'X',\n  /**\n   * b\n   */\n  B: 7,\n} as const;\n")).toEqual({ T: { A: 'X', B: 7 } });
  });

  test.each([
    ['an entry of another shape', 'export const T = {\n  A: `X`,\n} as const;\n', /not a `KEY: 'value',` entry/],
    ['two entries on one line', "export const T = {\n  A: 'X', B: 'Y',\n} as const;\n", /not a `KEY: 'value',` entry/],
    ['a computed value', "export const T = {\n  A: PREFIX + 'X',\n} as const;\n", /not a `KEY: 'value',` entry/],
    ['no end', "export const T = {\n  A: 'X',", /has no `} as const;`/],
    ['an exported constant that is no table', "export const T = ['X'];\n", /must be a table/],
    ['a key declared twice', "export const T = {\n  A: 'X',\n  A: 'Y',\n} as const;\n", /declared twice/],
  ])('GIVEN %s THEN it throws', (_, text, error) => {
    expect(() => parseWorkerContract(text)).toThrow(error);
  });
});
