/**
 * Python and Java versions of the README's TypeScript snippets, translated by jsii-rosetta (which also
 * compiled each snippet during `projen compile`). A TypeScript block followed by
 * `<!-- translations:start -->` / `<!-- translations:end -->` gets the translations between the markers.
 *   npx projen docs:snippets     (after `npx projen compile`, which writes .jsii.tabl.json)
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
export const TR_START = '<!-- translations:start -->';
export const TR_END = '<!-- translations:end -->';

interface Tablet { snippets: Record<string, { translations: Record<string, { source: string }>; didCompile?: boolean }> }

export function translateReadme(readme: string, tablet: Tablet): string {
  const byTs = new Map<string, Record<string, { source: string }>>();
  for (const s of Object.values(tablet.snippets)) byTs.set(s.translations.$.source.trim(), s.translations);
  const pattern = /```ts\n([\s\S]*?)```\s*\n<!-- translations:start -->[\s\S]*?<!-- translations:end -->/g;
  return readme.replace(pattern, (_all, ts: string) => {
    const tr = byTs.get(ts.trim());
    if (!tr) throw new Error(`no jsii-rosetta translation for README snippet:\n${ts}\n(run \`npx projen compile\` first)`);
    return [
      '```ts', ts.trimEnd(), '```', TR_START,
      '<details><summary>Python</summary>', '', '```python', tr.python.source.trimEnd(), '```', '', '</details>',
      '<details><summary>Java</summary>', '', '```java', tr.java.source.trimEnd(), '```', '', '</details>',
      TR_END,
    ].join('\n');
  });
}

export function readTablet(): Tablet {
  return JSON.parse(fs.readFileSync(path.join(ROOT, '.jsii.tabl.json'), 'utf8')) as Tablet;
}

if (require.main === module) {
  const file = path.join(ROOT, 'README.md');
  fs.writeFileSync(file, translateReadme(fs.readFileSync(file, 'utf8'), readTablet()));
  console.log('README translations updated');
}
