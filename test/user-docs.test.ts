/**
 * What users read — README, API.md (from doc comments), CHANGELOG, docs/, the examples and the
 * CloudFormation they synthesize — speaks about the library: no references to the internal notes,
 * tickets or planning documents it grew from; links that resolve; TypeScript snippets that compile.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as ts from 'typescript';
import { exampleNames, loadExample } from '../build-tools/nag-acknowledgements';

const ROOT = path.join(__dirname, '..');

function filesUnder(dir: string, pattern: RegExp): string[] {
  const full = path.join(ROOT, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(f) && !f.split(path.sep).includes('cdk.out') && !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join(dir, f));
}

const MARKDOWN = ['README.md', 'API.md', 'CHANGELOG.md', 'CONTRIBUTING.md', 'assets/ocr-worker/README.md',
  ...filesUnder('docs', /\.md$/), ...filesUnder('assets/ocr-worker/bench', /\.md$/)];
const USER_FACING = [...MARKDOWN, ...filesUnder('examples', /\.ts$/)];

/** Ways of pointing at documents users never see: planning notes, design seeds, tickets. */
const INTERNAL_REFERENCES: RegExp[] = [
  /\bseeds?\b/i,
  /DESIGN\.md/,
  /\bissues?\s*#?\d+/i,
  /\bthe issue\b/i,
  /\b(?:tickets?|backlog item)\s*#?\d+/i,
];

function internalReferences(text: string): string[] {
  return INTERNAL_REFERENCES.flatMap((re) => {
    const m = text.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'));
    return m ?? [];
  });
}

describe('user-facing text', () => {
  test.each(USER_FACING)('GIVEN %s THEN it refers to no internal notes or tickets', (file) => {
    expect(internalReferences(fs.readFileSync(path.join(ROOT, file), 'utf8'))).toEqual([]);
  });

  test('GIVEN the reference patterns THEN they catch what they are meant to catch', () => {
    expect(internalReferences('as seed 003 says, see DESIGN.md and issue #12')).toEqual(['seed', 'DESIGN.md', 'issue #12']);
    expect(internalReferences('The cleanup issues a CancelJob for a stuck job.')).toEqual([]);
  });

  test.each(exampleNames())('GIVEN the CloudFormation of examples/%s THEN its descriptions and outputs refer to no internal notes', (name) => {
    const app = new App();
    loadExample(name)(app);
    for (const stack of app.synth().stacks) {
      expect(internalReferences(JSON.stringify(stack.template))).toEqual([]);
    }
  });

  test.each(MARKDOWN.filter((f) => f !== 'API.md'))('GIVEN the relative links of %s THEN each names a file that exists', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
    for (const target of targets) {
      expect({ target, exists: fs.existsSync(path.join(ROOT, path.dirname(file), target)) }).toEqual({ target, exists: true });
    }
  });
});

describe('TypeScript snippets in README and docs/', () => {
  /** Each ```ts block of the library's docs, compiled as its own module against the library's source. */
  const snippets = ['README.md', ...filesUnder('docs', /\.md$/)].flatMap((file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ file, index: i, code: m[1] }));
  });

  test('GIVEN every snippet THEN it type-checks (README snippets are also compiled by jsii-rosetta)', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    const virtual = new Map(snippets.map((s) => [path.join(ROOT, 'test', `__snippet_${s.file.replace(/[^A-Za-z0-9]/g, '_')}_${s.index}.ts`), s]));
    const options: ts.CompilerOptions = {
      noEmit: true,
      strict: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      types: [],
      baseUrl: ROOT,
      paths: { 'cdk-ocr-constructs': ['src/index.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    // `export {}` makes each snippet a module, so two snippets may both declare `app`.
    const source = (f: string) => (virtual.has(f) ? `${virtual.get(f)!.code}\nexport {};\n` : undefined);
    host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
    host.readFile = (f) => source(f) ?? readFile.call(host, f);
    host.getSourceFile = (f, lang, ...rest) => {
      const text = source(f);
      return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
    };
    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file && virtual.has(d.file.fileName))
      .map((d) => `${virtual.get(d.file!.fileName)!.file} snippet ${virtual.get(d.file!.fileName)!.index + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 180_000);
});
