/**
 * The README's construct sections are the user documentation in docs/<construct>.md, one heading level
 * down, in a fixed order. Writing the docs once keeps README and docs from drifting apart.
 *   npx projen docs:readme      (test/readme.test.ts fails when README is stale)
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
export const SECTIONS_START = '<!-- sections:start -->';
export const SECTIONS_END = '<!-- sections:end -->';

/** The order constructs are presented in; each has docs/<name>.md. */
export const SECTION_DOCS = ['cost-optimized-vpc', 'batch-ocr-processor', 'ecr-batch-auto-updater', 'job-cleanup', 'ocr-service-cluster'];

export function demote(markdown: string): string {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    return !fenced && /^#{1,5} /.test(line) ? `#${line}` : line;
  }).join('\n');
}

/** After every TypeScript block, the (empty) markers that `translateReadme` fills with Python and Java. */
export function withTranslationMarkers(markdown: string): string {
  return markdown.replace(/(```ts\n[\s\S]*?```)\n(?!<!-- translations:start -->)/g, '$1\n<!-- translations:start -->\n<!-- translations:end -->\n');
}

export function composeSections(): string {
  return SECTION_DOCS
    .filter((name) => fs.existsSync(path.join(ROOT, 'docs', `${name}.md`)))
    .map((name) => withTranslationMarkers(demote(fs.readFileSync(path.join(ROOT, 'docs', `${name}.md`), 'utf8').trim()) + '\n').trim())
    .join('\n\n');
}

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { replaceBetween } = require('./cost-table') as typeof import('./cost-table');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readTablet, translateReadme } = require('./readme-snippets') as typeof import('./readme-snippets');
  const file = path.join(ROOT, 'README.md');
  const composed = replaceBetween(fs.readFileSync(file, 'utf8'), SECTIONS_START, SECTIONS_END, composeSections());
  fs.writeFileSync(file, composed);
  console.log('README construct sections updated from docs/');
  try {
    fs.writeFileSync(file, translateReadme(composed, readTablet()));
    console.log('README translations filled in from .jsii.tabl.json');
  } catch (e) {
    console.log(`Translations not filled in: ${(e as Error).message.split('\n')[0]}. Run \`npx projen compile\`, then this task again.`);
  }
}
