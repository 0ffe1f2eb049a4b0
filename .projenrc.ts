import { awscdk, DependencyType, javascript } from 'projen';

/**
 * cdk-ocr-constructs: self-hosted document OCR on AWS as CDK constructs.
 *
 * Version choices (README "Versions" explains them to users):
 * - aws-cdk-lib peer floor 2.257.0: the first release whose `Validations.of(x).acknowledge()`
 *   cdk-nag 3 reads (cdk-nag 3 itself requires ^2.257.0). Our constructs acknowledge their
 *   by-design findings through that API, so older releases cannot carry them.
 * - aws-cdk-lib 2.276.0 for development and tests: the newest release, which validates every
 *   synthesized template against the CloudFormation resource schemas. The test helpers turn
 *   those findings into errors, the closest thing to a deployment this project can run.
 * - aws-cdk CLI 2.1148.x: the `latest` dist-tag (3.0.0) cannot read the cloud assemblies that
 *   current aws-cdk-lib writes.
 */
const MIN_CDK_VERSION = '2.257.0';
const TEST_CDK_VERSION = '2.276.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ocr-constructs',
  description:
    'Self-hosted document OCR on AWS: Batch on Fargate, an ECS service, a NAT-free VPC with honest costs, and the operations around them.',
  author: 'cdk-ocr-constructs developers',
  authorAddress: 'maintainers@cdk-ocr-constructs.dev',
  repositoryUrl: 'https://github.com/cdk-ocr-constructs/cdk-ocr-constructs.git',
  license: 'Apache-2.0',
  keywords: ['cdk', 'awscdk', 'ocr', 'tesseract', 'aws-batch', 'fargate', 'vpc-endpoints', 'qr-code'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  jsiiVersion: '~6.0.0',
  cdkVersion: MIN_CDK_VERSION,
  constructsVersion: '10.5.1',
  // Build and test against TEST_CDK_VERSION (devDeps below), not the peer floor.
  peerDependencyOptions: { pinnedDevDependency: false },
  // The README quick start and .ci/run are the CI of record; no GitHub workflows are generated.
  github: false,
  release: false,
  tsconfigDevFile: 'tsconfig.dev.json',
  // Tests live beside the code they test (src/<construct>/*.test.ts); jsii must not compile them.
  excludeTypescript: ['src/**/*.test.ts'],

  publishToPypi: {
    distName: 'cdk-ocr-constructs',
    module: 'cdk_ocr_constructs',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkocrconstructs',
    mavenGroupId: 'io.github.cdkocrconstructs',
    mavenArtifactId: 'cdk-ocr-constructs',
  },

  // Lambda handlers: `*.lambda.ts` next to their construct; bundles land in assets/lambda
  // (gitignored) so that committed folders under assets/ (the OCR worker) stay in git.
  lambdaAutoDiscover: true,
  bundlerOptions: { assetsDir: 'assets/lambda' },
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_24_X,
    bundlingOptions: {
      externals: ['@aws-sdk/*'],
      // No source maps: they would triple each function's package (and the npm package) for stack
      // traces that the handlers' structured error logs already make readable.
      sourcemap: false,
    },
  },

  // Lint everything against tsconfig.dev.json (the jsii tsconfig leaves out tests and examples).
  eslintOptions: { dirs: ['src'], devdirs: ['test', 'build-tools', 'examples'], projectService: false, tsconfigPath: './tsconfig.dev.json' },

  jestOptions: {
    passWithNoTests: false,
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/assets/', '/examples/.*/cdk.out/'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      // Synthesizing with schema validation and two cdk-nag majors takes a while per stack.
      testTimeout: 180_000,
      // The run's temporary files (cloud assemblies of apps without an outdir) go to one folder that
      // is removed when the run ends: see test/helpers/jest-tmpdir.ts.
      globalSetup: '<rootDir>/test/helpers/jest-global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/jest-global-teardown.ts',
    },
  },

  devDeps: [
    `aws-cdk-lib@${TEST_CDK_VERSION}`,
    'aws-cdk@~2.1148.0',
    // Compliance harness: both cdk-nag majors side by side, as users run either.
    'cdk-nag@^3.0.2',
    'cdk-nag-v2@npm:cdk-nag@^2.38.2',
    // AWS Control Tower's proactive controls as cfn-guard rules (offline, at synth).
    '@cdklabs/cdk-validator-cfnguard@^0.0.62',
    // Handler libraries are bundled by esbuild; @aws-sdk/* is provided by the Lambda runtime.
    '@aws-sdk/client-api-gateway',
    '@aws-sdk/credential-providers',
    '@smithy/hash-node',
    '@smithy/signature-v4',
    '@aws-sdk/client-batch',
    '@aws-sdk/client-cloudwatch',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-ecr',
    '@aws-sdk/client-ecs',
    '@aws-sdk/client-eventbridge',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-sqs',
    // The job state handler publishes Textract's completion messages to the topics callers name.
    '@aws-sdk/client-sns',
    // Amazon Textract's client: the docs' snippets and the Textract-compatible API's tests use it.
    '@aws-sdk/client-textract',
    // AWS's parser of Textract responses: the Textract-compatible API's tests read its answers with it.
    'amazon-textract-response-parser@0.4.3',
    '@aws-sdk/lib-dynamodb',
    '@aws-sdk/s3-request-presigner',
    '@aws-lambda-powertools/logger',
    '@aws-lambda-powertools/metrics',
    '@aws-lambda-powertools/idempotency',
    '@aws-lambda-powertools/tracer',
    '@types/aws-lambda',
    'aws-sdk-client-mock',
    'aws-sdk-client-mock-jest',
    'ajv@^8.17.1',
    'ajv-draft-04',
    'esbuild',
  ],
});

// The registry reachable here serves some packages' per-platform optional builds only for Linux, so
// `npm install` leaves the other platforms' entries out of package-lock.json, and `npm ci` on a fresh
// clone then refuses the lockfile. After every install, put those entries back (see the script).
project.tasks.tryFind('install')?.exec('node build-tools/portable-lockfile.js');

// The peer floor is also what jsii compiles against for constructs (pinnedDevDependency is off above).
project.deps.addDependency('constructs@10.5.1', DependencyType.BUILD);

project.gitignore.exclude('/assets/lambda/', 'cdk.out/', '/examples/**/cdk.out/', '/dist/');

// The npm package: compiled library, handler bundles, the worker's source, lockfile and Dockerfile,
// API.md and README — not examples, build tools, docs, the worker's node_modules, tests, benchmarks or dev tools.
for (const pattern of [
  '/examples/', '/build-tools/', '/docs/', '/.ci/', 'cdk.out/', '*.tsbuildinfo',
  '/assets/ocr-worker/node_modules/', '/assets/ocr-worker/test/', '/assets/ocr-worker/bench/',
  '/assets/ocr-worker/scratch/', '/assets/ocr-worker/dist/', '/assets/ocr-worker/.cache/', '/assets/ocr-worker/tools/',
]) {
  project.addPackageIgnore(pattern);
}

// Handler code under src/ (the *.lambda.ts files and the modules they import) uses devDependencies
// that esbuild bundles; tests beside the code use test-only ones. A construct module importing one by
// mistake is caught by test/package.test.ts, whose scratch app loads the packed library with only its
// real dependencies installed.
project.eslint?.allowDevDeps('src/**');

// examples/ are type-checked together with the tests (tsconfig.dev.json) and synthesized by test/examples.
project.tsconfigDev.addInclude('examples/**/*.ts');
project.tsconfigDev.addInclude('.projenrc.ts');
project.tsconfigDev.addExclude('assets');
project.tsconfigDev.addExclude('**/cdk.out');
project.tsconfigDev.addExclude('dist');
project.eslint?.addIgnorePattern('**/cdk.out/');

// --- The OCR worker (assets/ocr-worker): its own package, lockfile and Node 24 toolchain. ---
const WORKER = 'assets/ocr-worker';
const workerInstall = project.addTask('worker:install', {
  description: 'Install the OCR worker package (its own lockfile; brings its own Node 24 binary)',
  exec: `npm ci --prefix ${WORKER} --no-audit --no-fund`,
});
const workerTest = project.addTask('worker:test', {
  description: 'Run the OCR worker test suite on the worker\'s Node major',
  exec: `npm --prefix ${WORKER} test`,
});
workerTest.prependSpawn(workerInstall);
project.testTask.spawn(workerTest);
// The worker's container image, built with buildah (no Docker engine): both OCR engines, linux/amd64.
// The worker tests build it through this script too (test/image-build.test.ts) and run it.
project.addTask('worker:image', {
  description: 'Build the OCR worker image with buildah (both OCR engines; options: --engine E, --file DOCKERFILE, --tag-prefix NAME)',
  exec: 'build-tools/worker-image.sh',
  receiveArgs: true,
});

// The local commands install the worker on first use only, so that later runs start at once.
const installWorkerOnce = { exec: `[ -x ${WORKER}/node_modules/.bin/node ] || npm ci --prefix ${WORKER} --no-audit --no-fund` };
project.addTask('serve', {
  description: 'Run the OCR HTTP service locally (in-memory storage, no AWS): npm run serve, then http://127.0.0.1:8000',
  steps: [installWorkerOnce, { exec: `npm --prefix ${WORKER} run serve` }],
});
project.addTask('ocr', {
  description: 'OCR local files with the worker engine: npm run ocr -- FILE...',
  steps: [installWorkerOnce, { exec: `${WORKER}/bin/ocr`, receiveArgs: true }],
});

// --- Bindings: Python and Java source from jsii-pacmak (publishing needs PyPI/Maven Central). ---
const bindings = project.addTask('package:bindings', {
  description: 'Generate Python and Java binding source (code only) and byte-compile the Python',
  steps: [
    // --code-only writes to the jsii outdir: dist/python and dist/java.
    { exec: 'jsii-pacmak --targets python,java --code-only' },
    { exec: 'python3 -m compileall -q dist/python/src' },
  ],
});
project.packageTask.spawn(bindings);

// README TypeScript snippets must compile (jsii-rosetta, strict); Construct Hub translates them itself.
const rosetta = project.addTask('rosetta:check', {
  description: 'Compile every TypeScript snippet in README and API docs (jsii-rosetta, strict)',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);
project.gitignore.exclude('.jsii.tabl.json');

// --- Documentation generated from code (between markers in docs/; tests check they are current). ---
project.addTask('docs:cost', {
  description: 'Regenerate the cost estimate\'s measured inputs (from the worker\'s bench/ files), the network cost table in docs/cost-optimized-vpc.md and docs/cost.md',
  steps: [
    { exec: 'ts-node --transpile-only build-tools/measurements.ts' },
    { exec: 'ts-node --transpile-only build-tools/cost-table.ts' },
    { exec: 'ts-node --transpile-only build-tools/cost-doc.ts' },
  ],
});

project.addTask('docs:nag', {
  description: 'Regenerate docs/nag-acknowledgements.json and the table in docs/compliance.md from the example apps',
  exec: 'ts-node --transpile-only build-tools/nag-acknowledgements.ts',
});
project.addTask('docs:diagram', {
  description: 'Regenerate docs/architecture.png from the batch-ocr example (needs graphviz)',
  exec: 'ts-node --transpile-only build-tools/diagram.ts batch-ocr',
});

// --- The main job on local defaults: OCR the sample documents, synthesize the example apps. ---
project.addTask('demo', {
  description: 'OCR the bundled sample documents with the worker engine, then synthesize every example app',
  steps: [
    { spawn: workerInstall.name },
    { exec: `npm --prefix ${WORKER} run build --if-present` },
    // The example apps reference the Lambda handler bundles, which are build output (gitignored).
    { spawn: project.bundler.bundleTask.name },
    { exec: `${WORKER}/bin/ocr ${WORKER}/samples/*.pdf ${WORKER}/samples/*.png ${WORKER}/samples/*.tif` },
    { exec: 'ts-node --transpile-only build-tools/synth-examples.ts' },
  ],
});

// Opt-in, never in CI: deploy an example to a real account, OCR a sample through its front door, destroy it.
project.addTask('deploy:check', {
  description: 'Deploy example apps to the AWS account of your credentials, send a sample document through each, destroy them: npm run deploy:check -- batch-ocr',
  steps: [{ spawn: project.bundler.bundleTask.name }, { exec: 'ts-node --transpile-only build-tools/deploy-check.ts', receiveArgs: true }],
});

project.addTask('bench', {
  description: 'Benchmark the OCR engine against native Tesseract and load-test the local service; writes the results under assets/ocr-worker/bench/',
  steps: [
    { spawn: workerInstall.name },
    { exec: `npm --prefix ${WORKER} run bench` },
  ],
});

// Handler bundles minified (smaller packages, faster cold starts), with names kept so that error
// stacks in the handlers' logs stay readable. projen's lambda bundling options have no minify switch.
for (const task of project.tasks.all.filter((t) => /^bundle:.*\.lambda$/.test(t.name))) {
  task.steps.forEach((step, index) => {
    if (step.execArgs?.[0] === 'esbuild') task.updateStep(index, { ...step, execArgs: [...step.execArgs, '--minify', '--keep-names'] });
  });
}

project.synth();
